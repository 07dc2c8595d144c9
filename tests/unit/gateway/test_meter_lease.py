"""The account bucket leased in batches from a shared store never admits more than it holds."""

from __future__ import annotations

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
