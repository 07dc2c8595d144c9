"""Hot counters: throttling buckets, quota windows and daily usage, behind one small Protocol.

The gateway's meter step admits an API-key request with one `admit` (its throttle buckets and
its quota or usage, all or nothing) and takes from other buckets with `take`; each verb is a
single atomic step and, on a shared backend, a single round trip. Stores know no calendar and
no plan rules: the caller works out the bucket's rate, the window id, its end and the allowance
(`authgate.usage`), and the store only counts. All times are the caller's wall clock
(`Clock.now()`), so a fleet shares one notion of time and tests can pass a ManualClock's.

`counter_stores.open_counters` maps the `counters:` URL of the settings to a backend.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple, Protocol

from authgate.errors import AuthgateError

USAGE_RETENTION_DAYS = 400
"""How long daily usage is kept for GetUsage: over a year, so year-on-year reads work."""


class CounterUnavailable(AuthgateError):
    """The counter store could not be reached or did not answer in time.

    The meter step denies with 500 (fail closed) unless the operator chose fail-open for
    throttling; the message is for logs only.
    """


class TokenBucket(NamedTuple):
    """A bucket to take a token from: its key, `rate` tokens a second, capacity `burst`."""

    key: str
    rate: float
    burst: int


class QuotaWindow(NamedTuple):
    """A key's quota in one window: `limit` requests in window `id`, forgotten after
    `expires_at`."""

    id: str
    limit: int
    expires_at: float


class CounterStore(Protocol):
    async def take(self, key: str, rate: float, burst: int, now: float, cost: int = 1) -> bool:
        """Take `cost` tokens from bucket `key` (`rate` tokens/s, capacity `burst`, full when
        new); False, taking none, when it has fewer. Atomic."""
        ...

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
        """Charge one request to the key's quota in `window` unless `limit` are counted there
        already, and when admitted also to its usage on `day`; one atomic step.

        Returns (admitted, requests counted in the window). The window's count may be
        forgotten after `expires_at`.
        """
        ...

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
        """Admit one request of key `key_id` in one atomic step: a token from each of `buckets`
        in order, then one request charged to the key's `quota` (None: a plan without one), and
        the request counted in its usage on `day` -- all of it, or nothing when any level has
        no room (`take` and `consume` answer each level alike).

        Returns None when admitted, else the first level that refused: `i` for `buckets[i]`,
        `len(buckets)` for the quota.
        """
        ...

    async def record(self, key_id: str, plan_id: str, day: str, n: int = 1) -> None:
        """Count `n` requests on `day` for a plan without a quota."""
        ...

    async def quota_used(self, key_id: str, plan_id: str, window: str) -> int:
        """Requests counted in the key's quota `window` (0 when none)."""
        ...

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
        """Overwrite the count of the key's quota `window` (UpdateUsage `/remaining`); may be
        negative, which grants more than the allowance."""
        ...

    async def usage(
        self, plan_id: str, key_ids: Sequence[str] | None, start_day: str, end_day: str
    ) -> dict[str, list[int]]:
        """Requests per day from `start_day` to `end_day` (inclusive, oldest first) for each of
        `key_ids`, or for every key with usage in that range when None."""
        ...

    async def close(self) -> None:
        """Save what must survive (memory backend) and release connections."""
        ...
