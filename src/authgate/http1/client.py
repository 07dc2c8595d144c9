"""The upstream HTTP/1.1 client: a keep-alive connection pool built on asyncio Protocols.

A reverse proxy spends most of its time here, so the hot path avoids tasks, timeouts objects
and copies: a request is one `transport.write`, one awaited future for the response head and,
for small responses, a body that is already complete when the head arrives (the connection is
back in the pool before the caller sees the response). Large bodies stream with backpressure
in both directions.
"""

from __future__ import annotations

import asyncio
import math
import ssl
from collections import deque
from collections.abc import AsyncIterator
from typing import NamedTuple, cast
from urllib.parse import urlsplit

import httptools

from authgate.errors import IntegrationTimeout, IntegrationUnreachable
from authgate.http1.message import Body, BytesBody, Headers

RawHeaders = list[tuple[bytes, bytes]]
"""Header fields as the parser delivered them: (name, value) bytes, in order."""

_TICK = 0.01
"""Resolution of head timeouts: a timeout fires at most this much late."""
_BUFFERED_BODY = 64 * 1024
"""Request bodies up to this size are read whole and sent with the head."""
_HIGH_WATER = 512 * 1024
"""Response bytes buffered before the socket stops being read."""
_LOW_WATER = 128 * 1024
_FRAMING = frozenset({"content-length", "transfer-encoding"})
_RAW_FRAMING = frozenset(name.encode() for name in _FRAMING)
_BODYLESS_METHODS = frozenset({"GET", "HEAD", "DELETE", "OPTIONS", "TRACE", "CONNECT"})
_DEFAULT_PORTS = {"http": 80, "https": 443}


class Url(NamedTuple):
    """A parsed absolute http(s) URL. Parse once; swap `target` per request."""

    scheme: str
    host: str
    port: int
    target: str
    """Path plus `?query`, as it goes on the request line."""

    @classmethod
    def parse(cls, text: str) -> Url:
        """Split an absolute URL; raises ValueError for anything that is not http(s)://host."""
        parts = urlsplit(text)
        scheme = parts.scheme.lower()
        if scheme not in _DEFAULT_PORTS:
            raise ValueError(f"unsupported URL scheme {parts.scheme!r} (http or https)")
        host = parts.hostname
        if not host:
            raise ValueError(f"URL has no host: {text!r}")
        if parts.username is not None or parts.password is not None:
            raise ValueError("URL must not carry credentials")
        port = parts.port or _DEFAULT_PORTS[scheme]
        target = parts.path or "/"
        if parts.query:
            target = f"{target}?{parts.query}"
        return cls(scheme, host, port, target)

    def with_target(self, target: str) -> Url:
        """The same origin with another request target (`_replace` costs twice as much)."""
        return Url(self.scheme, self.host, self.port, target)

    @property
    def authority(self) -> str:
        """The Host header value: the port only when it is not the scheme's default."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        if self.port == _DEFAULT_PORTS[self.scheme]:
            return host
        return f"{host}:{self.port}"


class _StaleConnection(IntegrationUnreachable):
    """The peer closed the connection before sending one byte of the response."""


class _Connection(asyncio.Protocol):
    """One upstream socket, serving one request at a time.

    The parser's callbacks fill per-exchange state; the pool's coroutines wait on futures
    that the callbacks resolve. Everything runs on the loop thread.
    """

    def __init__(self, pool: UpstreamPool, key: tuple[str, str, int]) -> None:
        self.pool = pool
        self.key = key
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.reused = False
        self.idle_since = 0.0
        self._loop = asyncio.get_running_loop()
        self._parser = httptools.HttpResponseParser(self)
        self._parser_dirty = False
        self._active = False
        self._head: asyncio.Future[None] | None = None
        self._status = 0
        self._headers: RawHeaders = []
        self._interim = False
        self._head_only = False
        self._budget = 0.0
        self._got_bytes = False
        self.keep_alive = False
        self.sent = False
        self.complete = False
        self.error: BaseException | None = None
        self.chunks: deque[bytes] = deque()
        self._buffered = 0
        self._reading_paused = False
        self._body_waiter: asyncio.Future[None] | None = None
        self._write_paused = False
        self._drain_waiter: asyncio.Future[None] | None = None
        self.sender: asyncio.Task[None] | None = None

    # --- asyncio.Protocol -------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's are not subclasses

    def data_received(self, data: bytes) -> None:
        if not self._active:
            # Nothing is owed to us between exchanges: a stray byte means a broken peer.
            self.abort()
            return
        self._got_bytes = True
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._fail(IntegrationUnreachable("upstream switched protocols"))
        except httptools.HttpParserCallbackError as exc:
            cause = exc.__context__
            self._fail(cause if cause is not None else IntegrationUnreachable(str(exc)))
        except httptools.HttpParserError as exc:
            self._fail(IntegrationUnreachable(f"malformed response from upstream: {exc}"))

    def eof_received(self) -> bool | None:
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.pool._forget(self)
        if not self._active:
            return
        head = self._head
        if head is not None and not head.done():
            why = f": {exc}" if exc is not None else ""
            if not self._got_bytes:
                self._fail(_StaleConnection(f"upstream closed the connection{why}"))
            else:
                self._fail(IntegrationUnreachable(f"upstream closed before the head{why}"))
        elif not self.complete:
            if self._until_eof() and exc is None:
                self.keep_alive = False
                self.complete = True
                self._wake_body()
            else:
                self._fail(IntegrationUnreachable("upstream closed in the middle of the body"))
        self._wake_drain(ConnectionResetError("upstream connection lost"))

    def pause_writing(self) -> None:
        self._write_paused = True

    def resume_writing(self) -> None:
        self._write_paused = False
        self._wake_drain(None)

    # --- httptools callbacks ------------------------------------------------------------

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers.append((name, value))

    def on_headers_complete(self) -> None:
        status = self._parser.get_status_code()
        if 100 <= status < 200:
            self._interim = True  # 100 Continue, 103 Early Hints: wait for the final head
            self._headers = []
            return
        self._status = status
        self.keep_alive = self._parser.should_keep_alive()
        if self._head_only:
            # The parser cannot know the request was HEAD; the head is all there is.
            self._parser_dirty = True
            self.complete = True
        head = self._head
        if head is not None and not head.done():
            head.set_result(None)

    def on_body(self, body: bytes) -> None:
        if self._head_only:
            self.keep_alive = False  # a body after HEAD: do not trust this connection again
            return
        self.chunks.append(body)
        self._buffered += len(body)
        if self._buffered > _HIGH_WATER and not self._reading_paused and self.transport:
            self._reading_paused = True
            self.transport.pause_reading()
        self._wake_body()

    def on_message_complete(self) -> None:
        if self._interim:
            self._interim = False
            return
        self.complete = True
        self._wake_body()

    # --- used by the pool and the response ------------------------------------------------

    def begin(self, head_only: bool, budget: float) -> asyncio.Future[None]:
        """Reset the per-exchange state; the returned future resolves with the response head."""
        if self._parser_dirty:
            self._parser = httptools.HttpResponseParser(self)
            self._parser_dirty = False
        self._active = True
        self._budget = budget
        self._head_only = head_only
        self._got_bytes = False
        self._status = 0
        self._headers = []
        self._interim = False
        self.keep_alive = False
        self.sent = False
        self.complete = False
        self.error = None
        self.chunks.clear()
        self._buffered = 0
        head = self._loop.create_future()
        self._head = head
        return head

    def head(self) -> tuple[int, RawHeaders]:
        return self._status, self._headers

    def finish(self) -> bool:
        """End the exchange; True when the connection may serve another request."""
        self._active = False
        self._head = None
        sender = self.sender
        if sender is not None:
            self.sender = None
            if not sender.done():
                sender.cancel()
        return (
            self.keep_alive
            and self.complete
            and self.sent
            and self.error is None
            and not self.closed
            and self.transport is not None
            and not self.transport.is_closing()
        )

    async def next_chunk(self) -> bytes:
        """The next piece of the response body, or b'' at its end."""
        while True:
            chunks = self.chunks
            if chunks:
                chunk = chunks.popleft()
                self._buffered -= len(chunk)
                if self._reading_paused and self._buffered <= _LOW_WATER and self.transport:
                    self._reading_paused = False
                    self.transport.resume_reading()
                return chunk
            if self.error is not None:
                raise self.error
            if self.complete:
                return b""
            waiter = self._loop.create_future()
            self._body_waiter = waiter
            try:
                await waiter
            finally:
                self._body_waiter = None

    def take_body(self) -> bytes:
        """The whole body, once `complete`; the buffer is left empty."""
        chunks = self.chunks
        body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        chunks.clear()
        self._buffered = 0
        return body

    async def drain(self) -> None:
        if self.error is not None:
            raise self.error
        if self.closed:
            raise ConnectionResetError("upstream connection lost")
        if not self._write_paused:
            return
        waiter = self._loop.create_future()
        self._drain_waiter = waiter
        try:
            await waiter
        finally:
            self._drain_waiter = None

    def timeout(self) -> None:
        head = self._head
        if self._active and head is not None and not head.done():
            self._fail(IntegrationTimeout(f"no response head within {self._budget:g}s"))

    def _fail(self, error: BaseException) -> None:
        """Record the first error, wake every waiter with it and drop the socket."""
        if self.error is None:
            self.error = error
        self.keep_alive = False
        head = self._head
        if head is not None and not head.done():
            head.set_exception(error)
        self._wake_body()
        self._wake_drain(error)
        self.abort()

    def abort(self) -> None:
        self.keep_alive = False
        transport = self.transport
        if transport is not None and not transport.is_closing():
            transport.abort()

    def _until_eof(self) -> bool:
        """A response framed by neither Content-Length nor chunked ends when the peer closes."""
        for name, _ in self._headers:
            if name.lower() in _RAW_FRAMING:
                return False
        return self._status >= 200

    def _wake_body(self) -> None:
        waiter = self._body_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _wake_drain(self, error: BaseException | None) -> None:
        waiter = self._drain_waiter
        if waiter is not None and not waiter.done():
            if error is None:
                waiter.set_result(None)
            else:
                waiter.set_exception(error)


class UpstreamResponse:
    """A response head with its body still to read, once, by iterating.

    The connection returns to the pool when the body has been read to its end and both sides
    allowed keep-alive; it is dropped on an error or when the reader stops early (`aclose`).
    """

    __slots__ = ("_body", "_conn", "_headers", "_iterated", "raw_headers", "status")

    def __init__(
        self, status: int, raw_headers: RawHeaders, conn: _Connection | None, body: bytes
    ) -> None:
        self.status = status
        self.raw_headers = raw_headers
        self._headers: Headers | None = None
        self._conn = conn
        self._body = body
        self._iterated = False

    @property
    def headers(self) -> Headers:
        """The header fields as text (decoded on first use: a proxy passes `raw_headers`)."""
        headers = self._headers
        if headers is None:
            headers = self._headers = [
                (name.decode("latin-1"), value.decode("latin-1"))
                for name, value in self.raw_headers
            ]
        return headers

    @property
    def complete(self) -> bool:
        """True when the whole body is already in memory (see `body_bytes`)."""
        return self._conn is None

    def body_bytes(self) -> bytes:
        """The body of a `complete` response."""
        if self._conn is not None:
            raise RuntimeError("the response body is still streaming")
        return self._body

    def __aiter__(self) -> AsyncIterator[bytes]:
        if self._iterated:
            raise RuntimeError("the response body can be read only once")
        self._iterated = True
        return self._stream()

    async def _stream(self) -> AsyncIterator[bytes]:
        conn = self._conn
        if conn is None:
            if self._body:
                yield self._body
            return
        reusable = False
        try:
            while True:
                chunk = await conn.next_chunk()
                if not chunk:
                    break
                yield chunk
            reusable = True
        finally:
            self._conn = None
            conn.pool._release(conn, reusable)

    async def read(self) -> bytes:
        """The whole body (for small bodies: tests, non-proxy integrations)."""
        if self._conn is None:
            return self._body
        return b"".join([chunk async for chunk in self])

    async def aclose(self) -> None:
        """Stop reading; an unread rest of the body costs the connection."""
        conn = self._conn
        if conn is not None:
            self._conn = None
            conn.pool._release(conn, False)

    def __del__(self) -> None:
        conn = self._conn
        if conn is not None:
            conn.abort()


class UpstreamPool:
    """Keep-alive connections to upstream origins, keyed by (scheme, host, port)."""

    def __init__(
        self,
        *,
        max_idle_per_host: int = 64,
        idle_timeout: float = 30.0,
        connect_timeout: float = 5.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self._max_idle = max_idle_per_host
        self._idle_timeout = idle_timeout
        self._connect_timeout = connect_timeout
        self._ssl_context = ssl_context
        self._idle: dict[tuple[str, str, int], deque[_Connection]] = {}
        self._all: set[_Connection] = set()
        self._sweeper: asyncio.TimerHandle | None = None
        self._due: dict[int, set[_Connection]] = {}
        """Connections awaiting a response head, by the _TICK slot of their deadline."""
        self._next_slot = 0
        self._ticker: asyncio.TimerHandle | None = None
        self._closed = False
        self.connections_opened = 0
        """How many sockets this pool has opened (for tests and metrics)."""

    async def request(
        self,
        method: str,
        url: Url,
        headers: Headers,
        body: Body | bytes | None,
        *,
        timeout: float,  # noqa: ASYNC109 - one budget for connect, send and head, not a wrapper
    ) -> UpstreamResponse:
        """Send one request and return once the response head has arrived.

        `timeout` bounds connecting, sending and waiting for the head. A reused connection
        the peer had closed is retried once on a new one when the body can be sent again.
        """
        if self._closed:
            raise IntegrationUnreachable("the upstream pool is closed")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        stream: Body | None = None
        if body is None:
            payload = b""
        elif isinstance(body, bytes):
            payload = body
        elif body.content_length == 0:
            payload = b""
        elif isinstance(body, BytesBody):
            payload = await body.read()
        elif body.content_length is not None and body.content_length <= _BUFFERED_BODY:
            # Small uploads go out in the head's write and can be re-sent on a stale connection.
            try:
                async with asyncio.timeout_at(deadline):
                    payload = await body.read()
            except TimeoutError:
                raise IntegrationTimeout(f"request body not received within {timeout:g}s") from None
        else:
            payload = b""
            stream = body
        length = len(payload) if stream is None else stream.content_length
        head = _encode_head(method, url, headers, length)
        if payload and len(payload) <= _BUFFERED_BODY:
            head += payload
            payload = b""
        key = (url.scheme, url.host, url.port)
        conn = self._take_idle(key)
        retried = False
        while True:
            if conn is None:
                conn = await self._connect(url, key, deadline, loop)
            waiter = conn.begin(method == "HEAD", timeout)
            watched = conn
            slot = self._watch(conn, deadline, loop)
            sender: asyncio.Task[None] | None = None
            try:
                transport = conn.transport
                assert transport is not None
                transport.write(head)
                if stream is None:
                    if payload:
                        transport.write(payload)
                    conn.sent = True
                else:
                    sender = conn.sender = loop.create_task(_send_body(conn, stream, length))
                await waiter
            except _StaleConnection as exc:
                self._release(conn, False)
                if not conn.reused or stream is not None or retried:
                    raise IntegrationUnreachable(exc.reason) from None
                retried = True
                conn = None
                continue
            except BaseException:
                if sender is not None:
                    sender.cancel()
                self._release(conn, False)
                raise
            finally:
                self._unwatch(watched, slot)
            status, response_headers = conn.head()
            if conn.complete and conn.sent:
                body_bytes = conn.take_body()
                self._release(conn, True)
                return UpstreamResponse(status, response_headers, None, body_bytes)
            return UpstreamResponse(status, response_headers, conn, b"")

    async def close(self) -> None:
        """Close every connection, idle or busy; later requests fail as unreachable."""
        self._closed = True
        for timer in (self._sweeper, self._ticker):
            if timer is not None:
                timer.cancel()
        self._sweeper = self._ticker = None
        self._due.clear()
        for conn in list(self._all):
            conn.abort()
        self._all.clear()
        self._idle.clear()
        await asyncio.sleep(0)  # let the transports run their close callbacks

    # --- internals ----------------------------------------------------------------------

    async def _connect(
        self,
        url: Url,
        key: tuple[str, str, int],
        deadline: float,
        loop: asyncio.AbstractEventLoop,
    ) -> _Connection:
        context: ssl.SSLContext | None = None
        if url.scheme == "https":
            context = self._ssl_context
            if context is None:
                context = self._ssl_context = ssl.create_default_context()
        budget = min(deadline, loop.time() + self._connect_timeout)
        try:
            async with asyncio.timeout_at(budget):
                _, conn = await loop.create_connection(
                    lambda: _Connection(self, key),
                    url.host,
                    url.port,
                    ssl=context,
                    server_hostname=url.host if context is not None else None,
                )
        except TimeoutError:
            raise IntegrationTimeout(f"connecting to {url.host}:{url.port} took too long") from None
        except ssl.SSLError as exc:
            raise IntegrationUnreachable(f"TLS with {url.host}:{url.port} failed: {exc}") from None
        except OSError as exc:
            raise IntegrationUnreachable(
                f"cannot connect to {url.host}:{url.port}: {exc}"
            ) from None
        if self._closed:
            conn.abort()
            raise IntegrationUnreachable("the upstream pool is closed")
        self._all.add(conn)
        self.connections_opened += 1
        return conn

    def _take_idle(self, key: tuple[str, str, int]) -> _Connection | None:
        idle = self._idle.get(key)
        while idle:
            conn = idle.pop()
            if not conn.closed and conn.transport is not None and not conn.transport.is_closing():
                conn.reused = True
                return conn
        return None

    def _release(self, conn: _Connection, reusable: bool) -> None:
        """Called once per exchange: keep the connection for the next request, or drop it."""
        if reusable and conn.finish() and not self._closed:
            idle = self._idle.get(conn.key)
            if idle is None:
                idle = self._idle[conn.key] = deque()
            if len(idle) < self._max_idle:
                conn.idle_since = asyncio.get_running_loop().time()
                idle.append(conn)
                if self._sweeper is None:
                    self._schedule_sweep()
                return
        conn.finish()
        conn.abort()
        self._all.discard(conn)

    def _forget(self, conn: _Connection) -> None:
        """The socket is gone: make sure no one picks it from the idle list."""
        self._all.discard(conn)
        idle = self._idle.get(conn.key)
        if idle and conn in idle:
            idle.remove(conn)

    def _watch(self, conn: _Connection, deadline: float, loop: asyncio.AbstractEventLoop) -> int:
        """Register a head deadline: a set insert, where a timer per request costs ~10x more."""
        slot = max(math.ceil(deadline / _TICK), self._next_slot)
        due = self._due.get(slot)
        if due is None:
            due = self._due[slot] = set()
        due.add(conn)
        if self._ticker is None:
            self._next_slot = min(slot, math.ceil(loop.time() / _TICK))
            self._ticker = loop.call_later(_TICK, self._tick)
        return slot

    def _unwatch(self, conn: _Connection, slot: int) -> None:
        due = self._due.get(slot)
        if due is not None:
            due.discard(conn)
            if not due:
                del self._due[slot]

    def _tick(self) -> None:
        """Every _TICK while heads are awaited: time out the connections whose slot is due."""
        loop = asyncio.get_running_loop()
        now_slot = math.floor(loop.time() / _TICK)
        for slot in range(self._next_slot, now_slot + 1):
            due = self._due.pop(slot, None)
            if due is not None:
                for conn in due:
                    conn.timeout()
        self._next_slot = now_slot + 1
        self._ticker = loop.call_later(_TICK, self._tick) if self._due else None

    def _schedule_sweep(self) -> None:
        loop = asyncio.get_running_loop()
        self._sweeper = loop.call_later(min(self._idle_timeout, 5.0), self._sweep)

    def _sweep(self) -> None:
        self._sweeper = None
        limit = asyncio.get_running_loop().time() - self._idle_timeout
        remaining = 0
        for idle in self._idle.values():
            while idle and idle[0].idle_since <= limit:
                conn = idle.popleft()
                conn.abort()
                self._all.discard(conn)
            remaining += len(idle)
        if remaining and not self._closed:
            self._schedule_sweep()


def _encode_head(method: str, url: Url, headers: Headers, length: int | None) -> bytes:
    """The request line and header block; framing headers are ours, not the caller's."""
    lines = [f"{method} {url.target} HTTP/1.1\r\n"]
    has_host = False
    for name, value in headers:
        low = name.lower()
        if low in _FRAMING:
            continue
        if low == "host":
            has_host = True
        lines.append(f"{name}: {value}\r\n")
    if not has_host:
        lines.insert(1, f"Host: {url.authority}\r\n")
    if length is None:
        lines.append("Transfer-Encoding: chunked\r\n")
    elif length or method not in _BODYLESS_METHODS:
        lines.append(f"Content-Length: {length}\r\n")
    lines.append("\r\n")
    return "".join(lines).encode("latin-1")


async def _send_body(conn: _Connection, body: Body, length: int | None) -> None:
    """Stream a request body with backpressure; a failure of either side ends the exchange.

    `sent` is set right after the last byte is handed to the transport, before any await, so
    a response that completes at once still finds the connection reusable.
    """
    transport = conn.transport
    assert transport is not None
    written = 0
    try:
        async for chunk in body.stream():
            if not chunk:
                continue
            if length is None:
                transport.write(b"%x\r\n%b\r\n" % (len(chunk), chunk))
            else:
                written += len(chunk)
                if written > length:
                    raise IntegrationUnreachable("request body longer than its Content-Length")
                transport.write(chunk)
                if written == length:
                    conn.sent = True
            await conn.drain()
        if length is None:
            transport.write(b"0\r\n\r\n")
            conn.sent = True
        elif written != length:
            raise IntegrationUnreachable("request body shorter than its Content-Length")
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # the client's body failed (too large, disconnected) or the socket did
        conn._fail(exc)
