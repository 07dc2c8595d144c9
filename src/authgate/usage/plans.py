"""Usage plans: create, read, list, update (AWS's PATCH operations), delete; the keys in a plan;
and the usage of those keys (GetUsage, UpdateUsage) from the counter store.

A key may be in at most one plan per API stage (AWS's rule, which lets the gateway find the
one plan that meters a request); the store enforces it and this service reports it as AWS
does (ConflictException). Every write bumps the shared `Generation`.

Stages are checked against the deployed APIs through an optional `stage_exists` hook; without
one any `apiId:stage` is accepted (the definitions may be loaded later).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date

from authgate.clock import Clock
from authgate.storage.base import StoreConflict
from authgate.storage.counters import CounterStore
from authgate.usage import identifiers, plan_rules, report
from authgate.usage import patch as p
from authgate.usage.errors import BadRequest, Conflict, LimitExceeded, NotFound
from authgate.usage.generation import Generation
from authgate.usage.keys import ApiKeyService, check_tags, limit_error, stage_conflict
from authgate.usage.model import ApiStage, Quota, Throttle, UsagePlan
from authgate.usage.paging import Page, check_limit, decode_position, page_in_memory, page_of
from authgate.usage.quota import day_of
from authgate.usage.snapshot import meter_quota
from authgate.usage.store import Added, Limits, MissingRecord, StageTaken, TooMany, UsageStore

StageExists = Callable[[str, str], Awaitable[bool]]
"""(api id, stage name) → whether that stage is deployed."""

API_KEY = "API_KEY"
MAX_USAGE_DAYS = 400
_ATTEMPTS = 5


@dataclass(frozen=True, slots=True)
class PlanKey:
    """A key as a member of a plan (`UsagePlanKey`): AWS shows its value here."""

    id: str
    name: str
    value: str = field(repr=False)
    type: str = API_KEY


@dataclass(frozen=True, slots=True)
class Usage:
    plan_id: str
    start_date: str
    end_date: str
    values: dict[str, list[list[int]]]
    """Key id → one [used, remaining] pair per day, oldest first."""
    position: str | None = None


@dataclass(frozen=True, slots=True)
class StageSpec:
    """An API stage as CreateUsagePlan gives it."""

    api_id: str
    stage: str
    throttle: Mapping[str, tuple[object, object]] = field(default_factory=dict)
    """`/path/VERB` → (rateLimit, burstLimit), unchecked."""


def parse_day(text: str | None, name: str) -> str:
    if not text:
        raise BadRequest(f"{name} is required (YYYY-MM-DD)")
    try:
        return date.fromisoformat(text).isoformat() if len(text) == 10 else _bad_day(name)
    except ValueError:
        return _bad_day(name)


def _bad_day(name: str) -> str:
    raise BadRequest(f"Invalid {name}: expected a date in the form YYYY-MM-DD")


class UsagePlanService:
    def __init__(
        self,
        store: UsageStore,
        keys: ApiKeyService,
        counters: CounterStore,
        *,
        clock: Clock,
        generation: Generation,
        limits: Limits | None = None,
        stage_exists: StageExists | None = None,
    ) -> None:
        self._store = store
        self._keys = keys
        self._counters = counters
        self._clock = clock
        self._generation = generation
        self._limits = limits or Limits()
        self._stage_exists = stage_exists

    @property
    def generation(self) -> int:
        return self._generation.value

    async def _get(self, plan_id: str) -> UsagePlan:
        plan = await self._store.get_plan(plan_id)
        if plan is None:
            raise NotFound.usage_plan()
        return plan

    async def _check_deployed(self, plan_id: str, stages: Sequence[tuple[str, str]]) -> None:
        if self._stage_exists is None:
            return
        for api_id, stage in stages:
            if not await self._stage_exists(api_id, stage):
                raise NotFound(f"API Stage not found: {api_id}:{stage}")

    # -- plans ---------------------------------------------------------------------------------

    async def create(
        self,
        *,
        name: str,
        description: str = "",
        api_stages: Sequence[StageSpec] = (),
        throttle: tuple[object, object] | None = None,
        quota: tuple[object, object, object] | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> UsagePlan:
        """`throttle` is (rateLimit, burstLimit) and `quota` (limit, period, offset) as sent;
        any of them may be None."""
        stages = plan_rules.check_stages(
            ApiStage(
                spec.api_id,
                spec.stage,
                plan_rules.method_throttles(spec.throttle, f"{spec.api_id}:{spec.stage}"),
            )
            for spec in api_stages
        )
        checked_throttle: Throttle | None = None
        if throttle is not None:
            checked_throttle = plan_rules.check_throttle(*throttle, "the usage plan")
        checked_quota: Quota | None = None
        if quota is not None:
            checked_quota = plan_rules.check_quota(*quota)
        now = self._clock.now()
        plan = UsagePlan(
            id=identifiers.usage_plan_id(),
            name=plan_rules.check_name(name),
            description=plan_rules.check_description(description),
            api_stages=stages,
            throttle=checked_throttle,
            quota=checked_quota,
            quota_set_at=None if checked_quota is None else now,
            created=now,
            updated=now,
            tags=check_tags(tags),
        )
        await self._check_deployed(plan.id, [stage.key for stage in stages])
        for _ in range(_ATTEMPTS):
            try:
                added = await self._store.insert_plan(plan, self._limits)
            except TooMany as error:
                raise limit_error(error) from None
            if added is Added.ADDED:
                self._generation.bump()
                return plan
            plan = replace(plan, id=identifiers.usage_plan_id())
        raise Conflict("The usage plan could not be created; try again")

    async def get(self, plan_id: str) -> UsagePlan:
        return await self._get(plan_id)

    async def list_plans(
        self, *, key_id: str | None = None, position: str | None = None, limit: int | None = None
    ) -> Page[UsagePlan]:
        plans = await self._store.list_plans(key_id)
        return page_in_memory(plans, position, limit, lambda plan: (plan.name, plan.id))

    async def update(self, plan_id: str, operations: Sequence[p.PatchOperation]) -> UsagePlan:
        """Apply the operations to the plan as read, and store the result if nobody changed the
        plan meanwhile (else read it again and re-apply: each attempt is all or nothing)."""
        for _ in range(_ATTEMPTS):
            plan = await self._get(plan_id)
            patched = plan_rules.apply(plan, operations, self._clock.now())
            await self._check_deployed(plan_id, patched.added_stages)
            try:
                stored = await self._store.replace_plan(patched.plan, expected_version=plan.version)
            except StageTaken as error:
                raise stage_conflict(error, plan_id) from None
            except StoreConflict:
                continue
            if stored:
                self._generation.bump()
                return replace(patched.plan, version=plan.version + 1)
        raise Conflict("The usage plan is being changed by another request; try again")

    async def delete(self, plan_id: str) -> None:
        if not await self._store.delete_plan(plan_id):
            raise NotFound.usage_plan()
        self._generation.bump()

    # -- plan keys -----------------------------------------------------------------------------

    async def add_key(self, plan_id: str, key_id: str, key_type: str = API_KEY) -> PlanKey:
        if key_type != API_KEY:
            raise BadRequest(f"Invalid key type {key_type!r}: the only key type is {API_KEY}")
        try:
            added = await self._store.add_plan_key(plan_id, key_id, self._limits)
        except MissingRecord as error:
            raise (
                NotFound.usage_plan() if error.kind == "usage plan" else NotFound.api_key()
            ) from None
        except StageTaken as error:
            raise stage_conflict(error, plan_id) from None
        except TooMany as error:
            raise LimitExceeded(
                f"API Key {key_id} cannot be added to more than {error.limit} usage plans"
            ) from None
        except StoreConflict:
            raise Conflict("The usage plan or the key changed meanwhile; try again") from None
        if added is Added.ALREADY:
            raise Conflict(f"API Key {key_id} is already in usage plan {plan_id}")
        self._generation.bump()
        return await self.get_key(plan_id, key_id)

    async def get_key(self, plan_id: str, key_id: str) -> PlanKey:
        record = await self._store.get_plan_key(plan_id, key_id)
        if record is None:
            await self._get(plan_id)
            raise NotFound.api_key()
        return PlanKey(record.key.id, record.key.name, self._keys.value_of(record))

    async def list_plan_keys(
        self,
        plan_id: str,
        *,
        name_query: str | None = None,
        position: str | None = None,
        limit: int | None = None,
    ) -> Page[PlanKey]:
        await self._get(plan_id)
        size = check_limit(limit)
        fetched = await self._store.list_plan_keys(
            plan_id, name_prefix=name_query or None, after=decode_position(position), limit=size + 1
        )
        page = page_of(fetched, size, lambda record: (record.key.name, record.key.id))
        items = [PlanKey(r.key.id, r.key.name, self._keys.value_of(r)) for r in page.items]
        return Page(items, page.position)

    async def remove_key(self, plan_id: str, key_id: str) -> None:
        if not await self._store.delete_plan_key(plan_id, key_id):
            await self._get(plan_id)
            raise NotFound.api_key()
        self._generation.bump()

    # -- usage ---------------------------------------------------------------------------------

    async def get_usage(
        self,
        plan_id: str,
        start_date: str | None,
        end_date: str | None,
        *,
        key_id: str | None = None,
        position: str | None = None,
        limit: int | None = None,
    ) -> Usage:
        """Per key, one [used, remaining] pair per day from `start_date` to `end_date`
        (inclusive): for `key_id`, or for the plan's keys and any key with usage in the range,
        `limit` keys a page (ordered by id)."""
        plan = await self._get(plan_id)
        start, end = parse_day(start_date, "startDate"), parse_day(end_date, "endDate")
        if end < start:
            raise BadRequest("The endDate must not be before the startDate")
        if (date.fromisoformat(end) - date.fromisoformat(start)).days >= MAX_USAGE_DAYS:
            raise BadRequest(f"At most {MAX_USAGE_DAYS} days of usage can be read at once")
        if key_id is not None:
            key_ids = [key_id]
        else:
            members = await self._store.list_plan_keys(plan_id, limit=self._limits.keys)
            used = await self._counters.usage(plan_id, None, start, end)
            key_ids = sorted({record.key.id for record in members} | set(used))
        page = page_in_memory(key_ids, position, limit, lambda k: ("", k))
        values = {k: await self._pairs(plan, k, start, end) for k in page.items}
        return Usage(plan.id, start, end, values, page.position)

    async def _pairs(self, plan: UsagePlan, key_id: str, start: str, end: str) -> list[list[int]]:
        quota = meter_quota(plan)
        now = self._clock.now()
        first = start if quota is None else min(start, report.period_start_day(quota, start))
        counts = (await self._counters.usage(plan.id, [key_id], first, end)).get(key_id, [])
        used_now = 0
        if quota is not None:
            used_now = await self._counters.quota_used(key_id, plan.id, quota.window(now).id)
        return report.daily_pairs(quota, first, start, counts, today=day_of(now), used_now=used_now)

    async def update_usage(
        self, plan_id: str, key_id: str, operations: Sequence[p.PatchOperation]
    ) -> Usage:
        """`replace /remaining N`: N requests left in the key's current quota period. Answers
        with the key's usage in that period so far."""
        plan = await self._get(plan_id)
        if await self._store.get_plan_key(plan_id, key_id) is None:
            raise NotFound.api_key()
        quota = meter_quota(plan)
        if quota is None:
            raise BadRequest(f"Usage plan {plan_id} has no quota to update")
        now = self._clock.now()
        window = quota.window(now)
        for operation in operations:
            if operation.op != "replace" or operation.path != "/remaining":
                raise p.unsupported(operation, "/remaining")
            remaining = p.integer(operation)
            await self._counters.set_used(
                key_id,
                plan_id,
                window=window.id,
                used=quota.used_for_remaining(window, remaining),
                expires_at=window.end,
                now=now,
            )
        today = day_of(now)
        return await self.get_usage(plan_id, day_of(window.start), today, key_id=key_id)
