"""The CounterStore contract, run against every counter backend: memory (saved to SQLite) and a
real Redis. Time is a ManualClock's; nothing sleeps to let time pass."""

from __future__ import annotations

import asyncio
import importlib.util
import subprocess
import sys
import textwrap
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from authgate.clock import ManualClock
from authgate.errors import ConfigError
from authgate.storage.counter_stores import open_counters
from authgate.storage.counters import CounterStore, CounterUnavailable
from authgate.storage.memory_counters import MemoryCounters
from authgate.storage.sql.engine import open_engine
from authgate.storage.sql.schema import quota_counts
from authgate.usage.quota import Period, Quota, day_of, window_at
from tests.contract import records
from tests.private_servers import require
from tests.redis_service import RedisServer
from tests.support import free_port

WAIT = 20.0
KEY, PLAN = "key1", "plan1"


def need_redis_client() -> None:
    require(
        "the redis Python client",
        importlib.util.find_spec("redis") is not None,
        "pip install redis==8.1.0",
    )


@dataclass
class Backend:
    """One counter backend: `open()` gives another store on the same counts (for memory: a
    restart over the same database; for Redis: another client connection)."""

    name: str
    opener: Callable[[], Awaitable[CounterStore]]
    stores: list[CounterStore] = field(default_factory=list)
    engines: list[AsyncEngine] = field(default_factory=list)

    async def open(self) -> CounterStore:
        store = await self.opener()
        self.stores.append(store)
        return store

    async def close(self) -> None:
        for store in self.stores:
            await store.close()
        for engine in self.engines:
            await engine.dispose()


def memory_backend(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    clock: ManualClock,
    flush_interval: float = 1.0,
    records_url: str = "sqlite:///counters.db",
) -> Backend:
    backend = Backend("memory", lambda: opener())

    async def opener() -> CounterStore:
        engine = await open_engine(records_url, base_dir=tmp_path)
        backend.engines.append(engine)
        return await MemoryCounters.open(engine, clock, flush_interval=flush_interval)

    return backend


def redis_backend(request: pytest.FixtureRequest, tmp_path: Path, clock: ManualClock) -> Backend:
    need_redis_client()
    from authgate.storage.redis_counters import RedisCounters

    url = request.getfixturevalue("redis_url")
    prefix = f"test-{uuid.uuid4().hex}:"

    async def opener() -> CounterStore:
        return await RedisCounters.open(url, prefix=prefix)

    return Backend("redis", opener)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture(params=[memory_backend, redis_backend], ids=["memory", "redis"])
async def backend(
    request: pytest.FixtureRequest, tmp_path: Path, clock: ManualClock
) -> AsyncIterator[Backend]:
    made = request.param(request, tmp_path, clock)
    yield made
    await asyncio.wait_for(made.close(), WAIT)


@pytest.fixture
async def store(backend: Backend) -> CounterStore:
    return await backend.open()


async def consume(
    store: CounterStore, clock: ManualClock, quota: Quota, key: str = KEY
) -> tuple[bool, int]:
    now = clock.now()
    window = quota.window(now)
    return await store.consume(
        key,
        PLAN,
        day_of(now),
        limit=quota.allowance(window),
        window=window.id,
        expires_at=window.end,
        now=now,
    )


# -- throttling ----------------------------------------------------------------------------------


async def test_a_bucket_admits_its_burst_then_throttles(
    store: CounterStore, clock: ManualClock
) -> None:
    answers = [await store.take("plan1:key1", 1.0, 5, clock.now()) for _ in range(8)]
    assert answers == [True] * 5 + [False] * 3
    assert await store.take("plan1:key2", 1.0, 5, clock.now())  # another bucket


async def test_a_bucket_refills_at_its_rate(store: CounterStore, clock: ManualClock) -> None:
    for _ in range(3):
        assert await store.take("b", 4.0, 3, clock.now())
    assert not await store.take("b", 4.0, 3, clock.now())
    clock.advance(0.2)
    assert not await store.take("b", 4.0, 3, clock.now())
    clock.advance(0.05)  # 0.25 s at 4/s: one token
    assert await store.take("b", 4.0, 3, clock.now())
    assert not await store.take("b", 4.0, 3, clock.now())
    clock.advance(3600)  # refills to the burst, no further
    answers = [await store.take("b", 4.0, 3, clock.now()) for _ in range(5)]
    assert answers == [True] * 3 + [False] * 2


async def test_a_fractional_rate_and_a_clock_going_back(
    store: CounterStore, clock: ManualClock
) -> None:
    assert await store.take("f", 0.5, 1, clock.now())
    clock.advance(1.5)
    assert not await store.take("f", 0.5, 1, clock.now())
    assert not await store.take("f", 0.5, 1, clock.now() - 100)  # skew mints nothing
    clock.advance(0.5)
    assert await store.take("f", 0.5, 1, clock.now())


async def test_no_rate_never_refills_and_no_burst_admits_nothing(
    store: CounterStore, clock: ManualClock
) -> None:
    assert [await store.take("r0", 0.0, 2, clock.now()) for _ in range(3)] == [True, True, False]
    clock.advance(10**6)
    assert not await store.take("r0", 0.0, 2, clock.now())
    assert not await store.take("b0", 5.0, 0, clock.now())


# -- quotas and usage ----------------------------------------------------------------------------


async def test_a_quota_allows_exactly_its_limit_then_denies(
    store: CounterStore, clock: ManualClock
) -> None:
    quota = Quota(limit=3, period=Period.DAY)
    answers = [await consume(store, clock, quota) for _ in range(5)]
    assert answers == [(True, 1), (True, 2), (True, 3), (False, 3), (False, 3)]
    assert await consume(store, clock, quota, key="key2") == (True, 1)


async def test_a_quota_rolls_over_at_the_window_boundary(
    store: CounterStore, clock: ManualClock
) -> None:
    quota = Quota(limit=2, period=Period.MONTH)
    end = window_at(Period.MONTH, clock.now()).end
    clock.advance(end - clock.now() - 0.001)  # the last millisecond of the month
    assert [await consume(store, clock, quota) for _ in range(3)] == [
        (True, 1),
        (True, 2),
        (False, 2),
    ]
    clock.advance(0.001)
    assert clock.now() == end
    assert await consume(store, clock, quota) == (True, 1)


async def test_the_offset_shrinks_the_first_window_only(
    store: CounterStore, clock: ManualClock
) -> None:
    quota = Quota(limit=3, period=Period.WEEK, offset=2, since=clock.now())
    assert [await consume(store, clock, quota) for _ in range(2)] == [(True, 1), (False, 1)]
    clock.advance(window_at(Period.WEEK, clock.now()).end - clock.now())
    answers = [await consume(store, clock, quota) for _ in range(4)]
    assert answers == [(True, 1), (True, 2), (True, 3), (False, 3)]


async def test_daily_usage_is_recorded_per_key_and_read_back(
    store: CounterStore, clock: ManualClock
) -> None:
    quota = Quota(limit=2, period=Period.MONTH)
    clock.advance(window_at(Period.DAY, clock.now()).end - clock.now())  # a day's start
    first = day_of(clock.now())
    for _ in range(3):  # the third is denied and not counted
        await consume(store, clock, quota)
    await consume(store, clock, quota, key="key2")
    clock.advance(86_400)
    second = day_of(clock.now())
    await consume(store, clock, quota, key="key2")
    await store.record("key3", PLAN, second, 4)  # a plan without a quota records only
    await store.record("key3", "another-plan", second)

    assert await store.usage(PLAN, None, first, second) == {
        KEY: [2, 0],
        "key2": [1, 1],
        "key3": [0, 4],
    }
    assert await store.usage(PLAN, ["key2", "nobody"], second, second) == {
        "key2": [1],
        "nobody": [0],
    }
    assert await store.usage(PLAN, None, second, first) == {}
    assert await store.usage("another-plan", None, first, second) == {"key3": [0, 1]}


async def test_set_used_overrides_the_window_count(store: CounterStore, clock: ManualClock) -> None:
    quota = Quota(limit=5, period=Period.DAY)
    window = quota.window(clock.now())
    await consume(store, clock, quota)
    assert await store.quota_used(KEY, PLAN, window.id) == 1
    await store.set_used(
        KEY, PLAN, window=window.id, used=4, expires_at=window.end, now=clock.now()
    )
    assert await store.quota_used(KEY, PLAN, window.id) == 4
    assert [await consume(store, clock, quota) for _ in range(2)] == [(True, 5), (False, 5)]
    # remaining 3 with a limit of 5: used becomes 2; remaining 7 grants extra (used -2)
    await store.set_used(
        KEY,
        PLAN,
        window=window.id,
        used=quota.used_for_remaining(window, 7),
        expires_at=window.end,
        now=clock.now(),
    )
    assert await store.quota_used(KEY, PLAN, window.id) == -2
    answers = [await consume(store, clock, quota) for _ in range(8)]
    assert answers[-2:] == [(True, 5), (False, 5)]
    assert await store.quota_used("key2", PLAN, window.id) == 0


# -- concurrency ---------------------------------------------------------------------------------


async def test_concurrent_callers_never_get_more_than_allowed(
    backend: Backend, store: CounterStore, clock: ManualClock
) -> None:
    # Redis: the callers are spread over two client connections (two stores).
    stores = [store, await backend.open()] if backend.name == "redis" else [store]
    now = clock.now()
    window = window_at(Period.DAY, now)
    takes = [stores[i % len(stores)].take("c", 0.0, 50, now) for i in range(200)]
    consumes = [
        stores[i % len(stores)].consume(
            KEY, PLAN, day_of(now), limit=70, window=window.id, expires_at=window.end, now=now
        )
        for i in range(200)
    ]
    taken = await asyncio.wait_for(asyncio.gather(*takes), WAIT)
    consumed = await asyncio.wait_for(asyncio.gather(*consumes), WAIT)
    assert sum(taken) == 50
    assert sum(admitted for admitted, _ in consumed) == 70
    assert sorted(used for admitted, used in consumed if admitted) == list(range(1, 71))
    assert await store.quota_used(KEY, PLAN, window.id) == 70
    assert await store.usage(PLAN, [KEY], day_of(now), day_of(now)) == {KEY: [70]}


# -- backend specifics ---------------------------------------------------------------------------


@pytest.fixture(params=records.BACKENDS)
async def memory(
    request: pytest.FixtureRequest, tmp_path: Path, clock: ManualClock
) -> AsyncIterator[Backend]:
    """Memory counters saved to each records backend (the upserts differ by dialect)."""
    url = request.param(request)
    made = memory_backend(request, tmp_path, clock, flush_interval=0.05, records_url=url)
    yield made
    await asyncio.wait_for(made.close(), WAIT)


async def test_memory_counts_survive_a_restart(memory: Backend, clock: ManualClock) -> None:
    first = await memory.open()
    quota = Quota(limit=10, period=Period.MONTH)
    window = quota.window(clock.now())
    for _ in range(3):
        await consume(first, clock, quota)
    await first.record("key2", PLAN, day_of(clock.now()), 5)
    await first.set_used(
        "key3", PLAN, window=window.id, used=-4, expires_at=window.end, now=clock.now()
    )
    assert isinstance(first, MemoryCounters)
    await first.flush()  # as the periodic save does; nothing after it is needed

    second = await memory.open()
    assert await second.quota_used(KEY, PLAN, window.id) == 3
    assert await second.quota_used("key3", PLAN, window.id) == -4
    assert await consume(second, clock, quota) == (True, 4)
    day = day_of(clock.now())
    assert await second.usage(PLAN, None, day, day) == {KEY: [4], "key2": [5]}

    await second.close()  # the final save at shutdown
    third = await memory.open()
    assert await third.quota_used(KEY, PLAN, window.id) == 4

    clock.advance(window.end - clock.now())  # a restart after the window ended
    fourth = await memory.open()
    assert await fourth.quota_used(KEY, PLAN, window.id) == 0
    assert await fourth.usage(PLAN, [KEY], day, day) == {KEY: [4]}


async def saved_counts(engine: AsyncEngine) -> list[tuple[str, int]]:
    async with engine.connect() as conn:
        rows = await conn.execute(select(quota_counts.c.period_id, quota_counts.c.used))
        return [(row.period_id, row.used) for row in rows]


async def test_memory_saves_on_its_own_and_forgets_ended_windows(
    memory: Backend, clock: ManualClock
) -> None:
    store = await memory.open()
    assert isinstance(store, MemoryCounters)
    engine = memory.engines[0]
    quota = Quota(limit=10, period=Period.DAY)
    window = quota.window(clock.now())
    day = day_of(clock.now())
    await consume(store, clock, quota)
    saved = []
    for _ in range(100):  # saved every 0.05 s here (real time): wait up to 5 s
        saved = await saved_counts(engine)
        if saved:
            break
        await asyncio.sleep(0.05)
    assert saved == [(window.id, 1)]

    await store.take("idle", 10.0, 2, clock.now())
    assert store.bucket_count == 1
    clock.advance(window.end - clock.now())
    store.sweep()
    assert store.bucket_count == 0
    assert await store.quota_used(KEY, PLAN, window.id) == 0
    await store.flush()
    assert await saved_counts(engine) == []
    assert await store.usage(PLAN, [KEY], day, day) == {KEY: [1]}  # usage outlives the window


async def test_redis_keys_are_namespaced_and_expire(redis_url: str, clock: ManualClock) -> None:
    need_redis_client()
    from redis.asyncio import Redis

    from authgate.storage.redis_counters import BUCKET_TTL_FLOOR_MS, RedisCounters

    prefix = f"test-{uuid.uuid4().hex}:"
    store = await RedisCounters.open(redis_url, prefix=prefix)
    raw = Redis.from_url(redis_url)
    try:
        quota = Quota(limit=5, period=Period.DAY)
        window = quota.window(clock.now())
        await store.take("t", 2.0, 10, clock.now())
        await consume(store, clock, quota)
        await store.take("forever", 0.0, 1, clock.now())
        keys = sorted(key.decode() for key in await raw.keys(f"{prefix}*"))
        assert keys == [
            f"{prefix}bucket:forever",
            f"{prefix}bucket:t",
            f"{prefix}{{{PLAN}}}:quota:{KEY}:{window.id}",
            f"{prefix}{{{PLAN}}}:usage:{day_of(clock.now())}",
        ]
        # full again after 0.5 s, kept at least the floor; a bucket that never refills stays
        assert BUCKET_TTL_FLOOR_MS < await raw.pttl(keys[1]) <= BUCKET_TTL_FLOOR_MS + 500
        assert await raw.pttl(keys[0]) == -1
        # the window's count goes when the window ends, on the caller's clock
        expected = (window.end - clock.now()) * 1000
        assert expected - 5000 < await raw.pttl(keys[2]) <= expected
        assert 399 * 86_400 < await raw.ttl(keys[3]) <= 400 * 86_400
    finally:
        await raw.aclose()
        await store.close()


async def test_redis_unreachable_raises_counter_unavailable(clock: ManualClock) -> None:
    need_redis_client()
    from authgate.storage.redis_counters import RedisCounters

    store = await RedisCounters.open(f"redis://127.0.0.1:{free_port()}/0", socket_timeout=0.5)
    try:
        with pytest.raises(CounterUnavailable):
            await asyncio.wait_for(store.take("x", 1.0, 1, clock.now()), WAIT)
        with pytest.raises(CounterUnavailable):
            await asyncio.wait_for(store.record(KEY, PLAN, "2024-01-01"), WAIT)
        with pytest.raises(CounterUnavailable):
            await asyncio.wait_for(store.usage(PLAN, None, "2024-01-01", "2024-01-02"), WAIT)
    finally:
        await store.close()


async def test_redis_going_down_and_coming_back(tmp_path: Path, clock: ManualClock) -> None:
    require("redis-server", RedisServer.installed(), "run `bash scripts/services.sh`")
    need_redis_client()
    from authgate.storage.redis_counters import RedisCounters

    server = RedisServer(tmp_path / "redis")
    server.start()
    store = None
    try:
        store = await RedisCounters.open(server.url, socket_timeout=0.5)
        assert await store.take("x", 1.0, 2, clock.now())
        server.stop()
        with pytest.raises(CounterUnavailable):
            await asyncio.wait_for(store.take("x", 1.0, 2, clock.now()), WAIT)
        quota = Quota(limit=1, period=Period.DAY)
        with pytest.raises(CounterUnavailable):
            await asyncio.wait_for(consume(store, clock, quota), WAIT)
        server.start()  # empty, without the scripts: they are loaded again on demand
        assert await asyncio.wait_for(consume(store, clock, quota), WAIT) == (True, 1)
        assert await store.take("x", 1.0, 2, clock.now())
    finally:
        server.stop()
        if store is not None:
            await store.close()


WORKER = textwrap.dedent(
    """
    import asyncio, sys
    from authgate.storage.redis_counters import RedisCounters

    async def main(url, prefix, now):
        store = await RedisCounters.open(url, prefix=prefix)
        try:
            answers = await asyncio.wait_for(
                asyncio.gather(*(store.take("fleet", 0.0, 60, now) for _ in range(150))), 20
            )
        finally:
            await store.close()
        print(sum(answers))

    asyncio.run(main(sys.argv[1], sys.argv[2], float(sys.argv[3])))
    """
)


async def test_two_processes_share_one_redis_bucket(redis_url: str, clock: ManualClock) -> None:
    need_redis_client()
    prefix = f"test-{uuid.uuid4().hex}:"
    args = ["-c", WORKER, redis_url, prefix, repr(clock.now())]
    workers = [
        await asyncio.create_subprocess_exec(sys.executable, *args, stdout=subprocess.PIPE)
        for _ in range(2)
    ]
    counts = []
    for worker in workers:
        try:
            out, _ = await asyncio.wait_for(worker.communicate(), WAIT)
        finally:
            if worker.returncode is None:
                worker.kill()
                await worker.wait()
        assert worker.returncode == 0
        counts.append(int(out))
    assert sum(counts) == 60
    assert all(count < 150 for count in counts)


async def test_open_counters_maps_schemes(tmp_path: Path, clock: ManualClock) -> None:
    engine = await open_engine("sqlite:///c.db", base_dir=tmp_path)
    try:
        store = await open_counters("memory://", engine=engine, clock=clock)
        assert isinstance(store, MemoryCounters)
        await store.close()
        for bad in (
            "memcached://localhost",
            "memory://somewhere",
            "memory:///path",
            "nothing",
            "redis://h/zero",
            "redis://h?bad_option=1",
        ):
            with pytest.raises(ConfigError, match="counters"):
                await open_counters(bad, engine=engine, clock=clock)
    finally:
        await engine.dispose()


async def test_taking_several_tokens_at_once(store: CounterStore, clock: ManualClock) -> None:
    now = clock.now()
    assert await store.take("t:cost", 0.0, 10, now, 4)
    assert await store.take("t:cost", 0.0, 10, now, 4)
    assert not await store.take("t:cost", 0.0, 10, now, 4)  # two left: none taken
    assert await store.take("t:cost", 0.0, 10, now, 2)
    assert not await store.take("t:cost", 0.0, 10, now)
