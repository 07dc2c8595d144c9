"""Known keys' digests are computed once; unknown values are never remembered; a memoized
digest does not outlive the key in the records."""

from __future__ import annotations

import os
from types import MappingProxyType

from authgate.clock import ManualClock
from authgate.gateway.steps.meter import Metering
from authgate.security.secrets import SecretBox
from authgate.storage.memory_counters import MemoryCounters
from authgate.usage.snapshot import API_KEY_DIGEST_CONTEXT, KeyEntry, UsageSnapshot

VALUE = "k" * 40


class CountingSource:
    """Keys and plans as the meter reads them, with digests by a real box, counted."""

    generation = 0

    def __init__(self) -> None:
        self.box = SecretBox(os.urandom(32))
        self.digests = 0

    def digest(self, value: str) -> str:
        self.digests += 1
        return self.box.digest(value.encode(), context=API_KEY_DIGEST_CONTEXT)

    async def snapshot(self) -> UsageSnapshot:
        return UsageSnapshot(0, {})


def snapshot_with(source: CountingSource, *values: str) -> UsageSnapshot:
    keys = {
        source.box.digest(value.encode(), context=API_KEY_DIGEST_CONTEXT): KeyEntry(
            f"id-{n}", True, MappingProxyType({})
        )
        for n, value in enumerate(values)
    }
    return UsageSnapshot(1, MappingProxyType(keys))


def metering(source: CountingSource) -> Metering:
    clock = ManualClock()
    return Metering(source, MemoryCounters(None, clock), clock, account=(1.0, 1))


def test_a_known_key_is_digested_once() -> None:
    source = CountingSource()
    meter, snapshot = metering(source), snapshot_with(source, VALUE)
    found = [meter.key_entry(snapshot, VALUE) for _ in range(5)]
    assert {key.id if key else None for key in found} == {"id-0"}
    assert source.digests == 1


def test_unknown_values_are_digested_every_time_and_not_kept() -> None:
    source = CountingSource()
    meter, snapshot = metering(source), snapshot_with(source, VALUE)
    for n in range(5):
        assert meter.key_entry(snapshot, f"guess-{n % 2}") is None
    assert source.digests == 5
    assert meter.key_entry(snapshot, VALUE) is not None
    assert source.digests == 6


def test_a_deleted_key_is_not_found_through_its_remembered_digest() -> None:
    source = CountingSource()
    meter = metering(source)
    assert meter.key_entry(snapshot_with(source, VALUE), VALUE) is not None
    assert meter.key_entry(snapshot_with(source, "other" * 8), VALUE) is None
