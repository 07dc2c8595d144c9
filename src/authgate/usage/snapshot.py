"""The gateway's view of keys and plans: what the `meter` step reads, built in one read.

The meter step holds a `UsageSnapshot` and rebuilds it (`await view.snapshot()`) when
`view.generation` changes. It finds a key by `view.digest(header_value)` (one HMAC, no I/O,
computed once per known key) and a dict get; the key's `plans` then give, for the request's
(api id, stage), the plan's throttle, method throttles and quota.

Throttles come as `(rate, burst)` ready for a token bucket. AWS lets either field of a usage
plan's throttle be unset; here a rate without a burst gets a burst of one second's worth of
the rate (at least 1), and a burst without a rate does not throttle (a bucket that never
refills would be a hard cap, which AWS's throttles are not).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from authgate.security.secrets import SecretBox
from authgate.usage import quota as quotas
from authgate.usage.generation import Generation
from authgate.usage.model import Throttle, UsagePlan, UsageRecords
from authgate.usage.store import UsageStore

API_KEY_DIGEST_CONTEXT = b"authgate:usage:api-key-value"
"""The context of `SecretBox.digest` for API key values (the `value_digest` column)."""

Limit = tuple[float, int]
"""(rate per second, burst)."""


@dataclass(frozen=True, slots=True)
class PlanEntry:
    plan_id: str
    throttle: Limit | None
    method_throttles: Mapping[str, Limit]
    """`/pets/GET` (root: `//GET`) → limit; these replace the plan's throttle for that method."""
    quota: quotas.Quota | None
    """limit, period, offset and `since` (when the quota was set)."""


@dataclass(frozen=True, slots=True)
class KeyEntry:
    id: str
    enabled: bool
    plans: Mapping[tuple[str, str], PlanEntry]
    """(api id, stage) → the one plan that meters this key there."""


@dataclass(frozen=True, slots=True)
class UsageSnapshot:
    generation: int
    keys_by_digest: Mapping[str, KeyEntry]


def bucket_limit(throttle: Throttle | None) -> Limit | None:
    if throttle is None or throttle.rate_limit is None:
        return None
    rate = throttle.rate_limit
    burst = throttle.burst_limit
    if burst is None:
        burst = max(1, math.ceil(rate))
    return (rate, burst)


def meter_quota(plan: UsagePlan) -> quotas.Quota | None:
    """The plan's quota with the moment it was set, as quota windows need it."""
    q = plan.quota
    if q is None:
        return None
    since = plan.created if plan.quota_set_at is None else plan.quota_set_at
    return quotas.Quota(q.limit, q.period, q.offset, since)


def plan_entries(plan: UsagePlan) -> dict[tuple[str, str], PlanEntry]:
    """The plan as the meter reads it, one entry per API stage it meters."""
    quota = meter_quota(plan)
    default = bucket_limit(plan.throttle)
    entries = {}
    for stage in plan.api_stages:
        methods = {}
        for path, throttle in stage.throttle:
            limit = bucket_limit(throttle)
            if limit is not None:
                methods[path] = limit
        entries[stage.key] = PlanEntry(plan.id, default, MappingProxyType(methods), quota)
    return entries


def build_snapshot(records: UsageRecords, generation: int) -> UsageSnapshot:
    """Pure: join keys, memberships and plans into lookups by value digest."""
    by_plan = {plan.id: plan_entries(plan) for plan in records.plans}
    plans_of: dict[str, dict[tuple[str, str], PlanEntry]] = {}
    for plan_id, key_id in records.members:
        entries = by_plan.get(plan_id)
        if entries:
            plans_of.setdefault(key_id, {}).update(entries)
    keys = {
        row.value_digest: KeyEntry(row.id, row.enabled, MappingProxyType(plans_of.get(row.id, {})))
        for row in records.keys
    }
    return UsageSnapshot(generation, MappingProxyType(keys))


class UsageView:
    """The one collaborator the meter step needs: a snapshot, its generation, the digest."""

    def __init__(self, store: UsageStore, box: SecretBox, generation: Generation) -> None:
        self._store = store
        self._box = box
        self._generation = generation

    @property
    def generation(self) -> int:
        return self._generation.value

    def digest(self, value: str) -> str:
        """The keyed digest under which a key with this value is stored. No I/O."""
        return self._box.digest(value.encode("utf-8"), context=API_KEY_DIGEST_CONTEXT)

    async def snapshot(self) -> UsageSnapshot:
        """Every key and plan as of now. The generation is read before the records, so a
        write that lands during the read makes the snapshot look stale, never fresh."""
        generation = self._generation.value
        return build_snapshot(await self._store.records(), generation)
