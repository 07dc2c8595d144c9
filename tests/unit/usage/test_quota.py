"""Quota windows in UTC and the offset of the first period, driven by a ManualClock."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from authgate.clock import ManualClock
from authgate.usage.quota import Period, Quota, Window, day_of, days, window_at


def at(text: str) -> float:
    """Epoch seconds of an ISO time in UTC."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def test_a_day_runs_from_midnight_to_midnight_utc() -> None:
    window = window_at(Period.DAY, at("2024-03-10T15:30:00"))
    assert window == Window("2024-03-10", at("2024-03-10T00:00:00"), at("2024-03-11T00:00:00"))
    assert window_at(Period.DAY, at("2024-03-10T23:59:59.999")).id == "2024-03-10"
    assert window_at(Period.DAY, at("2024-03-11T00:00:00")).id == "2024-03-11"


@pytest.mark.parametrize(
    ("moment", "week", "monday"),
    [
        ("2024-02-28T12:00:00", "2024-W09", "2024-02-26"),  # a Wednesday
        ("2024-02-26T00:00:00", "2024-W09", "2024-02-26"),  # Monday 00:00 starts the week
        ("2024-02-25T23:59:59", "2024-W08", "2024-02-19"),  # Sunday ends the one before
        ("2021-01-03T10:00:00", "2020-W53", "2020-12-28"),  # ISO year differs from the date's
        ("2021-01-04T00:00:00", "2021-W01", "2021-01-04"),
        ("2024-12-31T08:00:00", "2025-W01", "2024-12-30"),
        ("1970-01-01T00:00:00", "1970-W01", "1969-12-29"),  # the epoch was a Thursday
    ],
)
def test_weeks_are_iso_weeks_starting_monday(moment: str, week: str, monday: str) -> None:
    window = window_at(Period.WEEK, at(moment))
    assert window.id == week
    assert window.start == at(f"{monday}T00:00:00")
    assert window.end - window.start == 7 * 86_400


@pytest.mark.parametrize(
    ("moment", "month", "length_days"),
    [
        ("2024-02-15T00:00:00", "2024-02", 29),  # leap year
        ("2023-02-28T23:59:59", "2023-02", 28),
        ("2000-02-29T12:00:00", "2000-02", 29),  # divisible by 400
        ("2100-02-01T00:00:00", "2100-02", 28),  # divisible by 100 only
        ("2024-04-30T23:00:00", "2024-04", 30),
        ("2024-12-31T23:59:59", "2024-12", 31),  # ends in the next year
    ],
)
def test_months_start_on_the_first_and_last_their_length(
    moment: str, month: str, length_days: int
) -> None:
    window = window_at(Period.MONTH, at(moment))
    assert window.id == month
    assert window.start == at(f"{month}-01T00:00:00")
    assert window.end - window.start == length_days * 86_400


def test_rollover_at_each_boundary_with_a_manual_clock() -> None:
    clock = ManualClock(at("2024-02-29T23:59:59"))
    before = {period: window_at(period, clock.now()) for period in Period}
    assert [w.id for w in before.values()] == ["2024-02-29", "2024-W09", "2024-02"]
    clock.advance(1)  # Friday 1 March 00:00
    after = {period: window_at(period, clock.now()) for period in Period}
    assert after[Period.DAY].id == "2024-03-01"
    assert after[Period.DAY].start == before[Period.DAY].end
    assert after[Period.MONTH].id == "2024-03"
    assert after[Period.MONTH].start == before[Period.MONTH].end
    assert after[Period.WEEK] == before[Period.WEEK]
    clock.advance(3 * 86_400 - 1)  # Sunday 23:59:59
    assert window_at(Period.WEEK, clock.now()).id == "2024-W09"
    clock.advance(1)
    assert window_at(Period.WEEK, clock.now()) == Window(
        "2024-W10", at("2024-03-04T00:00:00"), at("2024-03-11T00:00:00")
    )


def test_the_offset_applies_in_the_window_the_quota_was_set_in_only() -> None:
    clock = ManualClock(at("2024-01-20T10:00:00"))
    quota = Quota(limit=100, period=Period.MONTH, offset=30, since=clock.now())
    first = quota.window(clock.now())
    assert quota.is_first(first)
    assert quota.allowance(first) == 70
    assert quota.remaining(first, 10) == 60
    clock.advance(12 * 86_400)  # into February
    second = quota.window(clock.now())
    assert second.id == "2024-02"
    assert not quota.is_first(second)
    assert quota.allowance(second) == 100
    # an earlier window is not the first either
    assert quota.allowance(window_at(Period.MONTH, at("2023-12-31T00:00:00"))) == 100


def test_the_first_window_begins_at_the_period_start_not_at_since() -> None:
    since = at("2024-03-06T18:00:00")  # a Wednesday
    quota = Quota(limit=10, period=Period.WEEK, offset=4, since=since)
    monday = quota.window(at("2024-03-04T00:00:00"))
    assert quota.allowance(monday) == 6


def test_an_offset_above_the_limit_allows_nothing_in_the_first_period() -> None:
    quota = Quota(limit=5, period=Period.DAY, offset=9, since=at("2024-05-01T08:00:00"))
    window = quota.window(at("2024-05-01T09:00:00"))
    assert quota.allowance(window) == 0
    assert quota.remaining(window, 0) == 0


def test_remaining_and_the_usage_that_leaves_a_remaining() -> None:
    quota = Quota(limit=50, period=Period.DAY)
    window = quota.window(at("2024-05-02T09:00:00"))
    assert quota.remaining(window, 60) == 0
    assert quota.used_for_remaining(window, 20) == 30
    assert quota.used_for_remaining(window, 80) == -30  # UpdateUsage may grant extra
    assert quota.remaining(window, quota.used_for_remaining(window, 80)) == 80


def test_days_and_day_of() -> None:
    assert day_of(at("2024-02-29T23:59:59.5")) == "2024-02-29"
    assert days("2024-02-27", "2024-03-01") == [
        "2024-02-27",
        "2024-02-28",
        "2024-02-29",
        "2024-03-01",
    ]
    assert days("2024-03-01", "2024-03-01") == ["2024-03-01"]
    assert days("2024-03-02", "2024-03-01") == []
    with pytest.raises(ValueError, match="Invalid isoformat"):
        days("2024-3-1", "2024-03-02")


@given(
    t=st.floats(0, 4_102_444_800, allow_nan=False),  # 1970 to 2100
    period=st.sampled_from(list(Period)),
)
def test_windows_contain_their_moment_and_tile_time(t: float, period: Period) -> None:
    window = window_at(period, t)
    assert t in window
    following = window_at(period, window.end)
    assert following.start == window.end
    assert following.id != window.id
    assert window_at(period, window.start) == window
