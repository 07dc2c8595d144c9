"""Keep the data plane serving what the records say is deployed, changing it one step at a time.

A change to what stages serve is compiled before it is stored: the injected `redeploy`
compiles the configuration's stages with the candidate stored ones and swaps the live routes,
or raises ConfigError and swaps nothing. Only then is the change written; if the write fails
the previous routes are put back. So a deployment that does not compile never reaches the
records, and a gateway restarted later serves what this one served. Changes are serialised in
this process by one lock; other processes hear of them through the generation (ChangeFeed)
and `reload` from the records, skipping the recompile when nothing they serve changed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Collection, Sequence
from typing import TypeVar

from authgate.definition.checks import problems_message
from authgate.definition.records import DeployedStage, StageKey
from authgate.errors import ConfigError
from authgate.usage.errors import BadRequest
from authgate.usage.generation import Generation

log = logging.getLogger("authgate.definitions")

T = TypeVar("T")

Redeploy = Callable[[Sequence[DeployedStage], Collection[StageKey]], Awaitable[None]]
"""Serve the configuration's stages and these stored ones, swapping the live routes at once.
Raises ConfigError (swapping nothing) when a stage in the second argument does not compile;
any other stored stage that does not compile is logged and left out."""

StageFingerprint = tuple[str, str, str, tuple[tuple[str, str], ...]]
Fingerprint = tuple[StageFingerprint, ...]


def stage_fingerprint(deployed: DeployedStage) -> StageFingerprint:
    """What decides a stage's routes: its deployment (a snapshot never changes) and variables."""
    stage = deployed.stage
    return (stage.api_id, stage.name, stage.deployment_id, tuple(sorted(stage.variables.items())))


def fingerprint(stages: Sequence[DeployedStage]) -> Fingerprint:
    return tuple(sorted(stage_fingerprint(s) for s in stages))


class Serving:
    def __init__(
        self,
        redeploy: Redeploy,
        read: Callable[[], Awaitable[list[DeployedStage]]],
        generation: Generation | None = None,
    ) -> None:
        """`read`: the deployed stages as the records hold them now."""
        self._redeploy = redeploy
        self._read = read
        self.generation = generation or Generation()
        self.lock = asyncio.Lock()
        self._serving: Fingerprint | None = None
        self._reloading: asyncio.Task[None] | None = None
        self._reload_again = False

    async def change(
        self,
        previous: Sequence[DeployedStage],
        candidate: Sequence[DeployedStage],
        strict: Collection[StageKey],
        write: Callable[[], Awaitable[T]],
    ) -> T:
        """Serve `candidate` (BadRequest listing the problems of `strict` stages that do not
        compile), then write; if the write fails, serve `previous` again. Hold `lock`."""
        before, after = fingerprint(previous), fingerprint(candidate)
        if before == after:
            return await write()
        try:
            await self._redeploy(candidate, strict)
        except ConfigError as exc:
            headline = "The deployment does not compile; the stage keeps what it served:"
            raise BadRequest(problems_message(headline, exc.problems)) from None
        self._serving = after
        try:
            result = await write()
        except BaseException:
            await self._redeploy(previous, ())
            self._serving = before
            raise
        self.generation.bump()
        return result

    async def reload(self) -> None:
        """Serve what the records hold (at start, and after another process changed them).
        Stages that do not compile are left out by `redeploy`; nothing is raised for them."""
        async with self.lock:
            deployed = await self._read()
            found = fingerprint(deployed)
            if found == self._serving:
                return
            await self._redeploy(deployed, ())
            self._serving = found

    def reload_soon(self) -> None:
        """Schedule `reload` (from a synchronous change notice); notices that arrive while one
        runs are folded into one more round."""
        if self._reloading is not None and not self._reloading.done():
            self._reload_again = True
            return
        self._reloading = asyncio.get_running_loop().create_task(self._reload_rounds())

    async def _reload_rounds(self) -> None:
        while True:
            self._reload_again = False
            try:
                await self.reload()
            except Exception:
                log.exception("could not reload the deployed stages from the records")
            if not self._reload_again:
                return

    async def close(self) -> None:
        task = self._reloading
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
