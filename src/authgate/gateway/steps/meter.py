"""Meter: API keys, usage-plan throttles and quotas, stage and account throttles.

Order as AWS applies it: the API key (from `x-api-key`, or the authorizer's usage identifier
key) must exist, be enabled and belong to a plan covering this API stage (else 403 Forbidden);
then token buckets from the most specific to the widest (the plan's per-method or default
throttle for this key, the stage's per-method or default throttle, the account's) give 429 Too
Many Requests; then the key's quota gives 429 Limit Exceeded. Keys and plans are read from an
in-memory snapshot rebuilt only when the records change; counters live in the CounterStore.

An API-key request costs the store one call, `admit`: its plan and stage buckets and its quota
together, all or nothing, so a level that refuses takes nothing from the others. The account
bucket, leased in batches, is taken first, and its token given back when `admit` refuses.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import ClassVar, Protocol

from authgate.clock import Clock
from authgate.gateway.exchange import Exchange
from authgate.gateway.responses import Rejection, ResponseType
from authgate.storage.counters import CounterStore, CounterUnavailable, QuotaWindow, TokenBucket
from authgate.usage.quota import Period, Quota, Window, window_at
from authgate.usage.snapshot import KeyEntry, Limit, PlanEntry, UsageSnapshot

log = logging.getLogger("authgate.meter")

_FORBIDDEN = Rejection(ResponseType.INVALID_API_KEY, reason="api key missing, unknown or disabled")
_NO_PLAN = Rejection(ResponseType.INVALID_API_KEY, reason="api key in no plan for this stage")
_THROTTLED = Rejection(ResponseType.THROTTLED, reason="throttled")
_QUOTA = Rejection(ResponseType.QUOTA_EXCEEDED, reason="quota exhausted")
_UNAVAILABLE = Rejection(
    ResponseType.API_CONFIGURATION_ERROR, "Internal server error", reason="counters unavailable"
)
ACCOUNT_BUCKET = "account"
_KNOWN_KEYS = 10_000
"""Keys a memo (digests, a method's buckets) holds at once; past it the memo starts again."""


class UsageSource(Protocol):
    """Keys and plans as the meter reads them (`usage.snapshot.UsageView`)."""

    @property
    def generation(self) -> int: ...

    def digest(self, value: str) -> str: ...

    async def snapshot(self) -> UsageSnapshot: ...


class Metering:
    """What every meter step of a deployment shares: records, counters, clock, policy."""

    def __init__(
        self,
        usage: UsageSource,
        counters: CounterStore,
        clock: Clock,
        *,
        account: Limit,
        throttle_fail_open: bool = False,
        account_lease: int = 1,
    ) -> None:
        """`account_lease`: account tokens taken from a shared store at a time and spent
        locally, so the account bucket costs a round trip per lease, not per request. Leased
        tokens are taken for real: a fleet can only admit fewer requests, never more."""
        self.usage = usage
        self.counters = counters
        self.clock = clock
        self.account = account
        self.throttle_fail_open = throttle_fail_open
        self._lease = max(1, min(account_lease, account[1]))
        self._leased = 0
        self._leasing: asyncio.Future[None] | None = None
        self._snapshot: UsageSnapshot | None = None
        self._today = Window("", 0.0, 0.0)
        self._windows: dict[str, tuple[Quota, Window, QuotaWindow]] = {}
        self._digests: dict[str, str] = {}
        """Values of known keys → their digests, so a key's HMAC is computed once, not per
        request. Only values that found a key are kept (what callers cannot fill at will), and
        holding them adds nothing to what this process already holds: the master key that
        opens every sealed value. A dict finds a string by its hash and compares bytes only
        on an equal hash, so a lookup reveals nothing about how close a guess was."""

    def key_entry(self, snapshot: UsageSnapshot, value: str) -> KeyEntry | None:
        """The key whose value `value` is, as of `snapshot`."""
        digest = self._digests.get(value)
        if digest is not None:
            return snapshot.keys_by_digest.get(digest)
        digest = self.usage.digest(value)
        key = snapshot.keys_by_digest.get(digest)
        if key is not None:
            if len(self._digests) >= _KNOWN_KEYS:
                self._digests.clear()
            self._digests[value] = digest
        return key

    async def snapshot(self) -> UsageSnapshot:
        snapshot = self._snapshot
        if snapshot is None or snapshot.generation != self.usage.generation:
            snapshot = self._snapshot = await self.usage.snapshot()
        return snapshot

    async def take(self, bucket: str, limit: Limit, now: float, cost: int = 1) -> bool | None:
        """`cost` tokens from `bucket`: True/False, or None when the store is down and
        throttling fails closed (the caller answers 500)."""
        try:
            return await self.counters.take(bucket, limit[0], limit[1], now, cost)
        except CounterUnavailable as error:
            log.error("counter store unavailable: %s", error)
            return True if self.throttle_fail_open else None

    async def take_account(self, now: float) -> bool | None:
        if self._leased > 0:
            self._leased -= 1
            return True
        if self._lease > 1:
            pending = self._leasing
            if pending is not None:  # one lease at a time: wait for it, then share it
                await asyncio.shield(pending)
                if self._leased > 0:
                    self._leased -= 1
                    return True
            else:
                pending = self._leasing = asyncio.get_running_loop().create_future()
                try:
                    if await self.take(ACCOUNT_BUCKET, self.account, now, self._lease):
                        self._leased += self._lease - 1
                        return True
                finally:
                    self._leasing = None
                    pending.set_result(None)
        return await self.take(ACCOUNT_BUCKET, self.account, now)

    def today(self, now: float) -> str:
        """The UTC day of `now`, which usage is counted by; worked out once a day."""
        today = self._today
        if not today.start <= now < today.end:
            today = self._today = window_at(Period.DAY, now)
        return today.id

    def quota_window(self, plan_id: str, quota: Quota, now: float) -> QuotaWindow:
        """The plan's quota window at `now`, as `admit` charges it. The calendar arithmetic
        costs microseconds, so it runs once per plan and window, not once per request."""
        cached = self._windows.get(plan_id)
        if cached is not None and cached[0] is quota and cached[1].start <= now < cached[1].end:
            return cached[2]
        window = quota.window(now)
        charge = QuotaWindow(window.id, quota.allowance(window), window.end)
        self._windows[plan_id] = (quota, window, charge)
        return charge

    def give_back_account(self) -> None:
        """Return an account token whose request was refused later: kept for the next request,
        as a leased one is (it was taken from the store for real)."""
        self._leased += 1


@dataclass(frozen=True, slots=True)
class MethodMetering:
    """One method's metering settings, fixed when the deployment is compiled."""

    api_id: str
    stage: str
    method_key: str
    """AWS's method-setting key: `/pets/GET`, `//GET` for the root."""
    api_key_required: bool
    key_from_authorizer: bool
    stage_limit: Limit | None
    """The stage's per-method throttle for this method, else its default throttle."""


class MeterStep:
    name: ClassVar[str] = "meter"

    def __init__(self, metering: Metering, method: MethodMetering) -> None:
        self._metering = metering
        self._method = method
        self._stage_bucket = f"stage:{method.api_id}:{method.stage}:{method.method_key}"
        self._stage = (
            None
            if method.stage_limit is None
            else TokenBucket(self._stage_bucket, *method.stage_limit)
        )
        self._buckets: dict[str, tuple[PlanEntry, tuple[TokenBucket, ...]]] = {}
        """Each key's buckets on this method, with the snapshot entry they were made from."""

    async def __call__(self, exchange: Exchange) -> Rejection | None:
        metering, method = self._metering, self._method
        now = metering.clock.now()
        if method.api_key_required:
            return await self._admit(exchange, now)
        if method.stage_limit is not None:
            taken = await metering.take(self._stage_bucket, method.stage_limit, now)
            if not taken:
                return _THROTTLED if taken is False else _UNAVAILABLE
        taken = await metering.take_account(now)
        if not taken:
            return _THROTTLED if taken is False else _UNAVAILABLE
        return None

    async def _admit(self, exchange: Exchange, now: float) -> Rejection | None:
        """An API-key request: the key, the account bucket, then one `admit` for the rest."""
        metering, method = self._metering, self._method
        if method.key_from_authorizer:
            principal = exchange.principal
            value = principal.usage_identifier_key if principal is not None else None
        else:
            value = exchange.request.header("x-api-key")
        if not value:
            return _FORBIDDEN
        key = metering.key_entry(await metering.snapshot(), value)
        if key is None or not key.enabled:
            return _FORBIDDEN
        plan = key.plans.get((method.api_id, method.stage))
        if plan is None:
            return _NO_PLAN
        key_id = key.id
        exchange.identity["apiKey"] = value
        exchange.identity["apiKeyId"] = key_id
        exchange.record("meter", "api key", key_id)
        buckets, quota = self._levels(plan, key_id, now)
        taken = await metering.take_account(now)
        if not taken:
            return _THROTTLED if taken is False else _UNAVAILABLE
        try:
            refused = await metering.counters.admit(
                buckets, key_id, plan.plan_id, metering.today(now), quota=quota, now=now
            )
        except CounterUnavailable as error:
            log.error("counter store unavailable: %s", error)
            metering.give_back_account()
            return _UNAVAILABLE  # the quota is in this call, and quotas always fail closed
        if refused is None:
            return None
        metering.give_back_account()
        return _QUOTA if refused == len(buckets) else _THROTTLED

    def _levels(
        self, plan: PlanEntry, key_id: str, now: float
    ) -> tuple[tuple[TokenBucket, ...], QuotaWindow | None]:
        """What `admit` checks for the key, in AWS's order: the plan's bucket for this method
        (its per-method throttle, else its default), the stage's, then the quota's window."""
        known = self._buckets.get(key_id)
        if known is not None and known[0] is plan:  # same snapshot entry: same buckets
            buckets = known[1]
        else:
            buckets = self._plan_buckets(plan, key_id)
            if len(self._buckets) >= _KNOWN_KEYS:
                self._buckets.clear()
            self._buckets[key_id] = (plan, buckets)
        if plan.quota is None:
            return buckets, None
        return buckets, self._metering.quota_window(plan.plan_id, plan.quota, now)

    def _plan_buckets(self, plan: PlanEntry, key_id: str) -> tuple[TokenBucket, ...]:
        buckets: list[TokenBucket] = []
        key = self._method.method_key
        limit = plan.method_throttles.get(key)
        if limit is not None:
            buckets.append(TokenBucket(f"plan:{plan.plan_id}:{key_id}:{key}", *limit))
        elif plan.throttle is not None:
            buckets.append(TokenBucket(f"plan:{plan.plan_id}:{key_id}", *plan.throttle))
        if self._stage is not None:
            buckets.append(self._stage)
        return tuple(buckets)
