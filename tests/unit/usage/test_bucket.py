"""Token bucket arithmetic, driven by a ManualClock (no sleeps)."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from authgate.clock import ManualClock
from authgate.usage.bucket import Bucket, full_at, refill, take


def drain(bucket: Bucket | None, rate: float, burst: int, now: float) -> tuple[int, Bucket]:
    """Take until refused (bounded); how many were admitted and the bucket left."""
    admitted = 0
    for _ in range(burst + 10):
        ok, bucket = take(bucket, rate, burst, now)
        if not ok:
            break
        admitted += 1
    assert bucket is not None
    return admitted, bucket


def test_a_new_bucket_is_full_and_admits_exactly_the_burst() -> None:
    clock = ManualClock()
    admitted, bucket = drain(None, 1.0, 5, clock.now())
    assert admitted == 5
    assert bucket == Bucket(0.0, clock.now())
    assert take(bucket, 1.0, 5, clock.now())[0] is False


def test_refills_at_the_rate() -> None:
    clock = ManualClock()
    _, bucket = drain(None, 2.0, 3, clock.now())
    clock.advance(0.49)
    ok, bucket = take(bucket, 2.0, 3, clock.now())
    assert not ok
    clock.advance(0.01)
    ok, bucket = take(bucket, 2.0, 3, clock.now())
    assert ok
    assert not take(bucket, 2.0, 3, clock.now())[0]
    clock.advance(1.0)
    assert drain(bucket, 2.0, 3, clock.now())[0] == 2


def test_fractional_rates() -> None:
    clock = ManualClock()
    _, slow = drain(None, 0.25, 1, clock.now())
    clock.advance(3.9)
    ok, slow = take(slow, 0.25, 1, clock.now())
    assert not ok
    assert math.isclose(slow.tokens, 0.975, abs_tol=1e-6)
    clock.advance(0.1)
    assert take(slow, 0.25, 1, clock.now())[0]

    _, fast = drain(None, 2.5, 2, clock.now())
    clock.advance(0.4)
    ok, fast = take(fast, 2.5, 2, clock.now())
    assert ok
    assert not take(fast, 2.5, 2, clock.now())[0]


def test_idle_time_never_fills_past_the_burst() -> None:
    clock = ManualClock()
    _, bucket = drain(None, 100.0, 4, clock.now())
    clock.advance(3600)
    assert refill(bucket, 100.0, 4, clock.now()) == Bucket(4.0, clock.now())
    assert drain(bucket, 100.0, 4, clock.now())[0] == 4


def test_a_lowered_burst_caps_what_is_left() -> None:
    clock = ManualClock()
    bucket = Bucket(10.0, clock.now())
    assert refill(bucket, 1.0, 2, clock.now()).tokens == 2.0
    assert drain(bucket, 1.0, 2, clock.now())[0] == 2


def test_a_clock_that_goes_back_refills_nothing_and_keeps_the_stamp() -> None:
    clock = ManualClock()
    _, bucket = drain(None, 1.0, 2, clock.now())
    stamp = bucket.stamp
    ok, after = take(bucket, 1.0, 2, stamp - 30)
    assert not ok
    assert after == Bucket(0.0, stamp)
    # and time lost going back is not counted again when it comes forward
    assert take(after, 1.0, 2, stamp + 1)[0]


def test_zero_burst_admits_nothing_and_zero_rate_never_refills() -> None:
    clock = ManualClock()
    assert not take(None, 10.0, 0, clock.now())[0]
    _, bucket = drain(None, 0.0, 2, clock.now())
    clock.advance(10**6)
    assert not take(bucket, 0.0, 2, clock.now())[0]


def test_full_at_is_when_forgetting_the_bucket_changes_nothing() -> None:
    clock = ManualClock()
    _, bucket = drain(None, 4.0, 2, clock.now())
    when = full_at(bucket, 4.0, 2)
    assert when == clock.now() + 0.5
    assert refill(bucket, 4.0, 2, when) == Bucket(2.0, when)
    assert full_at(Bucket(2.0, 7.0), 4.0, 2) == 7.0
    assert full_at(bucket, 0.0, 2) == math.inf


def test_callers_sharing_a_bucket_share_its_tokens() -> None:
    clock = ManualClock()
    bucket: Bucket | None = None
    admitted = {"a": 0, "b": 0}
    for step in range(40):  # two callers, interleaved, 0.1 s apart, over 2 s
        caller = "ab"[step % 2]
        ok, bucket = take(bucket, 5.0, 3, clock.now())
        admitted[caller] += ok
        clock.advance(0.05)
    # 3 at start + 5/s over the 1.95 s between the first and the last take
    assert admitted["a"] + admitted["b"] == 3 + 9


@given(
    rate=st.floats(0.0, 1000.0),
    burst=st.integers(0, 50),
    gaps=st.lists(st.floats(0.0, 5.0), min_size=1, max_size=60),
)
def test_never_admits_more_than_burst_plus_refill(
    rate: float, burst: int, gaps: list[float]
) -> None:
    now = 1_700_000_000.0
    start = now
    bucket: Bucket | None = None
    admitted = 0
    for gap in gaps:
        now += gap
        ok, bucket = take(bucket, rate, burst, now)
        admitted += ok
        assert 0.0 <= bucket.tokens <= burst
    assert admitted <= burst + rate * (now - start) + 1e-6
