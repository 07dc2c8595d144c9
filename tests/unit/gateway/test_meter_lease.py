"""The account bucket leased in batches from a shared store never admits more than it holds."""

from __future__ import annotations

import asyncio

from authgate.clock import ManualClock
from authgate.gateway.steps.meter import Metering
from authgate.storage.memory_counters import MemoryCounters
from authgate.usage.snapshot import UsageSnapshot


class NoKeys:
    generation = 0

    def digest(self, value: str) -> str:
        return value

    async def snapshot(self) -> UsageSnapshot:
        return UsageSnapshot(0, {})


async def test_leases_never_exceed_the_shared_bucket() -> None:
    clock = ManualClock()
    counters = MemoryCounters(None, clock)
    fleet = [
        Metering(NoKeys(), counters, clock, account=(0.0, 10), account_lease=4) for _ in range(2)
    ]
    admitted = 0
    for _ in range(10):
        for process in fleet:
            admitted += bool(await process.take_account(clock.now()))
    # 10 tokens, leased 4 at a time to two processes, then one by one: exactly 10 admitted.
    assert admitted == 10


class Remote(MemoryCounters):
    """Memory counters that answer after a turn of the event loop, as a network store does."""

    async def take(self, key: str, rate: float, burst: int, now: float, cost: int = 1) -> bool:
        await asyncio.sleep(0)
        return await super().take(key, rate, burst, now, cost)


async def test_concurrent_callers_share_one_lease() -> None:
    clock = ManualClock()
    counters = Remote(None, clock)
    metering = Metering(NoKeys(), counters, clock, account=(0.0, 100), account_lease=10)
    results = await asyncio.gather(*(metering.take_account(clock.now()) for _ in range(100)))
    assert results.count(True) == 100  # nothing leased twice, nothing wasted
    assert not await metering.take_account(clock.now())
