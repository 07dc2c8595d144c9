"""The HTTP/1.1 server: one asyncio Protocol per connection, llhttp (httptools) as the parser.

The parser is strict and is the request-smuggling defence: any framing it rejects (conflicting
or duplicate Content-Length, Content-Length with Transfer-Encoding, a bad chunk, obs-fold, a
bad token, a bare LF) ends the connection with 400 and the handler is never called.

Requests on one connection are handled strictly one after another, each in its own task (so
context variables never leak from one request into the next); pipelined requests are parsed
ahead and queued. Timeouts cost nothing per request: each connection keeps deadlines as
floats and one timer that re-arms itself lazily when it fires early.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections import deque
from collections.abc import AsyncIterable
from dataclasses import dataclass
from typing import Any, Final, cast

import httptools

from authgate.http1 import wire
from authgate.http1.body import HIGH_WATER, LOW_WATER, StreamBody
from authgate.http1.message import (
    BodyIncomplete,
    BodyTimeout,
    BodyTooLarge,
    ClientDisconnected,
    EmptyBody,
    Handler,
    MalformedBody,
    Request,
    Response,
)

logger = logging.getLogger("authgate.http")


@dataclass(frozen=True, slots=True)
class Limits:
    """Per-connection limits; every one of them bounds memory or time a client can hold."""

    max_head_bytes: int = 16_384
    """Request line plus header lines (and, separately, a chunked body's trailers). Over it:
    414 when the target alone is too long, 431 otherwise; the connection is closed."""
    max_body_bytes: int = 10_485_760
    """A declared Content-Length over it is answered with the `too_large` response without
    calling the handler; a chunked body growing past it raises BodyTooLarge in the reader."""
    head_timeout: float = 10.0
    """A request head must be complete this long after its first byte (or after the
    connection opened): else 408 and close. An idle new connection is closed silently."""
    body_timeout: float = 30.0
    """Longest gap between body bytes while the body is being received (BodyTimeout for the
    reader, connection closed); also the longest a response write may stall on a client that
    does not read."""
    keepalive_timeout: float = 5.0
    """Idle keep-alive connections are closed after this."""
    max_pipelined: int = 16
    """Requests parsed ahead and queued before the connection stops reading."""


_SLICE: Final = 16_384
"""Bytes handed to the parser at a time, so limits are checked between slices."""
_LINGER: Final = 2.0
"""Seconds a closing connection keeps draining a client that may still be sending."""
_TIMER_SLACK: Final = 0.002

# Why reading is paused; any bit set means paused.
_P_BODY: Final = 1
_P_QUEUE: Final = 2

# What a read deadline means when it passes.
_R_IDLE: Final = 1
_R_HEAD: Final = 2
_R_BODY: Final = 3
_R_LINGER: Final = 4

# Discard modes once the parser has stopped.
_D_QUIET: Final = 1  # the last request asked to close; nothing more expected
_D_LOUD: Final = 2  # unexpected bytes may still come: drain them before closing

_METHODS: Final = {
    m.encode(): m for m in ("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS")
}
_EMPTY_BODY: Final = EmptyBody()


def _plain(status: int, text: str) -> Response:
    return Response(status, [("content-type", "text/plain; charset=utf-8")], text.encode())


_BAD_REQUEST: Final = _plain(400, "Bad Request")
_TIMEOUT: Final = _plain(408, "Request Timeout")
_URI_TOO_LONG: Final = _plain(414, "URI Too Long")
_EXPECTATION_FAILED: Final = _plain(417, "Expectation Failed")
_HEADERS_TOO_LARGE: Final = _plain(431, "Request Header Fields Too Large")
_INTERNAL_ERROR: Final = _plain(500, "Internal Server Error")
_NOT_IMPLEMENTED: Final = _plain(501, "Not Implemented")
_BAD_VERSION: Final = _plain(505, "HTTP Version Not Supported")


class _Halt(Exception):
    """Raised from a parser callback to stop parsing on purpose."""


_Item = tuple[Request | None, bool, Response | None]
"""A queued request: (request, keep-alive wanted, canned answer instead of the handler).
A None request is a terminal error answer for a head that never became a request."""


_DEFAULT_LIMITS: Final = Limits()


class HttpServer:
    """Serves a Handler over HTTP/1.1 on one listening socket."""

    def __init__(
        self,
        handler: Handler,
        limits: Limits = _DEFAULT_LIMITS,
        *,
        too_large: Response | None = None,
        server_header: str | None = None,
    ) -> None:
        self.handler = handler
        self.limits = limits
        self.too_large = too_large or _plain(
            413, f"HTTP content length exceeded {limits.max_body_bytes} bytes."
        )
        self.server_line = (
            b"server: " + server_header.encode("latin-1") + b"\r\n" if server_header else b""
        )
        self.loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.Server | None = None
        self._connections: set[_Connection] = set()
        self._active = 0
        self._closing = False
        self._drained: asyncio.Future[None] | None = None

    @property
    def active_requests(self) -> int:
        """Requests whose handler or response is in progress."""
        return self._active

    async def start(
        self, host: str, port: int, *, sock: socket.socket | None = None
    ) -> tuple[str, int]:
        """Listen on host:port (port 0 picks one) or on a given socket; returns the address."""
        loop = asyncio.get_running_loop()
        self.loop = loop
        if sock is not None:
            server = await loop.create_server(self._connection, sock=sock, backlog=1024)
        else:
            server = await loop.create_server(
                self._connection, host, port, reuse_address=True, backlog=1024
            )
        self._server = server
        address = server.sockets[0].getsockname()
        return address[0], address[1]

    async def shutdown(self, grace: float = 10.0) -> None:
        """Stop accepting, let requests in flight finish for up to `grace` seconds, close."""
        server = self._server
        if server is None or self._closing:
            return
        self._closing = True
        server.close()
        loop = asyncio.get_running_loop()
        for conn in list(self._connections):
            conn.shutdown()
        if self._connections:
            self._drained = loop.create_future()
            await asyncio.wait((self._drained,), timeout=grace)
        tasks = [c.task for c in self._connections if c.task is not None]
        for conn in list(self._connections):
            conn.abort()
        if tasks:
            await asyncio.wait(tasks, timeout=1.0)
        await server.wait_closed()

    def _connection(self) -> _Connection:
        return _Connection(self)

    def _forget(self, conn: _Connection) -> None:
        self._connections.discard(conn)
        drained = self._drained
        if drained is not None and not self._connections and not drained.done():
            drained.set_result(None)


class _Connection(asyncio.Protocol):
    """One client connection: parser callbacks in, handler tasks and writes out."""

    __slots__ = (
        "_body",
        "_client",
        "_closing",
        "_current",
        "_discard",
        "_drain_waiter",
        "_expect",
        "_feeding",
        "_frame_raw",
        "_handler",
        "_head_cb",
        "_head_raw",
        "_head_sent",
        "_headers",
        "_host",
        "_hosts",
        "_in_head",
        "_keep_alive",
        "_length",
        "_limits",
        "_lingering",
        "_loop",
        "_lost",
        "_parser",
        "_parsing",
        "_paused",
        "_queue",
        "_read_deadline",
        "_read_kind",
        "_server",
        "_sockname",
        "_stash",
        "_te",
        "_timer",
        "_timer_at",
        "_trailer_bytes",
        "_transport",
        "_transport_paused",
        "_url",
        "_write_deadline",
        "_write_paused",
        "task",
    )

    def __init__(self, server: HttpServer) -> None:
        assert server.loop is not None
        self._server = server
        self._limits = server.limits
        self._handler = server.handler
        self._loop = server.loop
        self._transport: asyncio.Transport | None = None
        self._parser = httptools.HttpRequestParser(self)
        self._client: tuple[str, int] = ("", 0)
        self._sockname: tuple[str, int] = ("", 0)
        # The message being parsed.
        self._in_head = False
        self._url = b""
        self._headers: list[tuple[str, str]] = []
        self._length: int | None = None
        self._te: bytes | None = None
        self._expect: bytes | None = None
        self._host = b""
        self._hosts = 0
        self._keep_alive = False
        self._head_cb = 0
        self._head_raw = 0
        self._frame_raw = 0
        self._trailer_bytes = 0
        self._body: StreamBody | None = None
        self._parsing: _Item | None = None
        # Requests and the one being served.
        self._queue: deque[_Item] = deque()
        self.task: asyncio.Task[None] | None = None
        self._current: Request | None = None
        self._head_sent = False
        # Reading and writing state.
        self._paused = 0
        self._transport_paused = False
        self._stash: memoryview | bytes | None = None
        self._feeding = False
        self._discard = 0
        self._lingering = False
        self._closing = False
        self._lost = False
        self._write_paused = False
        self._drain_waiter: asyncio.Future[None] | None = None
        # Deadlines (loop time; 0 = none) and the one lazy timer.
        self._read_deadline = 0.0
        self._read_kind = 0
        self._write_deadline = 0.0
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = 0.0

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        self._transport = transport
        peer = transport.get_extra_info("peername")
        if isinstance(peer, tuple):
            self._client = (peer[0], peer[1])
        local = transport.get_extra_info("sockname")
        if isinstance(local, tuple):
            self._sockname = (local[0], local[1])
        server = self._server
        server._connections.add(self)
        if server._closing:
            transport.close()
            return
        self._arm_read(self._loop.time() + self._limits.head_timeout, _R_IDLE)

    def data_received(self, data: bytes) -> None:
        if self._discard:
            self._discard = _D_LOUD
            return
        stash = self._stash
        if stash is not None:  # only if a transport delivers after pause_reading()
            self._stash = bytes(stash) + data
            return
        if len(data) > _SLICE or self._paused:
            self._feed(data)
            return
        self._feeding = True  # the common case of _feed(), without its loop
        try:
            self._feed_slice(data)
        finally:
            self._feeding = False
        self._dispatch()
        if self._transport_paused and (self._discard or not self._paused):
            self._resume()

    def eof_received(self) -> bool | None:
        # A client that shuts its sending side is gone as far as HTTP/1.1 is concerned: the
        # transport closes and connection_lost cancels whatever is in flight.
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        self._lost = True
        self._server._forget(self)
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._fail_bodies(ClientDisconnected("the client closed the connection"))
        task = self.task
        if task is not None:
            # One loop turn later: a handler waiting on the body sees ClientDisconnected
            # first; whatever it does next (an upstream call, say) is cancelled.
            self._loop.call_soon(task.cancel)
        waiter = self._drain_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def pause_writing(self) -> None:
        self._write_paused = True

    def resume_writing(self) -> None:
        self._write_paused = False
        waiter = self._drain_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    # Parser callbacks (httptools calls these by name).

    def on_message_begin(self) -> None:
        self._in_head = True
        self._url = b""
        self._headers = []
        self._length = None
        self._te = None
        self._expect = None
        self._hosts = 0
        self._head_cb = 0
        self._head_raw = 0
        self._arm_read(self._loop.time() + self._limits.head_timeout, _R_HEAD)

    def on_url(self, url: bytes) -> None:
        if self._url:
            url = self._url + url
        self._url = url
        if len(url) > self._limits.max_head_bytes:
            self._refuse_head(_URI_TOO_LONG)
            raise _Halt

    def on_header(self, name: bytes, value: bytes) -> None:
        if not self._in_head:
            # Trailer fields of a chunked body: bounded, then dropped.
            self._trailer_bytes += len(name) + len(value) + 4
            if self._trailer_bytes > self._limits.max_head_bytes:
                self._abandon_message(MalformedBody("trailers too large"), _HEADERS_TOO_LARGE)
                raise _Halt
            return
        size = self._head_cb + len(name) + len(value) + 4
        self._head_cb = size
        if size + len(self._url) > self._limits.max_head_bytes:
            self._refuse_head(_HEADERS_TOO_LARGE)
            raise _Halt
        n = len(name)
        if n == 14:
            if name.lower() == b"content-length":
                self._length = int(value)  # llhttp has checked the digits and duplicates
        elif n == 17:
            if name.lower() == b"transfer-encoding":
                self._te = value
        elif n == 6:
            if name.lower() == b"expect":
                self._expect = value
        elif n == 4 and name.lower() == b"host":
            self._host = value
            self._hosts += 1
        self._headers.append((name.decode("latin-1"), value.decode("latin-1")))

    def on_headers_complete(self) -> None:
        self._in_head = False
        parser = self._parser
        version = parser.get_http_version()
        if version != "1.1" and version != "1.0":
            self._refuse_head(_BAD_VERSION)
            raise _Halt
        raw_method = parser.get_method()
        method = _METHODS.get(raw_method) or raw_method.decode("ascii")
        hosts = self._hosts
        if hosts != 1 and (hosts or version == "1.1"):
            # RFC 9112 3.2: exactly one Host in HTTP/1.1, at most one before. Routing by
            # host must never have to pick between two.
            self._refuse_head(_BAD_REQUEST)
            raise _Halt
        if self._url[:1] != b"/" and not self._target_agrees(method):
            self._refuse_head(_BAD_REQUEST)
            raise _Halt
        keep_alive = parser.should_keep_alive()
        if (
            self._te is None
            and not self._length
            and self._expect is None
            and not parser.should_upgrade()
        ):
            # The common case, kept short: no body, nothing to negotiate.
            path, query = wire.split_target(self._url)
            request = Request(
                method,
                path,
                query,
                self._headers,
                _EMPTY_BODY,
                self._client,
                self._sockname,
                version,
            )
            item: _Item = (request, keep_alive, None)
            self._keep_alive = keep_alive
            self._parsing = item
            queue = self._queue
            queue.append(item)
            self._read_deadline = 0.0
            self._read_kind = 0
            if len(queue) >= self._limits.max_pipelined:
                self._pause(_P_QUEUE)
            return  # dispatched when the parser is done with these bytes (see _dispatch)
        self._head_with_more(method, version, keep_alive)

    def _target_agrees(self, method: str) -> bool:
        """An absolute-form target names a host: it must be the Host header's."""
        url = self._url
        if url == b"*" or method == "CONNECT":
            return True
        authority = wire.target_authority(url)
        return authority is not None and authority.lower() == self._host.lower()

    def _head_with_more(self, method: str, version: str, keep_alive: bool) -> None:
        """A head with a body, an expectation or an upgrade request."""
        parser = self._parser
        limits = self._limits
        length = self._length
        te = self._te
        if te is not None and (version == "1.0" or te.strip().lower() != b"chunked"):
            # Plain chunked framing only; any other coding is refused, never guessed at.
            self._refuse_head(_BAD_REQUEST)
            raise _Halt
        has_body = te is not None or bool(length)
        if parser.should_upgrade():
            if method == "CONNECT":
                keep_alive = False  # what follows the head is tunnel data, never a request
            elif has_body:
                # llhttp would hand that body over as "upgrade data"; we do not upgrade.
                self._refuse_head(_NOT_IMPLEMENTED)
                raise _Halt
        expect_continue = False
        if self._expect is not None:
            if self._expect.strip().lower() != b"100-continue":
                self._refuse_head(_EXPECTATION_FAILED)
                raise _Halt
            expect_continue = has_body and version == "1.1"
        path, query = wire.split_target(self._url)
        body: StreamBody | EmptyBody = _EMPTY_BODY
        if has_body and (length is None or length <= limits.max_body_bytes):
            body = StreamBody(self, self._loop, length, limits.max_body_bytes, expect_continue)
        request = Request(
            method, path, query, self._headers, body, self._client, self._sockname, version
        )
        if body is _EMPTY_BODY and has_body:
            # A declared length over the limit: answered at once, the body is never read.
            self._queue.append((request, False, self._server.too_large))
            self._stop_reading()
            self._dispatch()
            raise _Halt
        item: _Item = (request, keep_alive, None)
        self._keep_alive = keep_alive
        self._parsing = item
        self._queue.append(item)
        if isinstance(body, StreamBody):
            self._body = body
            self._frame_raw = 0
            self._trailer_bytes = 0
            if expect_continue:
                self._disarm_read()  # the client waits for us; its silence is no timeout
            else:
                self._arm_read(self._loop.time() + limits.body_timeout, _R_BODY)
        else:
            self._disarm_read()
        if len(self._queue) >= limits.max_pipelined:
            self._pause(_P_QUEUE)

    def on_body(self, data: bytes) -> None:
        body = self._body
        if body is None:  # pragma: no cover - llhttp sends body bytes only after a head
            return
        if not body.feed(data):
            self._abandon_message(BodyTooLarge(self._limits.max_body_bytes), self._server.too_large)
            raise _Halt
        self._frame_raw = 0
        if body.buffered > HIGH_WATER:
            self._pause(_P_BODY)
        elif not self._paused:
            self._arm_read(self._loop.time() + self._limits.body_timeout, _R_BODY)

    def on_message_complete(self) -> None:
        self._parsing = None
        body = self._body
        if body is not None:
            self._body = None
            body.finish()
            if self._paused & _P_BODY:
                self._unpause(_P_BODY)
        self._disarm_read()  # until the next head begins, or the response is written
        if not self._keep_alive:
            # Nothing after a last request is parsed (llhttp would refuse it anyway).
            self._discard = _D_QUIET
            raise _Halt

    # Feeding the parser, and what to do when it stops.

    def _feed(self, data: bytes | memoryview) -> None:
        self._feeding = True
        try:
            size = len(data)
            if size <= _SLICE and not self._paused:
                self._feed_slice(data)
            else:
                view = memoryview(data)
                pos = 0
                while pos < size and not self._discard:
                    if self._paused:
                        self._stash = view[pos:]
                        break
                    self._feed_slice(view[pos : pos + _SLICE])
                    pos += _SLICE
        finally:
            self._feeding = False
        self._dispatch()
        if self._transport_paused and (self._discard or not self._paused):
            self._resume()

    def _feed_slice(self, data: bytes | memoryview) -> None:
        in_head = self._in_head
        body = self._body
        received = body.received if body is not None else 0
        parser = self._parser
        while True:
            try:
                parser.feed_data(data)
            except httptools.HttpParserUpgrade as upgrade:
                # A bodiless request that asked for an upgrade: we ignore it and go on parsing.
                if self._discard:
                    return
                data = data[upgrade.args[0] :]
                continue
            except httptools.HttpParserError:
                if not self._discard:
                    self._parse_failed()
                return
            break
        # Bytes not yet passed to a callback sit inside httptools: bound them too.
        if self._in_head:
            if in_head:
                self._head_raw += len(data)
                if self._head_raw > self._limits.max_head_bytes:
                    self._refuse_head(_HEADERS_TOO_LARGE)
        elif body is not None and self._body is body and body.received == received:
            self._frame_raw += len(data)
            if self._frame_raw > self._limits.max_head_bytes:
                self._abandon_message(MalformedBody("chunk framing too large"), _BAD_REQUEST)

    def _parse_failed(self) -> None:
        """llhttp refused the bytes: a bad head gets 400, a bad body ends its message."""
        if self._parsing is not None:
            self._abandon_message(MalformedBody("invalid body framing"), _BAD_REQUEST)
        else:
            self._refuse_head(_BAD_REQUEST)

    def _refuse_head(self, answer: Response) -> None:
        """The head being parsed never becomes a request: `answer` it in turn, then close."""
        self._in_head = False
        self._stop_reading()
        self._queue.append((None, False, answer))
        self._dispatch()

    def _abandon_message(self, error: BaseException, answer: Response) -> None:
        """The message being parsed cannot be read to its end. If its handler has not
        started, it never will and `answer` goes out instead; else its reader gets `error`."""
        item = self._parsing
        self._parsing = None
        self._body = None
        self._stop_reading()
        if item is None:  # pragma: no cover - callers check
            return
        request = item[0]
        queue = self._queue
        if queue and queue[-1] is item:
            queue.pop()
            queue.append((request, False, answer))
            self._dispatch()
        elif request is not None and isinstance(request.body, StreamBody):
            request.body.fail(error)

    def _stop_reading(self) -> None:
        """Parse nothing more; later bytes are read and dropped (so a hang-up is noticed)."""
        self._discard = _D_LOUD
        self._disarm_read()

    # Flow control towards the client.

    def _pause(self, reason: int) -> None:
        self._paused |= reason
        if not self._transport_paused and not self._lost and self._transport is not None:
            self._transport.pause_reading()
            self._transport_paused = True
        if self._read_kind == _R_BODY:
            self._disarm_read()  # we stopped reading: the client is not the one stalling

    def _unpause(self, reason: int) -> None:
        if self._paused & reason:
            self._paused &= ~reason
            if not self._paused and not self._feeding:
                self._resume()

    def _resume(self) -> None:
        if self._discard:
            self._paused = 0
            self._stash = None
        while self._stash is not None and not self._paused:
            stash = self._stash
            self._stash = None
            self._feed(stash)
        if self._paused or self._lost or self._transport is None:
            return
        if self._transport_paused:
            self._transport_paused = False
            self._transport.resume_reading()
        body = self._body
        if body is not None and not body.expect_continue and not self._discard:
            self._arm_read(self._loop.time() + self._limits.body_timeout, _R_BODY)

    def body_started(self, body: StreamBody) -> None:
        body.expect_continue = False
        transport = self._transport
        if body.complete or self._discard or transport is None or transport.is_closing():
            return
        current = self._current
        if current is None or current.body is not body or self._head_sent:
            return  # a final response already went out: 100 would come too late
        transport.write(wire.CONTINUE)
        if self._body is body and not self._paused:
            self._arm_read(self._loop.time() + self._limits.body_timeout, _R_BODY)

    def body_drained(self, body: StreamBody) -> None:
        # Only the body being received can have paused reading (see on_body).
        if self._paused & _P_BODY and self._body is body and body.buffered < LOW_WATER:
            self._unpause(_P_BODY)

    def _fail_bodies(self, error: BaseException) -> None:
        if self._body is not None:
            self._body.fail(error)
        if self._current is not None and isinstance(self._current.body, StreamBody):
            self._current.body.fail(error)
        for request, _, _ in self._queue:
            if request is not None and isinstance(request.body, StreamBody):
                request.body.fail(error)

    # Serving requests: one task each, strictly in order.

    def _dispatch(self) -> None:
        # While the parser runs, a queued request stays in the queue: if the rest of the
        # same bytes turn out to be bad, it can still be answered without the handler.
        if self.task is not None or not self._queue or self._lost or self._feeding:
            return
        request, keep_alive, answer = self._queue.popleft()
        if self._paused & _P_QUEUE and len(self._queue) < self._limits.max_pipelined:
            self._unpause(_P_QUEUE)
        self.task = self._loop.create_task(self._exchange(request, keep_alive, answer))

    async def _exchange(
        self, request: Request | None, keep_alive: bool, answer: Response | None
    ) -> None:
        server = self._server
        server._active += 1
        self._current = request
        self._head_sent = False
        keep = False
        try:
            if answer is None and request is not None:
                try:
                    answer = await self._handler(request)
                    if not isinstance(answer, Response):
                        raise TypeError(f"handler returned {type(answer).__name__}, not Response")
                except BodyTooLarge:
                    answer = server.too_large
                except MalformedBody:
                    answer = _BAD_REQUEST
                except BodyIncomplete:
                    answer = None  # timed out or gone: nobody to answer
                except Exception:
                    logger.exception("handler failed for %s %s", request.method, request.path)
                    answer = _INTERNAL_ERROR
            if answer is not None:
                keep = await self._respond(request, answer, keep_alive)
        except Exception:  # pragma: no cover - a bug of ours must not pass silently
            logger.exception("HTTP exchange failed")
            keep = False
        finally:
            server._active -= 1
            self._current = None
            self.task = None
        if self._lost:
            return
        if not keep:
            self._close()
        elif self._queue:
            self._dispatch()
        elif self._closing or self._discard:
            self._close()
        elif not self._in_head and self._body is None:
            self._arm_read(self._loop.time() + self._limits.keepalive_timeout, _R_IDLE)

    async def _respond(self, request: Request | None, response: Response, keep_alive: bool) -> bool:
        """Write one response; True when the connection can carry the next request."""
        transport = self._transport
        if self._lost or transport is None or transport.is_closing():
            return False
        head_only = http10 = False
        if request is not None:
            body = request.body
            if isinstance(body, StreamBody) and not body.complete:
                keep_alive = False  # the rest of that body would be parsed as a request
            head_only = request.method == "HEAD"
            http10 = request.http_version == "1.0"
        if self._closing or (self._discard and not self._queue):
            keep_alive = False
        server_line = self._server.server_line
        try:
            data, mode, keep_alive, length = wire.encode_response(
                response,
                head_only=head_only,
                http10=http10,
                keep_alive=keep_alive,
                server_line=server_line,
            )
        except (ValueError, UnicodeError):
            logger.exception("handler returned a response that cannot be sent")
            await _close_body(response.body)
            response = _INTERNAL_ERROR
            data, mode, keep_alive, length = wire.encode_response(
                response,
                head_only=head_only,
                http10=http10,
                keep_alive=keep_alive,
                server_line=server_line,
            )
        self._head_sent = True
        transport.write(data)
        content = response.body
        if isinstance(content, bytes):
            if mode == wire.SEND_BYTES:
                transport.write(content)
        elif mode == wire.SEND_NOTHING:
            await _close_body(content)
        else:
            keep_alive = await self._stream(content, mode, length) and keep_alive
        if self._write_paused and keep_alive:
            await self._drain()
        return keep_alive

    async def _stream(self, content: AsyncIterable[bytes], mode: int, length: int) -> bool:
        """Send a streamed body; False when the response could not be completed."""
        transport = self._transport
        assert transport is not None
        chunked = mode == wire.SEND_CHUNKED
        sent = 0
        try:
            async for chunk in content:
                if not chunk:
                    continue
                if self._write_paused:
                    await self._drain()
                if transport.is_closing():
                    return False
                size = len(chunk)
                sent += size
                if chunked:
                    if size > _SLICE:
                        transport.writelines((b"%x\r\n" % size, chunk, b"\r\n"))
                    else:
                        transport.write(b"%x\r\n%b\r\n" % (size, chunk))
                elif 0 <= length < sent:
                    logger.error("response body longer than its content-length %d", length)
                    return False
                else:
                    transport.write(chunk)
            if chunked:
                transport.write(wire.CHUNKED_END)
            elif 0 <= length != sent:
                logger.error("response body of %d bytes, content-length said %d", sent, length)
                return False
        except (BodyIncomplete, BodyTooLarge):
            return False  # e.g. an echo of the request body, cut short by the client
        except Exception:
            logger.exception("response body failed after the head was sent")
            return False
        finally:
            await _close_body(content)
        return mode != wire.SEND_UNTIL_CLOSE

    async def _drain(self) -> None:
        waiter = self._loop.create_future()
        self._drain_waiter = waiter
        deadline = self._loop.time() + self._limits.body_timeout
        self._write_deadline = deadline
        self._ensure_timer(deadline)
        try:
            await waiter
        finally:
            self._drain_waiter = None
            self._write_deadline = 0.0

    # Closing.

    def shutdown(self) -> None:
        """The server is stopping: close now if idle, else after the response in flight."""
        self._closing = True
        transport = self._transport
        if self.task is None and transport is not None and not self._lost:
            transport.close()

    def abort(self) -> None:
        if self._transport is not None and not self._lost:
            self._transport.abort()

    def _close(self) -> None:
        transport = self._transport
        if self._lost or transport is None or transport.is_closing():
            return
        if (
            self._discard != _D_LOUD
            and not self._in_head
            and self._body is None
            and not self._paused
            and self._stash is None
        ):
            transport.close()
            return
        # The client may still be sending (a body we did not read, bytes after an error).
        # Closing now could reset the connection before it reads our answer: half-close,
        # drain for a moment, then close.
        self._fail_bodies(ClientDisconnected("the connection was closed"))
        self._body = None
        self._stash = None
        self._paused = 0
        self._discard = _D_LOUD
        self._lingering = True
        if transport.can_write_eof():
            transport.write_eof()
        if self._transport_paused:
            self._transport_paused = False
            transport.resume_reading()
        self._arm_read(self._loop.time() + _LINGER, _R_LINGER)

    # Deadlines: floats checked by one lazy timer.

    def _arm_read(self, deadline: float, kind: int) -> None:
        self._read_deadline = deadline
        self._read_kind = kind
        timer = self._timer
        if timer is None or deadline < self._timer_at:
            self._ensure_timer(deadline)

    def _disarm_read(self) -> None:
        self._read_deadline = 0.0
        self._read_kind = 0

    def _ensure_timer(self, deadline: float) -> None:
        timer = self._timer
        if timer is not None:
            if deadline >= self._timer_at:
                return  # it fires first and then re-arms for the later deadline
            timer.cancel()
        if self._lost:
            return
        self._timer = self._loop.call_at(deadline, self._on_timer)
        self._timer_at = deadline

    def _on_timer(self) -> None:
        self._timer = None
        now = self._loop.time() + _TIMER_SLACK
        if self._write_deadline and self._write_deadline <= now:
            self._write_deadline = 0.0
            self.abort()  # the client stopped reading our response
            return
        if self._read_deadline and self._read_deadline <= now:
            kind = self._read_kind
            self._disarm_read()
            self._read_expired(kind)
        if self._lost:
            return
        pending = [d for d in (self._read_deadline, self._write_deadline) if d]
        if pending:
            self._ensure_timer(min(pending))

    def _read_expired(self, kind: int) -> None:
        transport = self._transport
        if transport is None or self._lost:
            return
        if kind == _R_HEAD:
            self._refuse_head(_TIMEOUT)
            if self._transport_paused:
                self._resume()
        elif kind == _R_BODY:
            if self._body is not None:
                self._body.fail(BodyTimeout("no request body bytes within the body timeout"))
            transport.close()
        elif kind == _R_IDLE:
            if self.task is None and not self._queue:
                transport.close()
        else:
            transport.close()


async def _close_body(body: object) -> None:
    """Let an async generator we did not (fully) iterate run its cleanup."""
    aclose: Any = getattr(body, "aclose", None)
    if aclose is not None:
        try:
            await aclose()
        except Exception:
            logger.exception("closing a response body failed")
