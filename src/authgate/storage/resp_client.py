"""A Redis client for the counter store: one connection, every command pipelined on it.

Replies come back in the order commands were sent, so each command in flight is a future in a
queue and each parsed reply resolves the oldest one. A request's counter call then costs one
write and one small parse; redis-py's asyncio client spent ~100 µs of Python on every command,
more than the whole rest of an API-key request.

A lost connection fails every command in flight with Unavailable, and the next command
connects again (callers arriving meanwhile share one attempt). A command left unanswered for
`timeout` seconds ends the connection the same way: the replies behind it could no longer be
matched to their commands.
"""

from __future__ import annotations

import asyncio
import ssl
from collections import deque
from dataclasses import dataclass
from typing import Final, cast
from urllib.parse import parse_qsl, unquote, urlsplit

from authgate.storage.resp_wire import (
    Arg,
    ProtocolError,
    Reply,
    ReplyError,
    ReplyReader,
    encode,
)

__all__ = ["Address", "RespClient", "Unavailable"]

DEFAULT_PORT: Final = 6379


class Unavailable(Exception):
    """Redis could not be reached, or did not answer in time."""


@dataclass(frozen=True, slots=True)
class Address:
    """Where Redis is and how to log in, from a `redis://` or `rediss://` URL."""

    host: str
    port: int = DEFAULT_PORT
    db: int = 0
    username: str | None = None
    password: str | None = None
    tls: bool = False
    timeout: float = 1.0
    """Seconds for connecting, and for each reply."""

    def __repr__(self) -> str:
        # the password stays out of logs
        scheme = "rediss" if self.tls else "redis"
        return f"Address({scheme}://{self.host}:{self.port}/{self.db}, timeout={self.timeout})"

    @classmethod
    def from_url(cls, url: str, *, timeout: float = 1.0) -> Address:
        """`redis://[[user]:password@]host[:port][/db][?socket_timeout=S]`; `rediss://` for
        TLS. An option in the URL wins over the argument; an unknown one is an error."""
        parts = urlsplit(url)
        if parts.scheme not in ("redis", "rediss"):
            raise ValueError(f"not a redis:// or rediss:// URL: {parts.scheme}://…")
        if not parts.hostname:
            raise ValueError("the Redis URL names no host")
        for name, value in parse_qsl(parts.query, keep_blank_values=True):
            if name not in ("socket_timeout", "timeout"):
                raise ValueError(f"unsupported Redis URL option {name!r}")
            timeout = float(value)
        if not timeout > 0:
            raise ValueError("the Redis timeout must be a positive number of seconds")
        path = parts.path.strip("/")
        if path and not path.isdigit():
            raise ValueError(f"the Redis database must be a number, not {path!r}")
        return cls(
            host=parts.hostname,
            port=parts.port or DEFAULT_PORT,
            db=int(path or 0),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password is not None else None,
            tls=parts.scheme == "rediss",
            timeout=timeout,
        )


class RespClient:
    """Commands to one Redis server over one lazily (re)connected connection."""

    def __init__(self, address: Address) -> None:
        self.address = address
        self._connection: _Connection | None = None
        self._connecting: asyncio.Future[_Connection] | None = None
        self._closed = False

    async def execute(self, *args: Arg) -> Reply:
        """Send one command and return its reply. Raises ReplyError for an error reply and
        Unavailable when Redis cannot be reached or does not answer within the timeout."""
        connection = self._connection
        if connection is None or connection.lost:
            connection = await self._connected()
        return await connection.send(encode(args))

    async def aclose(self) -> None:
        self._closed = True
        connecting = self._connecting
        if connecting is not None:
            connecting.cancel()
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    async def _connected(self) -> _Connection:
        if self._closed:
            raise Unavailable("the Redis client is closed")
        connecting = self._connecting
        if connecting is None:
            connecting = self._connecting = asyncio.ensure_future(self._connect())
            connecting.add_done_callback(self._connect_done)
        return await asyncio.shield(connecting)

    def _connect_done(self, connecting: asyncio.Future[_Connection]) -> None:
        self._connecting = None
        if connecting.cancelled() or connecting.exception() is not None:
            return
        if self._closed:  # closed while connecting
            connecting.result().close()
        else:
            self._connection = connecting.result()

    async def _connect(self) -> _Connection:
        address = self.address
        loop = asyncio.get_running_loop()
        context = ssl.create_default_context() if address.tls else None
        where = f"{address.host}:{address.port}"
        connection: _Connection | None = None
        try:
            async with asyncio.timeout(address.timeout):
                _, connection = await loop.create_connection(
                    lambda: _Connection(loop, address.timeout),
                    address.host,
                    address.port,
                    ssl=context,
                    server_hostname=address.host if context is not None else None,
                )
                if address.password is not None:
                    login: tuple[Arg, ...] = ("AUTH", address.password)
                    if address.username:
                        login = ("AUTH", address.username, address.password)
                    await connection.send(encode(login))
                if address.db:
                    await connection.send(encode(("SELECT", address.db)))
        except BaseException as exc:
            if connection is not None:  # made, then refused, timed out or cancelled
                connection.close()
            if isinstance(exc, ReplyError):
                raise Unavailable(f"Redis at {where} refused the session: {exc}") from None
            if isinstance(exc, TimeoutError):
                raise Unavailable(f"connecting to Redis at {where} took too long") from None
            if isinstance(exc, OSError | ssl.SSLError):
                raise Unavailable(f"cannot connect to Redis at {where}: {exc}") from None
            raise
        return connection


class _Connection(asyncio.Protocol):
    """One socket to Redis: commands written as they come, replies matched in order."""

    def __init__(self, loop: asyncio.AbstractEventLoop, timeout: float) -> None:
        self._loop = loop
        self._timeout = timeout
        self._transport: asyncio.Transport | None = None
        self._waiting: deque[tuple[asyncio.Future[Reply], float]] = deque()
        self._reader = ReplyReader()
        self._outgoing: list[bytes] = []
        """Commands of this loop turn, written together when it ends."""
        self._timer: asyncio.TimerHandle | None = None
        self.lost = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def send(self, command: bytes) -> asyncio.Future[Reply]:
        transport = self._transport
        if self.lost or transport is None:
            raise Unavailable("the connection to Redis was lost")
        reply: asyncio.Future[Reply] = self._loop.create_future()
        self._waiting.append((reply, self._loop.time() + self._timeout))
        outgoing = self._outgoing
        outgoing.append(command)
        if len(outgoing) == 1:
            self._loop.call_soon(self._flush)
        if self._timer is None:
            self._timer = self._loop.call_later(self._timeout, self._check_deadline)
        return reply

    def _flush(self) -> None:
        outgoing = self._outgoing
        if self._transport is not None and not self.lost and outgoing:
            self._transport.write(outgoing[0] if len(outgoing) == 1 else b"".join(outgoing))
        outgoing.clear()

    def data_received(self, data: bytes) -> None:
        try:
            replies = self._reader.feed(data)
        except ProtocolError as exc:
            self._fail(f"Redis sent something that is not RESP2 ({exc})")
            return
        waiting = self._waiting
        for reply in replies:
            if not waiting:
                self._fail("Redis sent a reply to no command")
                return
            future = waiting.popleft()[0]
            if future.done():
                continue  # its caller gave up waiting; the reply is dropped in its turn
            if isinstance(reply, ReplyError):
                future.set_exception(reply)
            else:
                future.set_result(reply)

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail(f"the connection to Redis was lost{f': {exc}' if exc else ''}")

    def close(self) -> None:
        self._fail("the Redis client was closed")

    def _check_deadline(self) -> None:
        self._timer = None
        if self.lost or not self._waiting:
            return
        oldest = self._waiting[0][1]
        if oldest <= self._loop.time():
            self._fail(f"no reply from Redis within {self._timeout:g}s")
        else:
            self._timer = self._loop.call_at(oldest, self._check_deadline)

    def _fail(self, why: str) -> None:
        if self.lost:
            return
        self.lost = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._transport is not None:
            self._transport.abort()
        waiting, self._waiting = self._waiting, deque()
        for future, _ in waiting:
            if not future.done():
                future.set_exception(Unavailable(why))
