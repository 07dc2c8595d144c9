"""`UsageStore` on SQLAlchemy Core (SQLite or PostgreSQL): API keys, usage plans, memberships.

Reads and writes follow `SqlIamStore`: single-statement reads without BEGIN, reads of several
statements in one snapshot, writes through `writer(engine)` (BEGIN IMMEDIATE on SQLite). The
one-plan-per-API-stage rule is checked inside the write transaction, so the error can name the
stage, and enforced by `usage_key_stages`' primary key, so a racing writer on PostgreSQL fails
(as `StoreConflict`) rather than slipping through.
"""

from __future__ import annotations

import json
from collections.abc import Sequence, Set
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Row,
    Select,
    and_,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from authgate.storage.base import StoreConflict
from authgate.storage.sql.engine import single_reads, writer
from authgate.storage.sql.schema import api_keys, usage_key_stages, usage_plan_keys, usage_plans
from authgate.usage.model import (
    ApiKey,
    ApiKeyRecord,
    ApiStage,
    KeyRow,
    Quota,
    Throttle,
    UsagePlan,
    UsageRecords,
)
from authgate.usage.quota import Period
from authgate.usage.store import (
    Added,
    ImportEntry,
    Limits,
    MissingRecord,
    Position,
    StageTaken,
    TooMany,
)


class SqlUsageStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._reader = single_reads(engine)
        self._writer = writer(engine)

    async def _rows(self, query: Select[Any]) -> Sequence[Row[Any]]:
        async with self._reader.connect() as conn:
            rows: Sequence[Row[Any]] = (await conn.execute(query)).all()
        return rows

    async def _row(self, query: Select[Any]) -> Row[Any] | None:
        async with self._reader.connect() as conn:
            row: Row[Any] | None = (await conn.execute(query)).first()
        return row

    # -- keys ----------------------------------------------------------------------------------

    async def insert_key(self, record: ApiKeyRecord, limits: Limits) -> Added:
        try:
            async with self._writer.begin() as conn:
                if await _digest_taken(conn, record.value_digest):
                    return Added.ALREADY
                if await _count(conn, api_keys) >= limits.keys:
                    raise TooMany("API keys", limits.keys)
                await conn.execute(insert(api_keys).values(**_key_values(record)))
        except IntegrityError as exc:
            if await self.get_key_by_digest(record.value_digest) is not None:
                return Added.ALREADY
            raise StoreConflict("the API key could not be added") from exc
        return Added.ADDED

    async def get_key(self, key_id: str) -> ApiKeyRecord | None:
        row = await self._row(select(api_keys).where(api_keys.c.id == key_id))
        return None if row is None else _key_record(row)

    async def get_key_by_digest(self, digest: str) -> ApiKeyRecord | None:
        row = await self._row(select(api_keys).where(api_keys.c.value_digest == digest))
        return None if row is None else _key_record(row)

    async def list_keys(
        self,
        *,
        name_prefix: str | None = None,
        customer_id: str | None = None,
        after: Position | None = None,
        limit: int = 25,
    ) -> list[ApiKeyRecord]:
        query = _page(select(api_keys), name_prefix, after, limit)
        if customer_id is not None:
            query = query.where(api_keys.c.customer_id == customer_id)
        return [_key_record(row) for row in await self._rows(query)]

    async def update_key(self, key: ApiKey) -> bool:
        async with self._writer.begin() as conn:
            result = await conn.execute(
                update(api_keys)
                .where(api_keys.c.id == key.id)
                .values(
                    name=key.name,
                    description=key.description,
                    enabled=key.enabled,
                    customer_id=key.customer_id,
                    updated=key.updated,
                    tags=_tags_text(key.tags),
                )
            )
        return result.rowcount > 0

    async def delete_key(self, key_id: str) -> bool:
        async with self._writer.begin() as conn:
            result = await conn.execute(delete(api_keys).where(api_keys.c.id == key_id))
        return result.rowcount > 0

    async def import_keys(self, entries: Sequence[ImportEntry], limits: Limits) -> list[str]:
        ids: list[str] = []
        try:
            async with self._writer.begin() as conn:
                count = await _count(conn, api_keys)
                for entry in entries:
                    key = entry.record.key
                    found = (
                        await conn.execute(
                            select(api_keys.c.id).where(
                                api_keys.c.value_digest == entry.record.value_digest
                            )
                        )
                    ).first()
                    if found is not None:
                        key_id = str(found.id)
                        await conn.execute(
                            update(api_keys)
                            .where(api_keys.c.id == key_id)
                            .values(
                                name=key.name,
                                description=key.description,
                                enabled=key.enabled,
                                updated=key.updated,
                            )
                        )
                    else:
                        if count >= limits.keys:
                            raise TooMany("API keys", limits.keys)
                        await conn.execute(insert(api_keys).values(**_key_values(entry.record)))
                        count += 1
                        key_id = key.id
                    for plan_id in entry.plan_ids:
                        await _add_plan_key(conn, plan_id, key_id, limits)
                    ids.append(key_id)
        except IntegrityError as exc:
            raise StoreConflict("the keys changed while they were imported") from exc
        return ids

    # -- plans ---------------------------------------------------------------------------------

    async def insert_plan(self, plan: UsagePlan, limits: Limits) -> Added:
        try:
            async with self._writer.begin() as conn:
                if await _count(conn, usage_plans) >= limits.plans:
                    raise TooMany("usage plans", limits.plans)
                await conn.execute(insert(usage_plans).values(id=plan.id, **_plan_values(plan)))
        except IntegrityError:
            return Added.ALREADY
        return Added.ADDED

    async def get_plan(self, plan_id: str) -> UsagePlan | None:
        row = await self._row(select(usage_plans).where(usage_plans.c.id == plan_id))
        return None if row is None else _plan(row)

    async def list_plans(self, key_id: str | None = None) -> list[UsagePlan]:
        query = select(usage_plans).order_by(usage_plans.c.name, usage_plans.c.id)
        if key_id is not None:
            query = query.join(
                usage_plan_keys, usage_plan_keys.c.plan_id == usage_plans.c.id
            ).where(usage_plan_keys.c.key_id == key_id)
        return [_plan(row) for row in await self._rows(query)]

    async def replace_plan(self, plan: UsagePlan, *, expected_version: int) -> bool:
        try:
            async with self._writer.begin() as conn:
                row = (
                    await conn.execute(
                        select(usage_plans.c.version, usage_plans.c.api_stages).where(
                            usage_plans.c.id == plan.id
                        )
                    )
                ).first()
                if row is None or int(row.version) != expected_version:
                    return False
                old = {stage.key for stage in _stages(row.api_stages)}
                new = plan.stage_keys
                await _drop_stages(conn, plan.id, old - new)
                await _meter_members(conn, plan.id, new - old)
                values = _plan_values(plan) | {"version": expected_version + 1}
                await conn.execute(
                    update(usage_plans).where(usage_plans.c.id == plan.id).values(**values)
                )
        except IntegrityError as exc:
            raise StoreConflict("the plan's keys changed while it was updated") from exc
        return True

    async def delete_plan(self, plan_id: str) -> bool:
        async with self._writer.begin() as conn:
            result = await conn.execute(delete(usage_plans).where(usage_plans.c.id == plan_id))
        return result.rowcount > 0

    # -- plan keys -----------------------------------------------------------------------------

    async def add_plan_key(self, plan_id: str, key_id: str, limits: Limits) -> Added:
        try:
            async with self._writer.begin() as conn:
                return await _add_plan_key(conn, plan_id, key_id, limits)
        except IntegrityError as exc:
            raise StoreConflict("the plan or the key changed meanwhile") from exc

    async def get_plan_key(self, plan_id: str, key_id: str) -> ApiKeyRecord | None:
        row = await self._row(
            _members(plan_id).where(usage_plan_keys.c.key_id == key_id),
        )
        return None if row is None else _key_record(row)

    async def list_plan_keys(
        self,
        plan_id: str,
        *,
        name_prefix: str | None = None,
        after: Position | None = None,
        limit: int = 25,
    ) -> list[ApiKeyRecord]:
        query = _page(_members(plan_id), name_prefix, after, limit)
        return [_key_record(row) for row in await self._rows(query)]

    async def delete_plan_key(self, plan_id: str, key_id: str) -> bool:
        async with self._writer.begin() as conn:
            result = await conn.execute(
                delete(usage_plan_keys).where(
                    (usage_plan_keys.c.plan_id == plan_id) & (usage_plan_keys.c.key_id == key_id)
                )
            )
        return result.rowcount > 0

    async def metered_stages(self, key_id: str) -> dict[tuple[str, str], str]:
        s = usage_key_stages
        rows = await self._rows(
            select(s.c.api_id, s.c.stage, s.c.plan_id).where(s.c.key_id == key_id)
        )
        return {(str(row.api_id), str(row.stage)): str(row.plan_id) for row in rows}

    # -- the gateway's view --------------------------------------------------------------------

    async def records(self) -> UsageRecords:
        k = api_keys.c
        async with self._engine.connect() as conn:
            keys = (await conn.execute(select(k.id, k.value_digest, k.enabled))).all()
            plans = (await conn.execute(select(usage_plans))).all()
            members = (await conn.execute(select(usage_plan_keys))).all()
        return UsageRecords(
            keys=tuple(KeyRow(str(r.id), str(r.value_digest), bool(r.enabled)) for r in keys),
            plans=tuple(_plan(row) for row in plans),
            members=tuple((str(r.plan_id), str(r.key_id)) for r in members),
        )


# -- statements ----------------------------------------------------------------------------------


async def _count(conn: AsyncConnection, table: Any) -> int:
    return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())


async def _digest_taken(conn: AsyncConnection, digest: str) -> bool:
    query = select(api_keys.c.id).where(api_keys.c.value_digest == digest)
    return (await conn.execute(query)).first() is not None


async def _add_plan_key(conn: AsyncConnection, plan_id: str, key_id: str, limits: Limits) -> Added:
    plan = (
        await conn.execute(select(usage_plans.c.api_stages).where(usage_plans.c.id == plan_id))
    ).first()
    if plan is None:
        raise MissingRecord("usage plan", plan_id)
    if (await conn.execute(select(api_keys.c.id).where(api_keys.c.id == key_id))).first() is None:
        raise MissingRecord("API key", key_id)
    memberships = {
        str(row.plan_id)
        for row in await conn.execute(
            select(usage_plan_keys.c.plan_id).where(usage_plan_keys.c.key_id == key_id)
        )
    }
    if plan_id in memberships:
        return Added.ALREADY
    if len(memberships) >= limits.plans_per_key:
        raise TooMany("usage plans for one API key", limits.plans_per_key)
    stages = [stage.key for stage in _stages(plan.api_stages)]
    s = usage_key_stages
    taken = {
        (str(row.api_id), str(row.stage))
        for row in await conn.execute(select(s.c.api_id, s.c.stage).where(s.c.key_id == key_id))
    }
    for api_id, stage in stages:
        if (api_id, stage) in taken:
            raise StageTaken(key_id, api_id, stage)
    await conn.execute(insert(usage_plan_keys).values(plan_id=plan_id, key_id=key_id))
    if stages:
        await conn.execute(
            insert(s),
            [
                {"key_id": key_id, "api_id": api_id, "stage": stage, "plan_id": plan_id}
                for api_id, stage in stages
            ],
        )
    return Added.ADDED


async def _drop_stages(conn: AsyncConnection, plan_id: str, gone: Set[tuple[str, str]]) -> None:
    s = usage_key_stages
    for api_id, stage in sorted(gone):
        await conn.execute(
            delete(s).where(
                (s.c.plan_id == plan_id) & (s.c.api_id == api_id) & (s.c.stage == stage)
            )
        )


async def _meter_members(conn: AsyncConnection, plan_id: str, added: Set[tuple[str, str]]) -> None:
    """Record the plan's keys as metered on the stages the plan gains; StageTaken if one of
    them is metered there by another plan."""
    if not added:
        return
    members = [
        str(row.key_id)
        for row in await conn.execute(
            select(usage_plan_keys.c.key_id)
            .where(usage_plan_keys.c.plan_id == plan_id)
            .order_by(usage_plan_keys.c.key_id)
        )
    ]
    if not members:
        return
    s = usage_key_stages
    taken = {
        (str(row.key_id), str(row.api_id), str(row.stage))
        for row in await conn.execute(
            select(s.c.key_id, s.c.api_id, s.c.stage).where(s.c.key_id.in_(members))
        )
    }
    rows = []
    for key_id in members:
        for api_id, stage in sorted(added):
            if (key_id, api_id, stage) in taken:
                raise StageTaken(key_id, api_id, stage)
            rows.append({"key_id": key_id, "api_id": api_id, "stage": stage, "plan_id": plan_id})
    await conn.execute(insert(s), rows)


def _members(plan_id: str) -> Select[Any]:
    return (
        select(api_keys)
        .join(usage_plan_keys, usage_plan_keys.c.key_id == api_keys.c.id)
        .where(usage_plan_keys.c.plan_id == plan_id)
    )


def _page(
    query: Select[Any], name_prefix: str | None, after: Position | None, limit: int
) -> Select[Any]:
    """Keys ordered by (name, id), from just after `after`; the prefix is matched exactly
    (LIKE would ignore case on SQLite and not on PostgreSQL)."""
    name, key_id = api_keys.c.name, api_keys.c.id
    conditions: list[ColumnElement[bool]] = []
    if name_prefix:
        conditions.append(func.substr(name, 1, len(name_prefix)) == name_prefix)
    if after is not None:
        conditions.append(or_(name > after[0], and_(name == after[0], key_id > after[1])))
    if conditions:
        query = query.where(*conditions)
    return query.order_by(name, key_id).limit(limit)


# -- row mapping ---------------------------------------------------------------------------------


def _tags_text(tags: tuple[tuple[str, str], ...]) -> str:
    return json.dumps([list(tag) for tag in tags])


def _tags(text: str) -> tuple[tuple[str, str], ...]:
    return tuple((str(k), str(v)) for k, v in json.loads(text))


def _key_values(record: ApiKeyRecord) -> dict[str, object]:
    key = record.key
    return {
        "id": key.id,
        "name": key.name,
        "description": key.description,
        "enabled": key.enabled,
        "customer_id": key.customer_id,
        "created": key.created,
        "updated": key.updated,
        "value": record.sealed_value,
        "value_digest": record.value_digest,
        "tags": _tags_text(key.tags),
    }


def _key_record(row: Row[Any]) -> ApiKeyRecord:
    m, c = row._mapping, api_keys.c
    key = ApiKey(
        id=str(m[c.id]),
        name=str(m[c.name]),
        description=str(m[c.description]),
        enabled=bool(m[c.enabled]),
        customer_id=str(m[c.customer_id]),
        created=float(m[c.created]),
        updated=float(m[c.updated]),
        tags=_tags(m[c.tags]),
    )
    return ApiKeyRecord(key, bytes(m[c.value]), str(m[c.value_digest]))


def _throttle_json(throttle: Throttle) -> dict[str, float | int]:
    out: dict[str, float | int] = {}
    if throttle.rate_limit is not None:
        out["rateLimit"] = throttle.rate_limit
    if throttle.burst_limit is not None:
        out["burstLimit"] = throttle.burst_limit
    return out


def _stages_text(stages: tuple[ApiStage, ...]) -> str:
    return json.dumps(
        [
            {
                "apiId": stage.api_id,
                "stage": stage.stage,
                "throttle": {path: _throttle_json(t) for path, t in stage.throttle},
            }
            for stage in stages
        ]
    )


def _stages(text: str) -> tuple[ApiStage, ...]:
    return tuple(
        ApiStage(
            api_id=str(item["apiId"]),
            stage=str(item["stage"]),
            throttle=tuple(
                (str(path), Throttle(t.get("rateLimit"), t.get("burstLimit")))
                for path, t in sorted(item.get("throttle", {}).items())
            ),
        )
        for item in json.loads(text)
    )


def _plan_values(plan: UsagePlan) -> dict[str, object]:
    throttle, quota = plan.throttle, plan.quota
    return {
        "name": plan.name,
        "description": plan.description,
        "throttle_rate": None if throttle is None else throttle.rate_limit,
        "throttle_burst": None if throttle is None else throttle.burst_limit,
        "quota_limit": None if quota is None else quota.limit,
        "quota_period": None if quota is None else quota.period.value,
        "quota_offset": None if quota is None else quota.offset,
        "quota_set_at": plan.quota_set_at,
        "api_stages": _stages_text(plan.api_stages),
        "tags": _tags_text(plan.tags),
        "created": plan.created,
        "updated": plan.updated,
        "version": plan.version,
    }


def _plan(row: Row[Any]) -> UsagePlan:
    throttle = None
    if row.throttle_rate is not None or row.throttle_burst is not None:
        rate = None if row.throttle_rate is None else float(row.throttle_rate)
        burst = None if row.throttle_burst is None else int(row.throttle_burst)
        throttle = Throttle(rate, burst)
    quota = None
    if row.quota_limit is not None and row.quota_period is not None:
        quota = Quota(int(row.quota_limit), Period(row.quota_period), int(row.quota_offset or 0))
    return UsagePlan(
        id=str(row.id),
        name=str(row.name),
        description=str(row.description),
        api_stages=_stages(row.api_stages),
        throttle=throttle,
        quota=quota,
        quota_set_at=None if row.quota_set_at is None else float(row.quota_set_at),
        created=float(row.created),
        updated=float(row.updated),
        tags=_tags(row.tags),
        version=int(row.version),
    )
