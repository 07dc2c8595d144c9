"""A tiny HTTP/1.1 backend on asyncio streams, for tests of the upstream client and the HTTP
integrations: it records what it read and answers with whatever a test's handler writes."""

from __future__ import annotations

import asyncio
import hashlib
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from authgate.http1.client import Url


@dataclass
class Seen:
    """One request as the backend read it."""

    method: str
    target: str
    headers: list[tuple[str, str]]
    body: bytes = b""
    body_size: int = 0
    body_sha: str = ""

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name:
                return value
        return None


Handler = Callable[[Seen, asyncio.StreamReader, asyncio.StreamWriter, int], Awaitable[bool]]
"""(request, reader, writer, connection number) → keep the connection open?"""


async def _read_body(reader: asyncio.StreamReader, seen: Seen, keep: bool) -> None:
    """Read a Content-Length or chunked body; keep it only when asked (big bodies are hashed)."""
    digest = hashlib.sha256()
    parts: list[bytes] = []

    def take(data: bytes) -> None:
        digest.update(data)
        seen.body_size += len(data)
        if keep:
            parts.append(data)

    if (seen.header("transfer-encoding") or "").lower() == "chunked":
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await reader.readuntil(b"\r\n")
                break
            while size:
                data = await reader.read(min(size, 65536))
                if not data:
                    raise ConnectionError("eof in chunk")
                take(data)
                size -= len(data)
            await reader.readexactly(2)
    else:
        remaining = int(seen.header("content-length") or 0)
        while remaining:
            data = await reader.read(min(remaining, 65536))
            if not data:
                raise ConnectionError("eof in body")
            take(data)
            remaining -= len(data)
    seen.body = b"".join(parts)
    seen.body_sha = digest.hexdigest()


@dataclass
class Backend:
    handler: Handler
    keep_bodies: bool = True
    ssl_context: ssl.SSLContext | None = None
    connections: int = 0
    requests: list[Seen] = field(default_factory=list)
    port: int = 0
    _server: asyncio.Server | None = None
    _writers: list[asyncio.StreamWriter] = field(default_factory=list)

    async def __aenter__(self) -> Backend:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=self.ssl_context)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for writer in self._writers:
            writer.transport.abort()
        await asyncio.wait_for(self._server.wait_closed(), 5)

    def url(self, target: str = "/", scheme: str = "http") -> Url:
        return Url.parse(f"{scheme}://127.0.0.1:{self.port}{target}")

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        number = self.connections
        self._writers.append(writer)
        try:
            for _ in range(1000):
                try:
                    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                method, target, _ = lines[0].split(" ", 2)
                headers = [
                    (k, v.strip()) for k, _, v in (ln.partition(":") for ln in lines[1:] if ln)
                ]
                seen = Seen(method, target, headers)
                await _read_body(reader, seen, self.keep_bodies)
                self.requests.append(seen)
                if not await self.handler(seen, reader, writer, number):
                    return
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        finally:
            writer.transport.abort()


def reply(
    status: int = 200, body: bytes = b"ok", headers: tuple[tuple[str, str], ...] = ()
) -> Handler:
    async def handle(
        seen: Seen, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int
    ) -> bool:
        head = f"HTTP/1.1 {status} X\r\nContent-Length: {len(body)}\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in headers)
        writer.write(head.encode() + b"\r\n" + (b"" if seen.method == "HEAD" else body))
        await writer.drain()
        return True

    return handle
