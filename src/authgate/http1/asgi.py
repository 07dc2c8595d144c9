"""Run an ASGI 3 application (Starlette, say) as a `Handler` of the HTTP/1.1 server.

Each request runs the app in a task of its own. The handler returns as soon as the app has
sent `http.response.start`: with the body as bytes when the app already sent all of it (the
common case for plain responses), else as a stream fed through a bounded queue, so a slow
client slows the app down instead of filling memory.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import unquote

from authgate.http1.message import (
    Body,
    BodyIncomplete,
    BodyTooLarge,
    Headers,
    MalformedBody,
    Request,
    Response,
)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
AsgiApp = Callable[[Scope, Receive, Send], Awaitable[None]]

logger = logging.getLogger("authgate.http")

_DISCONNECT: Message = {"type": "http.disconnect"}


class AsgiHandler:
    """A `Handler` that answers every request with an ASGI application."""

    def __init__(
        self,
        app: AsgiApp,
        *,
        state: dict[str, Any] | None = None,
        root_path: str = "",
        queue_size: int = 8,
    ) -> None:
        self.app = app
        self.state = state
        """What the app's lifespan put in its state; each request gets a shallow copy."""
        self.root_path = root_path
        self.queue_size = queue_size
        self._running: set[asyncio.Task[None]] = set()
        """App tasks, held strongly: one may outlive its request (background work)."""

    async def __call__(self, request: Request) -> Response:
        loop = asyncio.get_running_loop()
        exchange = _Exchange(request.body, loop, self.queue_size)
        task = loop.create_task(self._run(self._scope(request), exchange))
        self._running.add(task)
        task.add_done_callback(self._running.discard)
        exchange.task = task
        try:
            await exchange.started
        except BaseException:
            exchange.abandoned = True
            task.cancel()
            raise
        error = exchange.app_error
        if isinstance(error, (BodyIncomplete, BodyTooLarge)):
            task.cancel()
            raise error  # the server answers these (413, 400) or closes the connection
        content: bytes | _ResponseStream
        content = exchange.chunks.take_all() if exchange.complete else _ResponseStream(exchange)
        return Response(exchange.status, exchange.headers, content)

    def _scope(self, request: Request) -> Scope:
        path = request.path
        scope: Scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": request.http_version,
            "method": request.method,
            "scheme": request.scheme,
            "path": unquote(path) if "%" in path else path,
            "raw_path": path.encode("latin-1"),
            "query_string": request.query.encode("latin-1"),
            "root_path": self.root_path,
            "headers": [
                (name.lower().encode("latin-1"), value.encode("latin-1"))
                for name, value in request.headers
            ],
            "client": request.client,
            "server": request.server,
        }
        if self.state is not None:
            scope["state"] = self.state.copy()
        return scope

    async def _run(self, scope: Scope, exchange: _Exchange) -> None:
        try:
            await self.app(scope, exchange.receive, exchange.send)
        except asyncio.CancelledError:
            exchange.app_ended(RuntimeError("the ASGI app was cancelled"))
            raise
        except Exception as exc:
            exchange.app_ended(exc)
        else:
            exchange.app_ended(None)


class _Chunks:
    """A bounded queue of body chunks that can be closed (with an error) without blocking."""

    def __init__(self, loop: asyncio.AbstractEventLoop, size: int) -> None:
        self._loop = loop
        self._size = size
        self._items: deque[bytes] = deque()
        self._closed = False
        self._error: BaseException | None = None
        self._getter: asyncio.Future[None] | None = None
        self._putter: asyncio.Future[None] | None = None

    async def put(self, data: bytes) -> None:
        while len(self._items) >= self._size and not self._closed:
            self._putter = self._loop.create_future()
            await self._putter
        if not self._closed:
            self._items.append(data)
            _wake(self._getter)

    async def get(self) -> bytes | None:
        """The next chunk; None at the end; the closing error if there was one."""
        while not self._items:
            if self._closed:
                if self._error is not None:
                    raise self._error
                return None
            self._getter = self._loop.create_future()
            await self._getter
        data = self._items.popleft()
        _wake(self._putter)
        return data

    def close(self, error: BaseException | None = None) -> None:
        if not self._closed:
            self._closed = True
            self._error = error
            _wake(self._getter)
            _wake(self._putter)

    def take_all(self) -> bytes:
        data = b"".join(self._items)
        self._items.clear()
        return data


class _Exchange:
    """The receive/send pair of one request, and what the handler needs from them."""

    def __init__(self, body: Body, loop: asyncio.AbstractEventLoop, queue_size: int) -> None:
        self.body = body
        self.task: asyncio.Task[None] | None = None
        self.started: asyncio.Future[None] = loop.create_future()
        self.finished: asyncio.Future[None] = loop.create_future()
        """Resolved when the response is complete or the client is gone."""
        self.chunks = _Chunks(loop, queue_size)
        self.status = 500
        self.headers: Headers = []
        self.complete = False
        self.gone = False
        self.app_error: BaseException | None = None
        self.abandoned = False
        """The handler stopped waiting (it was cancelled): nobody reads `started` any more."""
        self._body_iter: AsyncIterator[bytes] | None = None
        self._body_left = body.content_length
        self._body_done = False

    async def receive(self) -> Message:
        if self._body_done or self.gone:
            if not self.gone:
                await asyncio.shield(self.finished)
            return _DISCONNECT
        if self._body_left == 0:
            self._body_done = True
            return {"type": "http.request", "body": b"", "more_body": False}
        if self._body_iter is None:
            self._body_iter = self.body.stream()
        try:
            data = await self._body_iter.__anext__()
        except StopAsyncIteration:
            self._body_done = True
            return {"type": "http.request", "body": b"", "more_body": False}
        except MalformedBody:
            raise
        except BodyIncomplete:  # gone or timed out: the app hears it as a disconnect
            self._body_done = True
            self.client_gone()
            return _DISCONNECT
        more = True
        if self._body_left is not None:
            self._body_left -= len(data)
            more = self._body_left > 0
            self._body_done = not more
        return {"type": "http.request", "body": data, "more_body": more}

    async def send(self, message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            if self.started.done():
                raise RuntimeError("ASGI app sent http.response.start twice")
            self.status = int(message["status"])
            self.headers = [
                (name.decode("latin-1"), value.decode("latin-1"))
                for name, value in message.get("headers", ())
            ]
            self.started.set_result(None)
        elif kind == "http.response.body":
            if not self.started.done():
                raise RuntimeError("ASGI app sent a body before http.response.start")
            if self.complete:
                raise RuntimeError("ASGI app sent a body after the response was complete")
            if self.gone:
                return  # spec 2.3: the app learns of the disconnect from receive()
            data = message.get("body", b"")
            if data:
                await self.chunks.put(bytes(data))
            if not message.get("more_body", False):
                self.complete = True
                self.chunks.close()
                _settle(self.finished)
        else:
            raise RuntimeError(f"unexpected ASGI message {kind!r}")

    def app_ended(self, error: BaseException | None) -> None:
        self.app_error = error
        if self.abandoned:
            self.chunks.close()
        elif not self.started.done():
            self.started.set_exception(
                error or RuntimeError("ASGI app returned without starting a response")
            )
        elif not self.complete:
            self.chunks.close(error or RuntimeError("ASGI app returned before its body ended"))
        elif error is not None and not isinstance(error, (BodyIncomplete, BodyTooLarge)):
            logger.error("ASGI app raised after its response was sent", exc_info=error)
        _settle(self.finished)

    def client_gone(self) -> None:
        self.gone = True
        _settle(self.finished)


class _ResponseStream:
    """The response body as the server iterates it. The server closes it when it stops,
    early or not; stopping early means the client is gone, so the app is cancelled."""

    def __init__(self, exchange: _Exchange) -> None:
        self._exchange = exchange

    def __aiter__(self) -> _ResponseStream:
        return self

    async def __anext__(self) -> bytes:
        data = await self._exchange.chunks.get()
        if data is None:
            raise StopAsyncIteration
        return data

    async def aclose(self) -> None:
        exchange = self._exchange
        if not exchange.complete:
            exchange.client_gone()
            exchange.chunks.close()
            if exchange.task is not None:
                exchange.task.cancel()


def _wake(waiter: asyncio.Future[None] | None) -> None:
    if waiter is not None and not waiter.done():
        waiter.set_result(None)


def _settle(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


@asynccontextmanager
async def lifespan(
    app: AsgiApp, *, shutdown_timeout: float = 10.0
) -> AsyncIterator[dict[str, Any]]:
    """Run the app's lifespan startup on entry and its shutdown on exit; yields its state.

    An app that does not speak the lifespan protocol (it raises or returns at once) is
    tolerated. A startup or shutdown the app reports as failed raises RuntimeError.
    """
    loop = asyncio.get_running_loop()
    state: dict[str, Any] = {}
    inbox: asyncio.Queue[Message] = asyncio.Queue()
    started: asyncio.Future[bool] = loop.create_future()
    stopped: asyncio.Future[None] = loop.create_future()
    stopping = False

    async def receive() -> Message:
        return await inbox.get()

    async def send(message: Message) -> None:
        kind = message["type"]
        if kind == "lifespan.startup.complete" and not started.done():
            started.set_result(True)
        elif kind == "lifespan.startup.failed" and not started.done():
            started.set_exception(RuntimeError(f"ASGI startup failed: {message.get('message')}"))
        elif kind == "lifespan.shutdown.complete":
            _settle(stopped)
        elif kind == "lifespan.shutdown.failed" and not stopped.done():
            stopped.set_exception(RuntimeError(f"ASGI shutdown failed: {message.get('message')}"))

    async def run() -> None:
        scope: Scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": state}
        try:
            await app(scope, receive, send)
        except Exception as exc:
            if not started.done():
                logger.info("ASGI app does not support lifespan (%r); going on without it", exc)
            elif stopping and not stopped.done():
                stopped.set_exception(exc)
            else:
                logger.error("ASGI lifespan failed", exc_info=exc)
        finally:
            if not started.done():
                started.set_result(False)
            _settle(stopped)

    task = loop.create_task(run())
    inbox.put_nowait({"type": "lifespan.startup"})
    try:
        supported = await started
    except BaseException:
        task.cancel()
        raise
    try:
        yield state
    finally:
        try:
            if supported and not task.done():
                stopping = True
                inbox.put_nowait({"type": "lifespan.shutdown"})
                await asyncio.wait_for(asyncio.shield(stopped), shutdown_timeout)
        finally:
            task.cancel()
