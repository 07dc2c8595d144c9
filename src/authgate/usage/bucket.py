"""Token buckets as API Gateway throttles with them: `rateLimit` tokens a second flow into a
bucket of `burstLimit` tokens, and each request takes one.

A bucket is two numbers, the tokens left and when they were counted, so any store can keep it
(a dict entry, a Redis hash). A bucket never seen is full. Time is the caller's: a reading
earlier than the bucket's stamp (another host's clock, a clock stepped back) refills nothing
and leaves the stamp where it was, so skew can only slow refilling, never mint tokens.
The Redis script in `storage/redis_counters.py` repeats this arithmetic; the contract tests
hold the two to the same answers.
"""

from __future__ import annotations

import math
from typing import NamedTuple


class Bucket(NamedTuple):
    tokens: float
    stamp: float
    """When `tokens` was counted (seconds, the caller's clock)."""


def refill(bucket: Bucket | None, rate: float, burst: int, now: float) -> Bucket:
    """The bucket as it stands at `now`; never holds more than `burst`."""
    if bucket is None:
        return Bucket(float(burst), now)
    tokens, stamp = bucket
    if now > stamp:
        tokens += (now - stamp) * rate
        stamp = now
    return Bucket(min(tokens, float(burst)), stamp)


def take(
    bucket: Bucket | None, rate: float, burst: int, now: float, cost: int = 1
) -> tuple[bool, Bucket]:
    """Take `cost` tokens if there are that many: (admitted, the bucket to keep).

    `refill` inlined: this runs once per throttle level of every metered request.
    """
    if bucket is None:
        tokens, stamp = float(burst), now
    else:
        tokens, stamp = bucket
        if now > stamp:
            tokens += (now - stamp) * rate
            stamp = now
        if tokens > burst:
            tokens = float(burst)
    if tokens >= cost:
        return True, Bucket(tokens - cost, stamp)
    return False, Bucket(tokens, stamp)


def full_at(bucket: Bucket, rate: float, burst: int) -> float:
    """When the bucket, left alone, is full again: from then on forgetting it changes nothing.
    Infinite when nothing refills it."""
    missing = burst - bucket.tokens
    if missing <= 0:
        return bucket.stamp
    if rate <= 0:
        return math.inf
    return bucket.stamp + missing / rate
