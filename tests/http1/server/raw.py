"""A raw HTTP/1.1 client on asyncio streams: it writes exactly the bytes a test gives it and
reads responses byte for byte, so tests see the framing the server really sent."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field

TIMEOUT = 5.0
"""Upper bound on every read; nothing in these tests waits longer."""


@dataclass
class Reply:
    status: int
    headers: list[tuple[str, str]]
    body: bytes = b""
    chunks: list[bytes] = field(default_factory=list)
    """The chunk payloads as framed on the wire, for chunked responses."""

    def header(self, name: str) -> str | None:
        values = [v for k, v in self.headers if k.lower() == name]
        return ",".join(values) if values else None

    def names(self) -> list[str]:
        return [k.lower() for k, _ in self.headers]


class Raw:
    """One client connection."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, address: tuple[str, int]) -> Raw:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(*address, limit=1 << 20), TIMEOUT
        )
        return cls(reader, writer)

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await asyncio.wait_for(self.writer.drain(), TIMEOUT)

    async def head(self, within: float = TIMEOUT) -> Reply:
        raw = await asyncio.wait_for(self.reader.readuntil(b"\r\n\r\n"), within)
        lines = raw[:-4].decode("latin-1").split("\r\n")
        version, status, *_ = lines[0].split(" ", 2)
        assert version == "HTTP/1.1", lines[0]
        headers = []
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers.append((name, value.strip()))
        return Reply(int(status), headers)

    async def reply(self, *, head_only: bool = False, within: float = TIMEOUT) -> Reply:
        """Read one response; its body by its framing (none for HEAD, 1xx, 204, 304)."""
        reply = await self.head(within)
        if head_only or reply.status < 200 or reply.status in (204, 304):
            return reply
        if (reply.header("transfer-encoding") or "").lower() == "chunked":
            while True:
                size_line = await asyncio.wait_for(self.reader.readuntil(b"\r\n"), within)
                size = int(size_line.split(b";")[0], 16)
                data = await asyncio.wait_for(self.reader.readexactly(size + 2), within)
                assert data[-2:] == b"\r\n"
                if size == 0:
                    break
                reply.chunks.append(data[:-2])
            reply.body = b"".join(reply.chunks)
        elif (length := reply.header("content-length")) is not None:
            reply.body = await asyncio.wait_for(self.reader.readexactly(int(length)), within)
        else:
            reply.body = await asyncio.wait_for(self.reader.read(), within)
        return reply

    async def request(self, data: bytes, **kwargs: bool) -> Reply:
        await self.send(data)
        return await self.reply(**kwargs)

    async def closed(self, within: float = TIMEOUT) -> bool:
        """True when the server closed the connection with nothing more to say."""
        try:
            rest = await asyncio.wait_for(self.reader.read(), within)
        except ConnectionResetError:
            return True
        return rest == b""

    async def still_open(self, wait: float = 0.1) -> bool:
        """True when nothing (not even EOF) arrives within `wait` seconds."""
        try:
            await asyncio.wait_for(self.reader.read(1), wait)
        except TimeoutError:
            return True
        return False  # EOF or unexpected bytes

    def close(self) -> None:
        self.writer.close()

    async def aclose(self) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError, TimeoutError):
            await asyncio.wait_for(self.writer.wait_closed(), TIMEOUT)


def get(path: str = "/", *headers: str, method: str = "GET", version: str = "1.1") -> bytes:
    lines = [f"{method} {path} HTTP/{version}", "Host: test", *headers, "", ""]
    return "\r\n".join(lines).encode("latin-1")
