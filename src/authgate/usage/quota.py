"""Quota windows: how many requests a key may make per DAY, WEEK or MONTH, and which window a
moment belongs to.

Windows are calendar periods in UTC: a DAY starts at 00:00, a WEEK on Monday 00:00 (ISO weeks,
so `2021-W01` starts on 4 January 2021), a MONTH on the 1st at 00:00. Each window has an id
that names it on its own (`2024-02-29`, `2024-W09`, `2024-02`); counter stores key quota usage
by that id and need no calendar, which keeps the period rules replaceable here alone.

`offset` is taken off the limit in the plan's *first* period only, and "first" is exact: the
window that contains `since`, the moment the plan's quota was set (the plan created with it,
or its quota last changed). Windows before or after it get the whole limit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

DAY_SECONDS = 86_400
_EPOCH = date(1970, 1, 1).toordinal()


class Period(StrEnum):
    DAY = "DAY"
    WEEK = "WEEK"
    MONTH = "MONTH"


@dataclass(frozen=True, slots=True)
class Window:
    """One quota period: counts in it share `id`; it covers start <= t < end (epoch seconds)."""

    id: str
    start: float
    end: float

    def __contains__(self, t: float) -> bool:
        return self.start <= t < self.end


def _day_number(t: float) -> int:
    return math.floor(t / DAY_SECONDS)


def _epoch_seconds(day: date) -> float:
    return float((day.toordinal() - _EPOCH) * DAY_SECONDS)


def day_of(t: float) -> str:
    """The UTC day of `t` as `YYYY-MM-DD`: the key of daily usage records."""
    return date.fromordinal(_EPOCH + _day_number(t)).isoformat()


def days(start_day: str, end_day: str) -> list[str]:
    """Every day from `start_day` to `end_day` inclusive (empty when the end comes first).

    Raises ValueError for a date not in `YYYY-MM-DD` form.
    """
    first, last = date.fromisoformat(start_day), date.fromisoformat(end_day)
    return [(first + timedelta(n)).isoformat() for n in range((last - first).days + 1)]


def window_at(period: Period, t: float) -> Window:
    """The window of `period` that contains `t`."""
    today = date.fromordinal(_EPOCH + _day_number(t))
    if period is Period.DAY:
        start = today
        end = today + timedelta(1)
        name = today.isoformat()
    elif period is Period.WEEK:
        start = today - timedelta(today.weekday())
        end = start + timedelta(7)
        year, week, _ = start.isocalendar()
        name = f"{year:04d}-W{week:02d}"
    else:
        start = today.replace(day=1)
        end = (
            date(start.year + 1, 1, 1)
            if start.month == 12
            else start.replace(month=start.month + 1)
        )
        name = f"{start.year:04d}-{start.month:02d}"
    return Window(name, _epoch_seconds(start), _epoch_seconds(end))


@dataclass(frozen=True, slots=True)
class Quota:
    """A usage plan's `quota`, with `since`: when it was set (epoch seconds)."""

    limit: int
    period: Period
    offset: int = 0
    since: float = 0.0

    def window(self, t: float) -> Window:
        return window_at(self.period, t)

    def is_first(self, window: Window) -> bool:
        return self.since in window

    def allowance(self, window: Window) -> int:
        """Requests allowed in `window`: the limit, less the offset in the first period."""
        if self.is_first(window):
            return max(0, self.limit - self.offset)
        return self.limit

    def remaining(self, window: Window, used: int) -> int:
        return max(0, self.allowance(window) - used)

    def used_for_remaining(self, window: Window, remaining: int) -> int:
        """The usage count that leaves `remaining` requests (UpdateUsage `/remaining`). Negative
        when granting more than the allowance, which the counters accept."""
        return self.allowance(window) - remaining
