"""A request body streamed from the socket, with backpressure towards the client.

The connection feeds bytes in as the parser delivers them; the handler drains them with
`read()` or `stream()`. The buffer between the two is bounded: over the high-water mark the
connection stops reading the socket, and it starts again once the handler has caught up.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from typing import Protocol

HIGH_WATER = 256 * 1024
"""Buffered bytes at which the connection stops reading the socket."""
LOW_WATER = 64 * 1024
"""Buffered bytes under which it reads again."""


class BodyOwner(Protocol):
    """What a body needs from its connection."""

    def body_started(self, body: StreamBody) -> None:
        """The handler began to read: time to send `100 Continue` if the client waits for it."""

    def body_drained(self, body: StreamBody) -> None:
        """The handler took buffered bytes: reading may resume."""


class StreamBody:
    """The `Body` of a request with a Content-Length or chunked body; readable once."""

    __slots__ = (
        "_buffered",
        "_chunks",
        "_done",
        "_error",
        "_limit",
        "_loop",
        "_owner",
        "_received",
        "_used",
        "_waiter",
        "content_length",
        "expect_continue",
    )

    def __init__(
        self,
        owner: BodyOwner,
        loop: asyncio.AbstractEventLoop,
        content_length: int | None,
        limit: int,
        expect_continue: bool,
    ) -> None:
        self.content_length = content_length
        self.expect_continue = expect_continue
        """The client waits for `100 Continue` before sending; cleared once it is sent."""
        self._owner = owner
        self._loop = loop
        self._limit = limit
        self._chunks: deque[bytes] = deque()
        self._buffered = 0
        self._received = 0
        self._done = False
        self._error: BaseException | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._used = False

    # The connection's side.

    @property
    def buffered(self) -> int:
        return self._buffered

    @property
    def received(self) -> int:
        return self._received

    @property
    def complete(self) -> bool:
        """Every byte of the body has arrived (it may not have been read yet)."""
        return self._done

    def feed(self, data: bytes) -> bool:
        """Buffer bytes from the parser; False, and nothing kept, once past the limit."""
        self._received += len(data)
        if self._received > self._limit:
            return False
        self._chunks.append(data)
        self._buffered += len(data)
        self._wake()
        return True

    def finish(self) -> None:
        self._done = True
        self._wake()

    def fail(self, error: BaseException) -> None:
        """End an unfinished body with an error that its reader will see."""
        if not self._done and self._error is None:
            self._error = error
            self._wake()

    # The handler's side.

    async def read(self) -> bytes:
        self._claim()
        parts: list[bytes] = []
        while True:
            if self._chunks:
                parts.extend(self._chunks)
                self._take_all()  # may feed more bytes in, or fail the body, at once
            if self._error is not None:
                raise self._error
            if self._done:
                break
            await self._wait()
        if len(parts) == 1:
            return parts[0]
        return b"".join(parts)

    def stream(self) -> AsyncIterator[bytes]:
        self._claim()
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[bytes]:
        while True:
            if self._chunks:
                chunks = self._chunks
                data = chunks[0] if len(chunks) == 1 else b"".join(chunks)
                self._take_all()
                yield data
            elif self._error is not None:
                raise self._error
            elif self._done:
                return
            else:
                await self._wait()

    def _claim(self) -> None:
        if self._used:
            raise RuntimeError("the request body can be read only once")
        self._used = True
        if self.expect_continue:
            self._owner.body_started(self)

    def _take_all(self) -> None:
        self._chunks.clear()
        self._buffered = 0
        self._owner.body_drained(self)

    async def _wait(self) -> None:
        waiter = self._loop.create_future()
        self._waiter = waiter
        try:
            await waiter
        finally:
            self._waiter = None

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
