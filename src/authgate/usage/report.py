"""GetUsage's numbers: one [used, remaining] pair per day, from daily counts and the quota.

Pure: no I/O. `remaining` on a past day is what that day left of its period's allowance (the
allowance less the period's usage up to and including the day). From today on, in the current
period, it is what the quota counter says is left now, so an UpdateUsage (`/remaining`) shows at
once, as it does on AWS. Later periods show their whole allowance.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from authgate.usage.quota import DAY_SECONDS, Quota, day_of, days

_EPOCH = date(1970, 1, 1).toordinal()


def day_start(day: str) -> float:
    """Epoch seconds of 00:00 UTC on `day` (YYYY-MM-DD)."""
    return float((date.fromisoformat(day).toordinal() - _EPOCH) * DAY_SECONDS)


def period_start_day(quota: Quota, day: str) -> str:
    """The first day of the quota period that `day` falls in."""
    return day_of(quota.window(day_start(day)).start)


def daily_pairs(
    quota: Quota | None,
    first: str,
    start: str,
    counts: Sequence[int],
    *,
    today: str,
    used_now: int,
) -> list[list[int]]:
    """Pairs for the days from `start` on, given `counts`: the daily usage from `first` (the
    start of `start`'s period, or `start` itself without a quota) for as many days as the
    report covers. `used_now` is the quota counter of today's period. Without a quota,
    `remaining` is 0."""
    span = days(first, days_after(first, len(counts) - 1)) if counts else []
    pairs: list[list[int]] = []
    window_id = ""
    used_in_window = 0
    for day, used in zip(span, counts, strict=True):
        remaining = 0
        if quota is not None:
            window = quota.window(day_start(day))
            if window.id != window_id:
                window_id, used_in_window = window.id, 0
            used_in_window += used
            if day >= today and today_in(window.id, quota, today):
                remaining = quota.remaining(window, used_now)
            else:
                remaining = quota.remaining(window, used_in_window)
        if day >= start:
            pairs.append([used, remaining])
    return pairs


def today_in(window_id: str, quota: Quota, today: str) -> bool:
    return quota.window(day_start(today)).id == window_id


def days_after(day: str, n: int) -> str:
    return date.fromordinal(date.fromisoformat(day).toordinal() + n).isoformat()
