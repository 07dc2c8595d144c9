"""Counters in this process's memory, saved to the records database so a restart loses no usage.

Every verb is dict arithmetic that never yields to the event loop, so one loop needs no locks
and a verb is atomic by construction. Quota counts and daily usage changed since the last save
are written every `flush_interval` seconds by a background task and at `close()`, and read back
by `open()`; buckets are not saved (a restart refills them, as AWS promises only best effort).
Entries that no longer matter are swept now and then: windows past their end, buckets full again,
usage older than the retention.

One process only: two processes on memory counters would each count alone and overwrite each
other's saved counts. A fleet uses Redis.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from authgate.clock import Clock
from authgate.storage.counters import USAGE_RETENTION_DAYS, QuotaWindow, TokenBucket
from authgate.storage.sql.engine import writer
from authgate.storage.sql.schema import daily_usage, quota_counts
from authgate.usage.bucket import Bucket, full_at
from authgate.usage.bucket import take as take_token
from authgate.usage.quota import DAY_SECONDS, day_of, days

log = logging.getLogger("authgate.counters")

QuotaKey = tuple[str, str, str]
"""(key id, plan id, window id)"""
UsageKey = tuple[str, str, str]
"""(plan id, day, key id)"""


class _Count:
    __slots__ = ("expires_at", "used")

    def __init__(self, used: int, expires_at: float) -> None:
        self.used = used
        self.expires_at = expires_at


class MemoryCounters:
    """`CounterStore` in memory, persisted to `engine` (None: not persisted, for tests)."""

    def __init__(
        self,
        engine: AsyncEngine | None,
        clock: Clock,
        *,
        flush_interval: float = 1.0,
        sweep_interval: float = 60.0,
        usage_retention_days: int = USAGE_RETENTION_DAYS,
    ) -> None:
        self._engine = engine
        self._clock = clock
        self._flush_interval = flush_interval
        self._sweep_interval = sweep_interval
        self._retention = usage_retention_days
        self._buckets: dict[str, tuple[Bucket, float, int]] = {}
        """key → (bucket, rate, burst): the sweep needs the last two to know when it is full."""
        self._quota: dict[QuotaKey, _Count] = {}
        self._usage: dict[tuple[str, str], dict[str, int]] = {}
        self._dirty_quota: set[QuotaKey] = set()
        self._dirty_usage: set[UsageKey] = set()
        self._gone_before: float | None = None
        self._last_sweep = clock.now()
        self._flushing = asyncio.Lock()
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @classmethod
    async def open(
        cls, engine: AsyncEngine | None, clock: Clock, *, flush_interval: float = 1.0
    ) -> MemoryCounters:
        """Counters loaded from `engine`, saving themselves every `flush_interval` seconds."""
        counters = cls(engine, clock, flush_interval=flush_interval)
        await counters.load()
        if engine is not None:
            counters._task = asyncio.create_task(counters._flush_loop())
        return counters

    # -- the verbs -------------------------------------------------------------------------------

    async def take(self, key: str, rate: float, burst: int, now: float, cost: int = 1) -> bool:
        entry = self._buckets.get(key)
        admitted, bucket = take_token(entry[0] if entry else None, rate, burst, now, cost)
        self._buckets[key] = (bucket, rate, burst)
        return admitted

    async def consume(
        self,
        key_id: str,
        plan_id: str,
        day: str,
        *,
        limit: int,
        window: str,
        expires_at: float,
        now: float,
    ) -> tuple[bool, int]:
        return self._charge(key_id, plan_id, day, QuotaWindow(window, limit, expires_at))

    async def admit(
        self,
        buckets: Sequence[TokenBucket],
        key_id: str,
        plan_id: str,
        day: str,
        *,
        quota: QuotaWindow | None,
        now: float,
    ) -> int | None:
        taken: dict[str, tuple[Bucket, float, int]] = {}
        for level, (key, rate, burst) in enumerate(buckets):
            entry = taken.get(key) or self._buckets.get(key)
            admitted, bucket = take_token(entry[0] if entry else None, rate, burst, now)
            if not admitted:
                return level
            taken[key] = (bucket, rate, burst)
        if quota is None:
            self._add_usage(key_id, plan_id, day, 1)
        elif not self._charge(key_id, plan_id, day, quota)[0]:
            return len(buckets)
        self._buckets.update(taken)
        return None

    async def record(self, key_id: str, plan_id: str, day: str, n: int = 1) -> None:
        self._add_usage(key_id, plan_id, day, n)

    async def quota_used(self, key_id: str, plan_id: str, window: str) -> int:
        count = self._quota.get((key_id, plan_id, window))
        return 0 if count is None else count.used

    async def set_used(
        self,
        key_id: str,
        plan_id: str,
        *,
        window: str,
        used: int,
        expires_at: float,
        now: float,
    ) -> None:
        key = (key_id, plan_id, window)
        self._quota[key] = _Count(used, expires_at)
        self._dirty_quota.add(key)

    async def usage(
        self, plan_id: str, key_ids: Sequence[str] | None, start_day: str, end_day: str
    ) -> dict[str, list[int]]:
        span = days(start_day, end_day)
        per_day = [self._usage.get((plan_id, day), {}) for day in span]
        if key_ids is None:
            key_ids = sorted({key for counts in per_day for key in counts})
        return {key: [counts.get(key, 0) for counts in per_day] for key in key_ids}

    def _charge(self, key_id: str, plan_id: str, day: str, quota: QuotaWindow) -> tuple[bool, int]:
        key = (key_id, plan_id, quota.id)
        count = self._quota.get(key)
        if count is None:
            count = self._quota[key] = _Count(0, quota.expires_at)
        if count.used >= quota.limit:
            return False, count.used
        count.used += 1
        self._dirty_quota.add(key)
        self._add_usage(key_id, plan_id, day, 1)
        return True, count.used

    def _add_usage(self, key_id: str, plan_id: str, day: str, n: int) -> None:
        counts = self._usage.get((plan_id, day))
        if counts is None:
            counts = self._usage[(plan_id, day)] = {}
        counts[key_id] = counts.get(key_id, 0) + n
        self._dirty_usage.add((plan_id, day, key_id))

    # -- housekeeping ----------------------------------------------------------------------------

    def sweep(self) -> None:
        """Forget what no longer changes an answer: buckets that are full again, windows that
        have ended, usage older than the retention."""
        now = self._clock.now()
        self._last_sweep = now
        self._buckets = {k: v for k, v in self._buckets.items() if full_at(*v) > now}
        ended = [key for key, count in self._quota.items() if count.expires_at <= now]
        for key in ended:
            del self._quota[key]
            self._dirty_quota.discard(key)
        cutoff = self._cutoff_day(now)
        for plan_day in [k for k in self._usage if k[1] < cutoff]:
            for key_id in self._usage.pop(plan_day):
                self._dirty_usage.discard((*plan_day, key_id))
        self._gone_before = now

    def _cutoff_day(self, now: float) -> str:
        return day_of(now - self._retention * DAY_SECONDS)

    async def load(self) -> None:
        """Read back what was saved: unexpired quota counts and usage within the retention."""
        if self._engine is None:
            return
        now = self._clock.now()
        async with self._engine.connect() as conn:
            quota_rows = await conn.execute(
                select(quota_counts).where(quota_counts.c.expires_at > now)
            )
            for row in quota_rows:
                key = (row.key_id, row.plan_id, row.period_id)
                self._quota[key] = _Count(row.used, row.expires_at)
            usage_rows = await conn.execute(
                select(daily_usage).where(daily_usage.c.day >= self._cutoff_day(now))
            )
            for row in usage_rows:
                self._usage.setdefault((row.plan_id, row.day), {})[row.key_id] = row.used

    async def flush(self) -> None:
        """Save the counts changed since the last save (and drop saved rows swept here)."""
        if self._engine is None:
            return
        async with self._flushing:
            if self._clock.now() - self._last_sweep >= self._sweep_interval:
                self.sweep()
            dirty_quota, self._dirty_quota = self._dirty_quota, set()
            dirty_usage, self._dirty_usage = self._dirty_usage, set()
            gone_before, self._gone_before = self._gone_before, None
            quota_rows = [
                {
                    "key_id": key[0],
                    "plan_id": key[1],
                    "period_id": key[2],
                    "used": count.used,
                    "expires_at": count.expires_at,
                }
                for key in dirty_quota
                if (count := self._quota.get(key)) is not None
            ]
            usage_rows = [
                {"plan_id": plan_id, "day": day, "key_id": key_id, "used": used}
                for plan_id, day, key_id in dirty_usage
                if (used := self._usage.get((plan_id, day), {}).get(key_id)) is not None
            ]
            try:
                await self._write(quota_rows, usage_rows, gone_before)
            except BaseException:
                # Not saved: keep them for the next attempt (later changes are already there).
                self._dirty_quota |= dirty_quota
                self._dirty_usage |= dirty_usage
                if self._gone_before is None:
                    self._gone_before = gone_before
                raise

    async def _write(
        self,
        quota_rows: list[dict[str, Any]],
        usage_rows: list[dict[str, Any]],
        gone_before: float | None,
    ) -> None:
        if not quota_rows and not usage_rows and gone_before is None:
            return
        assert self._engine is not None
        async with writer(self._engine).begin() as conn:
            if quota_rows:
                await conn.execute(self._upsert(quota_counts, "used", "expires_at"), quota_rows)
            if usage_rows:
                await conn.execute(self._upsert(daily_usage, "used"), usage_rows)
            if gone_before is not None:
                await conn.execute(
                    delete(quota_counts).where(quota_counts.c.expires_at <= gone_before)
                )
                await conn.execute(
                    delete(daily_usage).where(daily_usage.c.day < self._cutoff_day(gone_before))
                )

    def _upsert(self, table: Table, *columns: str) -> Any:
        assert self._engine is not None
        dialect = postgresql if self._engine.dialect.name == "postgresql" else sqlite
        statement = dialect.insert(table)
        return statement.on_conflict_do_update(
            index_elements=list(table.primary_key.columns),
            set_={name: statement.excluded[name] for name in columns},
        )

    async def _flush_loop(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self._flush_interval)
            try:
                await self.flush()
            except Exception:
                log.exception("saving usage counters failed; retrying in %ss", self._flush_interval)

    async def close(self) -> None:
        """Stop the background saves and save once more."""
        self._stop.set()
        if self._task is not None:
            await self._task
            self._task = None
        await self.flush()

    @property
    def bucket_count(self) -> int:
        """Buckets held (for metrics and tests of the sweep)."""
        return len(self._buckets)
