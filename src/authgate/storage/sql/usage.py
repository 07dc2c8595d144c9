"""`UsageStore` on SQLAlchemy Core (SQLite or PostgreSQL): API keys, usage plans, memberships.

Reads and writes follow `SqlIamStore`: single-statement reads, reads of several statements in
one snapshot, writes serialized with each other (engine.py), so the limits, the expected plan
version and the stages a joining key is metered on are checked against what the previous writer
left, in any process. The one-plan-per-API-stage rule is checked inside the write transaction,
so the error can name the stage, and also enforced by `usage_key_stages`' primary key.
"""

from __future__ import annotations

from collections.abc import Sequence, Set
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    bindparam,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from authgate.storage.base import StoreConflict
from authgate.storage.sql.engine import SqlStore
from authgate.storage.sql.schema import api_keys, usage_key_stages, usage_plan_keys, usage_plans
from authgate.storage.sql.usage_rows import (
    key_record,
    key_values,
    plan_of,
    plan_values,
    stages_of,
    tags_text,
)
from authgate.usage.model import (
    ApiKey,
    ApiKeyRecord,
    KeyRow,
    UsagePlan,
    UsageRecords,
)
from authgate.usage.store import (
    Added,
    ImportEntry,
    Limits,
    MissingRecord,
    Position,
    StageTaken,
    TooMany,
)


class SqlUsageStore(SqlStore):
    WRITE_LOCK = "usage"

    # -- keys ----------------------------------------------------------------------------------

    async def insert_key(self, record: ApiKeyRecord, limits: Limits) -> Added:
        try:
            async with self._writer.begin() as conn:
                if await _digest_taken(conn, record.value_digest):
                    return Added.ALREADY
                if await _count(conn, api_keys) >= limits.keys:
                    raise TooMany("API keys", limits.keys)
                await conn.execute(insert(api_keys).values(**key_values(record)))
        except IntegrityError as exc:
            if await self.get_key_by_digest(record.value_digest) is not None:
                return Added.ALREADY
            raise StoreConflict("the API key could not be added") from exc
        return Added.ADDED

    async def get_key(self, key_id: str) -> ApiKeyRecord | None:
        row = await self._row(select(api_keys).where(api_keys.c.id == key_id))
        return None if row is None else key_record(row)

    async def get_key_by_digest(self, digest: str) -> ApiKeyRecord | None:
        row = await self._row(select(api_keys).where(api_keys.c.value_digest == digest))
        return None if row is None else key_record(row)

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
        return [key_record(row) for row in await self._rows(query)]

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
                    tags=tags_text(key.tags),
                )
            )
        return result.rowcount > 0

    async def delete_key(self, key_id: str) -> bool:
        async with self._writer.begin() as conn:
            result = await conn.execute(delete(api_keys).where(api_keys.c.id == key_id))
        return result.rowcount > 0

    async def import_keys(self, entries: Sequence[ImportEntry], limits: Limits) -> list[str]:
        """In bulk (a few statements per 500 rows, not per row): a file of thousands of keys
        imports in about a second on SQLite."""
        try:
            async with self._writer.begin() as conn:
                found = await _ids_by_digest(conn, [e.record.value_digest for e in entries])
                new = [e.record for e in entries if e.record.value_digest not in found]
                if new and await _count(conn, api_keys) + len(new) > limits.keys:
                    raise TooMany("API keys", limits.keys)
                if new:
                    await conn.execute(insert(api_keys), [key_values(r) for r in new])
                changed = [
                    {
                        "key_id": found[e.record.value_digest],
                        "name": e.record.key.name,
                        "description": e.record.key.description,
                        "enabled": e.record.key.enabled,
                        "updated": e.record.key.updated,
                    }
                    for e in entries
                    if e.record.value_digest in found
                ]
                if changed:
                    await conn.execute(
                        update(api_keys)
                        .where(api_keys.c.id == bindparam("key_id"))
                        .values(
                            name=bindparam("name"),
                            description=bindparam("description"),
                            enabled=bindparam("enabled"),
                            updated=bindparam("updated"),
                        ),
                        changed,
                    )
                ids = [found.get(e.record.value_digest, e.record.key.id) for e in entries]
                pairs = [
                    (plan_id, key_id)
                    for entry, key_id in zip(entries, ids, strict=True)
                    for plan_id in entry.plan_ids
                ]
                await _add_members(conn, pairs, limits)
        except IntegrityError as exc:
            raise StoreConflict("the keys changed while they were imported") from exc
        return ids

    # -- plans ---------------------------------------------------------------------------------

    async def insert_plan(self, plan: UsagePlan, limits: Limits) -> Added:
        try:
            async with self._writer.begin() as conn:
                if await _count(conn, usage_plans) >= limits.plans:
                    raise TooMany("usage plans", limits.plans)
                await conn.execute(insert(usage_plans).values(id=plan.id, **plan_values(plan)))
        except IntegrityError:
            return Added.ALREADY
        return Added.ADDED

    async def get_plan(self, plan_id: str) -> UsagePlan | None:
        row = await self._row(select(usage_plans).where(usage_plans.c.id == plan_id))
        return None if row is None else plan_of(row)

    async def list_plans(self, key_id: str | None = None) -> list[UsagePlan]:
        query = select(usage_plans).order_by(usage_plans.c.name, usage_plans.c.id)
        if key_id is not None:
            query = query.join(
                usage_plan_keys, usage_plan_keys.c.plan_id == usage_plans.c.id
            ).where(usage_plan_keys.c.key_id == key_id)
        return [plan_of(row) for row in await self._rows(query)]

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
                old = {stage.key for stage in stages_of(row.api_stages)}
                new = plan.stage_keys
                await _drop_stages(conn, plan.id, old - new)
                await _meter_members(conn, plan.id, new - old)
                values = plan_values(plan) | {"version": expected_version + 1}
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
        return None if row is None else key_record(row)

    async def list_plan_keys(
        self,
        plan_id: str,
        *,
        name_prefix: str | None = None,
        after: Position | None = None,
        limit: int = 25,
    ) -> list[ApiKeyRecord]:
        query = _page(_members(plan_id), name_prefix, after, limit)
        return [key_record(row) for row in await self._rows(query)]

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

    async def metered_by_digest(
        self, digests: Sequence[str]
    ) -> dict[str, dict[tuple[str, str], str]]:
        s, k = usage_key_stages, api_keys
        found: dict[str, dict[tuple[str, str], str]] = {}
        async with self._snapshots.connect() as conn:
            for chunk in _chunks(digests):
                query = (
                    select(k.c.value_digest, s.c.api_id, s.c.stage, s.c.plan_id)
                    .join(s, s.c.key_id == k.c.id)
                    .where(k.c.value_digest.in_(chunk))
                )
                for row in await conn.execute(query):
                    stages = found.setdefault(str(row.value_digest), {})
                    stages[(str(row.api_id), str(row.stage))] = str(row.plan_id)
        return found

    # -- the gateway's view --------------------------------------------------------------------

    async def records(self) -> UsageRecords:
        k = api_keys.c
        async with self._snapshots.connect() as conn:
            keys = (await conn.execute(select(k.id, k.value_digest, k.enabled))).all()
            plans = (await conn.execute(select(usage_plans))).all()
            members = (await conn.execute(select(usage_plan_keys))).all()
        return UsageRecords(
            keys=tuple(KeyRow(str(r.id), str(r.value_digest), bool(r.enabled)) for r in keys),
            plans=tuple(plan_of(row) for row in plans),
            members=tuple((str(r.plan_id), str(r.key_id)) for r in members),
        )


# -- statements ----------------------------------------------------------------------------------


async def _count(conn: AsyncConnection, table: Any) -> int:
    return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())


async def _digest_taken(conn: AsyncConnection, digest: str) -> bool:
    query = select(api_keys.c.id).where(api_keys.c.value_digest == digest)
    return (await conn.execute(query)).first() is not None


_CHUNK = 500
"""Values per IN (...) list: well under every backend's limit on bound parameters."""


def _chunks(values: Sequence[str]) -> list[Sequence[str]]:
    return [values[i : i + _CHUNK] for i in range(0, len(values), _CHUNK)]


async def _ids_by_digest(conn: AsyncConnection, digests: Sequence[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for chunk in _chunks(digests):
        query = select(api_keys.c.value_digest, api_keys.c.id).where(
            api_keys.c.value_digest.in_(chunk)
        )
        found.update({str(row.value_digest): str(row.id) for row in await conn.execute(query)})
    return found


async def _add_members(
    conn: AsyncConnection, pairs: Sequence[tuple[str, str]], limits: Limits
) -> int:
    """Add (plan id, key id) memberships in bulk; those that exist already are left as they
    are. How many were added. Raises MissingRecord (a plan), TooMany (plans per key) or
    StageTaken (the key metered on one of the plan's stages by another plan)."""
    if not pairs:
        return 0
    plan_ids = sorted({plan_id for plan_id, _ in pairs})
    key_ids = sorted({key_id for _, key_id in pairs})
    stages: dict[str, list[tuple[str, str]]] = {}
    for chunk in _chunks(plan_ids):
        query = select(usage_plans.c.id, usage_plans.c.api_stages).where(
            usage_plans.c.id.in_(chunk)
        )
        for row in await conn.execute(query):
            stages[str(row.id)] = [stage.key for stage in stages_of(row.api_stages)]
    for plan_id in plan_ids:
        if plan_id not in stages:
            raise MissingRecord("usage plan", plan_id)
    members: dict[str, set[str]] = {key_id: set() for key_id in key_ids}
    metered: set[tuple[str, str, str]] = set()
    s = usage_key_stages
    for chunk in _chunks(key_ids):
        query = select(usage_plan_keys).where(usage_plan_keys.c.key_id.in_(chunk))
        for row in await conn.execute(query):
            members[str(row.key_id)].add(str(row.plan_id))
        query = select(s.c.key_id, s.c.api_id, s.c.stage).where(s.c.key_id.in_(chunk))
        metered |= {(str(r.key_id), str(r.api_id), str(r.stage)) for r in await conn.execute(query)}
    member_rows, stage_rows = [], []
    for plan_id, key_id in pairs:
        if plan_id in members[key_id]:
            continue
        if len(members[key_id]) >= limits.plans_per_key:
            raise TooMany("usage plans for one API key", limits.plans_per_key)
        for api_id, stage in stages[plan_id]:
            if (key_id, api_id, stage) in metered:
                raise StageTaken(key_id, api_id, stage)
            metered.add((key_id, api_id, stage))
            stage_rows.append(
                {"key_id": key_id, "api_id": api_id, "stage": stage, "plan_id": plan_id}
            )
        members[key_id].add(plan_id)
        member_rows.append({"plan_id": plan_id, "key_id": key_id})
    if member_rows:
        await conn.execute(insert(usage_plan_keys), member_rows)
    if stage_rows:
        await conn.execute(insert(s), stage_rows)
    return len(member_rows)


async def _add_plan_key(conn: AsyncConnection, plan_id: str, key_id: str, limits: Limits) -> Added:
    if (await conn.execute(select(api_keys.c.id).where(api_keys.c.id == key_id))).first() is None:
        if (
            await conn.execute(select(usage_plans.c.id).where(usage_plans.c.id == plan_id))
        ).first() is None:
            raise MissingRecord("usage plan", plan_id)
        raise MissingRecord("API key", key_id)
    return Added.ADDED if await _add_members(conn, [(plan_id, key_id)], limits) else Added.ALREADY


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
