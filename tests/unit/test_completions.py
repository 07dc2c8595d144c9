"""Work handed to Completions outlives a cancelled caller, and its failure is still logged."""

from __future__ import annotations

import asyncio

import pytest

from authgate.completions import Completions


async def test_the_work_finishes_after_its_caller_is_cancelled() -> None:
    completions = Completions()
    release = asyncio.Event()
    done: list[str] = []

    async def work() -> str:
        await release.wait()
        done.append("written")
        return "answer"

    caller = asyncio.create_task(completions.run(work()))
    await asyncio.sleep(0)
    caller.cancel()
    with pytest.raises(asyncio.CancelledError):
        await caller
    assert len(completions) == 1
    assert not done
    release.set()
    await completions.wait(grace=5)
    assert done == ["written"]
    assert len(completions) == 0


async def test_a_caller_that_stays_gets_the_result_or_the_error() -> None:
    completions = Completions()

    async def fails() -> None:
        raise ValueError("bad input")

    async def answers() -> int:
        return 7

    assert await completions.run(answers()) == 7
    with pytest.raises(ValueError, match="bad input"):
        await completions.run(fails())


async def test_a_failure_nobody_awaits_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    completions = Completions()
    release = asyncio.Event()

    async def fails_later() -> None:
        await release.wait()
        raise RuntimeError("disk full")

    caller = asyncio.create_task(completions.run(fails_later()))
    await asyncio.sleep(0)
    caller.cancel()
    with pytest.raises(asyncio.CancelledError):
        await caller
    release.set()
    await completions.wait(grace=5)
    await asyncio.sleep(0)  # done callbacks run one turn after the task ends
    assert "request failed after its client left" in caplog.text
    assert "disk full" in caplog.text
