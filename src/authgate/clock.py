"""Time as a collaborator, so that expiry, throttling and lifetimes are testable without sleeps."""

from __future__ import annotations

import time
from typing import Protocol

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


_last_time: tuple[int, str] = (-1, "")


def request_time(epoch: float) -> str:
    """API Gateway's `requestTime` (`04/Mar/2020:19:15:17 +0000`), locale-free.

    Formatted once per second: every request in that second shares the string.
    """
    global _last_time
    second = int(epoch)
    if _last_time[0] == second:
        return _last_time[1]
    t = time.gmtime(second)
    text = (
        f"{t.tm_mday:02d}/{_MONTHS[t.tm_mon - 1]}/{t.tm_year:04d}:"
        f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} +0000"
    )
    _last_time = (second, text)
    return text


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the epoch (wall clock: timestamps, expiry)."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back (intervals, token buckets)."""
        ...


class SystemClock:
    def now(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()


class ManualClock:
    """A clock that moves only when told to; both readings advance together."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self._now = start
        self._mono = 0.0

    def now(self) -> float:
        return self._now

    def monotonic(self) -> float:
        return self._mono

    def advance(self, seconds: float) -> None:
        self._now += seconds
        self._mono += seconds
