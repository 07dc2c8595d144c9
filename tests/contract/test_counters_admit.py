"""`admit`, the one call an API-key request costs the counter store, held to the same contract on
memory and on a real Redis: buckets then the quota, all or nothing, the refusing level named,
and the bucket arithmetic of `authgate.usage.bucket` to the last bit."""

from __future__ import annotations

import asyncio
import random
import uuid

import pytest

from authgate.clock import ManualClock
from authgate.storage.counters import CounterStore, CounterUnavailable, QuotaWindow, TokenBucket
from authgate.usage.bucket import Bucket, take
from authgate.usage.quota import Period, Quota, day_of, window_at
from tests.contract import test_counters as contract
from tests.contract.test_counters import KEY, PLAN, WAIT, Backend, need_redis_client
from tests.support import free_port

# The same fixtures as the rest of the contract: a ManualClock, every backend, a store on it.
clock, backend, store = contract.clock, contract.backend, contract.store
PLAN_BUCKET, STAGE_BUCKET = "plan:plan1:key1", "stage:api:prod://GET"


def window(quota: Quota, clock: ManualClock) -> QuotaWindow:
    now = clock.now()
    current = quota.window(now)
    return QuotaWindow(current.id, quota.allowance(current), current.end)


async def admit(
    store: CounterStore,
    clock: ManualClock,
    buckets: list[TokenBucket],
    quota: Quota | None,
    key: str = KEY,
) -> int | None:
    now = clock.now()
    charge = None if quota is None else window(quota, clock)
    return await store.admit(buckets, key, PLAN, day_of(now), quota=charge, now=now)


async def tokens_left(store: CounterStore, bucket: TokenBucket, now: float) -> int:
    """Whole tokens in a bucket that never refills, found by taking them all."""
    left = 0
    while await store.take(bucket.key, bucket.rate, bucket.burst, now):
        left += 1
    return left


async def usage_today(store: CounterStore, clock: ManualClock, key: str = KEY) -> int:
    day = day_of(clock.now())
    return (await store.usage(PLAN, [key], day, day))[key][0]


# -- all or nothing ------------------------------------------------------------------------------


async def test_admitted_requests_take_every_bucket_and_charge_the_quota(
    store: CounterStore, clock: ManualClock
) -> None:
    plan, stage = TokenBucket(PLAN_BUCKET, 0.0, 3), TokenBucket(STAGE_BUCKET, 0.0, 5)
    quota = Quota(limit=10, period=Period.DAY)
    answers = [await admit(store, clock, [plan, stage], quota) for _ in range(4)]
    assert answers == [None, None, None, 0]  # the plan's burst, then the plan refuses
    window_id = quota.window(clock.now()).id
    assert await store.quota_used(KEY, PLAN, window_id) == 3
    assert await usage_today(store, clock) == 3
    assert await tokens_left(store, stage, clock.now()) == 2  # the refused request took none


async def test_a_stage_refusal_takes_nothing_from_the_plan_or_the_quota(
    store: CounterStore, clock: ManualClock
) -> None:
    plan, stage = TokenBucket(PLAN_BUCKET, 0.0, 5), TokenBucket(STAGE_BUCKET, 0.0, 2)
    quota = Quota(limit=10, period=Period.DAY)
    answers = [await admit(store, clock, [plan, stage], quota) for _ in range(4)]
    assert answers == [None, None, 1, 1]
    assert await store.quota_used(KEY, PLAN, quota.window(clock.now()).id) == 2
    assert await usage_today(store, clock) == 2
    assert await tokens_left(store, plan, clock.now()) == 3


async def test_a_spent_quota_takes_nothing_from_the_buckets(
    store: CounterStore, clock: ManualClock
) -> None:
    plan, stage = TokenBucket(PLAN_BUCKET, 0.0, 10), TokenBucket(STAGE_BUCKET, 0.0, 10)
    quota = Quota(limit=2, period=Period.DAY)
    answers = [await admit(store, clock, [plan, stage], quota) for _ in range(5)]
    assert answers == [None, None, 2, 2, 2]  # 2 = len(buckets): the quota refused
    assert await store.quota_used(KEY, PLAN, quota.window(clock.now()).id) == 2
    assert await usage_today(store, clock) == 2
    assert await tokens_left(store, plan, clock.now()) == 8
    assert await tokens_left(store, stage, clock.now()) == 8


async def test_a_quota_without_buckets_rolls_over_with_its_window(
    store: CounterStore, clock: ManualClock
) -> None:
    quota = Quota(limit=3, period=Period.WEEK, offset=1, since=clock.now())
    assert [await admit(store, clock, [], quota) for _ in range(3)] == [None, None, 0]
    assert await admit(store, clock, [], quota, key="key2") is None  # each key its own count
    clock.advance(window_at(Period.WEEK, clock.now()).end - clock.now())
    answers = [await admit(store, clock, [], quota) for _ in range(4)]
    assert answers == [None, None, None, 0]  # a later window: the whole limit
    assert await store.quota_used(KEY, PLAN, quota.window(clock.now()).id) == 3


async def test_without_a_quota_usage_is_recorded_only_when_admitted(
    store: CounterStore, clock: ManualClock
) -> None:
    plan = TokenBucket(PLAN_BUCKET, 0.0, 2)
    assert [await admit(store, clock, [plan], None) for _ in range(4)] == [None, None, 0, 0]
    assert await usage_today(store, clock) == 2
    assert await admit(store, clock, [], None, key="key2") is None
    assert await usage_today(store, clock, "key2") == 1


async def test_admit_and_take_share_a_bucket(store: CounterStore, clock: ManualClock) -> None:
    stage = TokenBucket(STAGE_BUCKET, 4.0, 3)
    assert await store.take(stage.key, stage.rate, stage.burst, clock.now())
    assert await admit(store, clock, [stage], None) is None
    assert await store.take(stage.key, stage.rate, stage.burst, clock.now())
    assert await admit(store, clock, [stage], None) == 0
    clock.advance(0.25)  # one token at 4/s
    assert await admit(store, clock, [stage], None) is None
    assert not await store.take(stage.key, stage.rate, stage.burst, clock.now())


async def test_one_bucket_named_twice_gives_two_tokens(
    store: CounterStore, clock: ManualClock
) -> None:
    twice = [TokenBucket("b", 0.0, 3)] * 2
    assert await admit(store, clock, twice, None) is None
    assert await admit(store, clock, twice, None) == 1  # one token left: the second refuses
    assert await tokens_left(store, twice[0], clock.now()) == 1


# -- the arithmetic of usage.bucket --------------------------------------------------------------


async def test_admit_answers_as_the_pure_bucket_does(
    store: CounterStore, clock: ManualClock
) -> None:
    """A long random walk (fractional rates, clocks stepping back) against `usage.bucket.take`,
    which keeps its state only when admitted, as `admit` does."""
    chooser = random.Random(20240229)
    buckets = [TokenBucket("r1", 0.7, 3), TokenBucket("r2", 13.25, 20), TokenBucket("r3", 0.0, 4)]
    state: dict[str, Bucket | None] = {bucket.key: None for bucket in buckets}
    answers, expected = [], []
    for _ in range(400):
        clock.advance(chooser.choice([0.0, 0.001, 0.05, 0.3, 1.7]))
        now = clock.now() - chooser.choice([0.0, 0.0, 0.0, 2.5])
        levels = chooser.sample(buckets, chooser.randint(1, 3))
        refused = None
        after = dict(state)
        for level, (key, rate, burst) in enumerate(levels):
            admitted, bucket = take(after[key], rate, burst, now)
            if not admitted:
                refused = level
                break
            after[key] = bucket
        if refused is None:
            state = after
        expected.append(refused)
        answers.append(await store.admit(levels, KEY, PLAN, day_of(now), quota=None, now=now))
    assert answers == expected
    assert expected.count(None) > 50
    assert set(expected) == {None, 0, 1, 2}  # every level refused sometimes


# -- concurrency ---------------------------------------------------------------------------------


async def test_concurrent_admits_never_exceed_any_level(
    backend: Backend,
    store: CounterStore,
    clock: ManualClock,
) -> None:
    # Redis: the callers are spread over two client connections (two stores).
    stores = [store, await backend.open()] if backend.name == "redis" else [store]
    plan, stage = TokenBucket(PLAN_BUCKET, 0.0, 100), TokenBucket(STAGE_BUCKET, 0.0, 50)
    quota = Quota(limit=70, period=Period.DAY)
    calls = [admit(stores[i % len(stores)], clock, [plan, stage], quota) for i in range(200)]
    answers = await asyncio.wait_for(asyncio.gather(*calls), WAIT)
    assert answers.count(None) == 50  # the stage's burst
    assert answers.count(1) == 150
    assert await tokens_left(store, plan, clock.now()) == 50  # refused requests took nothing
    assert await store.quota_used(KEY, PLAN, quota.window(clock.now()).id) == 50
    assert await usage_today(store, clock) == 50


# -- Redis specifics -----------------------------------------------------------------------------


async def test_redis_admit_keeps_the_keys_take_and_consume_keep(
    redis_url: str,
    clock: ManualClock,
) -> None:
    need_redis_client()
    from redis.asyncio import Redis

    from authgate.storage.redis_counters import BUCKET_TTL_FLOOR_MS, RedisCounters

    prefix = f"test-{uuid.uuid4().hex}:"
    store = await RedisCounters.open(redis_url, prefix=prefix)
    raw = Redis.from_url(redis_url)
    try:
        quota = Quota(limit=5, period=Period.DAY)
        current = quota.window(clock.now())
        plan, forever = TokenBucket("t", 2.0, 10), TokenBucket("forever", 0.0, 1)
        assert await admit(store, clock, [plan, forever], quota) is None
        keys = sorted(key.decode() for key in await raw.keys(f"{prefix}*"))
        assert keys == [
            f"{prefix}bucket:forever",
            f"{prefix}bucket:t",
            f"{prefix}{{{PLAN}}}:quota:{KEY}:{current.id}",
            f"{prefix}{{{PLAN}}}:usage:{day_of(clock.now())}",
        ]
        assert BUCKET_TTL_FLOOR_MS < await raw.pttl(keys[1]) <= BUCKET_TTL_FLOOR_MS + 500
        assert await raw.pttl(keys[0]) == -1
        expected = (current.end - clock.now()) * 1000
        assert expected - 5000 < await raw.pttl(keys[2]) <= expected
        assert 399 * 86_400 < await raw.ttl(keys[3]) <= 400 * 86_400
        # the stored bucket is the pure arithmetic's, bit for bit
        tokens, stamp = await raw.hmget(keys[1], ["t", "s"])
        assert Bucket(float(tokens), float(stamp)) == take(None, 2.0, 10, clock.now())[1]
    finally:
        await raw.aclose()
        await store.close()


async def test_redis_admit_unreachable_raises_counter_unavailable(
    clock: ManualClock,
) -> None:
    need_redis_client()
    from authgate.storage.redis_counters import RedisCounters

    store = await RedisCounters.open(f"redis://127.0.0.1:{free_port()}/0", socket_timeout=0.5)
    try:
        with pytest.raises(CounterUnavailable):
            await asyncio.wait_for(
                admit(store, clock, [TokenBucket("x", 1.0, 1)], Quota(1, Period.DAY)), WAIT
            )
    finally:
        await store.close()
