"""Meter: API keys, usage-plan throttles and quotas, stage and account throttles.

Order as AWS applies it: the API key (from `x-api-key`, or the authorizer's usage identifier
key) must exist, be enabled and belong to a plan covering this API stage (else 403 Forbidden);
then token buckets from the most specific to the widest (the plan's per-method or default
throttle for this key, the stage's per-method or default throttle, the account's) give 429 Too
Many Requests; then the key's quota gives 429 Limit Exceeded. Keys and plans are read from an
in-memory snapshot rebuilt only when the records change; counters live in the CounterStore.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import ClassVar, Protocol

from authgate.clock import Clock
from authgate.gateway.exchange import Exchange
from authgate.gateway.responses import Rejection, ResponseType
from authgate.storage.counters import CounterStore, CounterUnavailable
from authgate.usage.quota import day_of
from authgate.usage.snapshot import Limit, UsageSnapshot

log = logging.getLogger("authgate.meter")

_FORBIDDEN = Rejection(ResponseType.INVALID_API_KEY, reason="api key missing, unknown or disabled")
_NO_PLAN = Rejection(ResponseType.INVALID_API_KEY, reason="api key in no plan for this stage")
_THROTTLED = Rejection(ResponseType.THROTTLED, reason="throttled")
_QUOTA = Rejection(ResponseType.QUOTA_EXCEEDED, reason="quota exhausted")
_UNAVAILABLE = Rejection(
    ResponseType.API_CONFIGURATION_ERROR, "Internal server error", reason="counters unavailable"
)
ACCOUNT_BUCKET = "account"


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

    async def __call__(self, exchange: Exchange) -> Rejection | None:
        metering, method = self._metering, self._method
        now = metering.clock.now()
        plan = key_id = None
        if method.api_key_required:
            if method.key_from_authorizer:
                principal = exchange.principal
                value = principal.usage_identifier_key if principal is not None else None
            else:
                value = exchange.request.header("x-api-key")
            if not value:
                return _FORBIDDEN
            snapshot = await metering.snapshot()
            key = snapshot.keys_by_digest.get(metering.usage.digest(value))
            if key is None or not key.enabled:
                return _FORBIDDEN
            plan = key.plans.get((method.api_id, method.stage))
            if plan is None:
                return _NO_PLAN
            key_id = key.id
            exchange.identity["apiKey"] = value
            exchange.identity["apiKeyId"] = key_id
            exchange.record("meter", "api key", key_id)
            limit = plan.method_throttles.get(method.method_key)
            bucket = f"plan:{plan.plan_id}:{key_id}"
            if limit is not None:
                bucket = f"{bucket}:{method.method_key}"
            else:
                limit = plan.throttle
            if limit is not None:
                taken = await metering.take(bucket, limit, now)
                if not taken:
                    return _THROTTLED if taken is False else _UNAVAILABLE
        if method.stage_limit is not None:
            taken = await metering.take(self._stage_bucket, method.stage_limit, now)
            if not taken:
                return _THROTTLED if taken is False else _UNAVAILABLE
        taken = await metering.take_account(now)
        if not taken:
            return _THROTTLED if taken is False else _UNAVAILABLE
        if plan is None or key_id is None:
            return None
        try:
            quota = plan.quota
            day = day_of(now)
            if quota is None:
                await metering.counters.record(key_id, plan.plan_id, day)
                return None
            window = quota.window(now)
            admitted, _ = await metering.counters.consume(
                key_id,
                plan.plan_id,
                day,
                limit=quota.allowance(window),
                window=window.id,
                expires_at=window.end,
                now=now,
            )
        except CounterUnavailable as error:
            log.error("counter store unavailable: %s", error)
            return _UNAVAILABLE  # quotas always fail closed
        return None if admitted else _QUOTA
