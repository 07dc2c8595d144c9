"""Work that runs to its end even when the client it was for hangs up.

The HTTP server cancels a request's handler when its client goes away, which suits the data
plane (an upstream call nobody waits for is dropped). The control planes write records: a
cancellation landing between two statements of a sign-up or a key import would leave half the
work done and a database connection for the garbage collector. Their handlers run here
instead, shielded from that cancellation; what they answer then goes nowhere.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any, TypeVar

log = logging.getLogger("authgate.completions")

T = TypeVar("T")


class Completions:
    def __init__(self) -> None:
        self._running: set[asyncio.Task[Any]] = set()
        """Held strongly: the event loop keeps only weak references to tasks."""

    def __len__(self) -> int:
        return len(self._running)

    async def run(self, work: Coroutine[Any, Any, T]) -> T:
        """`work`'s result; if the caller is cancelled first, `work` still runs to its end."""
        task = asyncio.ensure_future(work)
        self._running.add(task)
        task.add_done_callback(self._running.discard)
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            task.add_done_callback(_report)
            raise

    async def wait(self, grace: float) -> None:
        """Let what is still running finish, for at most `grace` seconds (at shutdown)."""
        if self._running:
            await asyncio.wait(set(self._running), timeout=grace)


def _report(task: asyncio.Task[Any]) -> None:
    """Nobody awaits a task whose caller left: its failure would otherwise go unseen."""
    if not task.cancelled() and (error := task.exception()) is not None:
        log.error("request failed after its client left", exc_info=error)
