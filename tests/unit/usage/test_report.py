"""GetUsage's [used, remaining] pairs from daily counts and the quota."""

from __future__ import annotations

from authgate.usage.quota import Period, Quota
from authgate.usage.report import daily_pairs, day_start, period_start_day

MONTH = Quota(100, Period.MONTH, offset=10, since=day_start("2026-10-15"))


def test_period_start_day() -> None:
    assert period_start_day(MONTH, "2026-11-29") == "2026-11-01"
    week = Quota(5, Period.WEEK)
    assert period_start_day(week, "2026-11-29") == "2026-11-23"
    assert period_start_day(Quota(5, Period.DAY), "2026-11-29") == "2026-11-29"


def test_past_days_count_down_within_their_period() -> None:
    counts = [0] * 31 + [4, 6, 0]  # 2026-10-01 .. 2026-11-03
    pairs = daily_pairs(MONTH, "2026-10-01", "2026-10-30", counts, today="2026-12-01", used_now=0)
    assert pairs == [[0, 90], [0, 90], [4, 96], [6, 90], [0, 90]]


def test_from_today_the_counter_decides() -> None:
    counts = [3, 2, 0]  # 2026-11-28 .. 2026-11-30
    day = Quota(10, Period.DAY)
    pairs = daily_pairs(day, "2026-11-28", "2026-11-28", counts, today="2026-11-29", used_now=-40)
    assert pairs == [[3, 7], [2, 50], [0, 10]]


def test_without_a_quota_remaining_is_zero() -> None:
    assert daily_pairs(
        None, "2026-11-28", "2026-11-29", [0, 7], today="2026-11-29", used_now=0
    ) == [[7, 0]]
    assert daily_pairs(None, "2026-11-28", "2026-11-28", [], today="2026-11-29", used_now=0) == []
