"""StreamBody against a connection that reacts synchronously, as the real one does."""

from __future__ import annotations

import asyncio

import pytest

from authgate.http1.body import StreamBody
from authgate.http1.message import BodyTooLarge


class FailsWhenDrained:
    """Resuming the socket delivers the bytes that push the body past its limit at once."""

    def body_started(self, body: StreamBody) -> None:
        pass

    def body_drained(self, body: StreamBody) -> None:
        if not body.feed(b"x" * 10):
            body.fail(BodyTooLarge(15))


async def test_read_sees_a_failure_raised_while_it_drained_the_buffer() -> None:
    body = StreamBody(FailsWhenDrained(), asyncio.get_running_loop(), None, 15, False)
    body.feed(b"y" * 10)
    with pytest.raises(BodyTooLarge):
        await asyncio.wait_for(body.read(), timeout=2)
