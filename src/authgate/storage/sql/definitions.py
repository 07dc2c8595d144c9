"""`DefinitionStore` on SQLAlchemy Core (SQLite or PostgreSQL): REST APIs, deployments, stages.

Reads and writes follow `SqlUsageStore`: single-statement reads, reads of several statements in
one snapshot, writes serialized with each other (engine.py). A
stage's reference to its deployment is a foreign key, so a racing delete cannot leave a stage
serving nothing; such a lost race surfaces as `StoreConflict` or `MissingApi`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from sqlalchemy import Row, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from authgate.definition.records import DeployedStage, StoredApi, StoredDeployment, StoredStage
from authgate.definition.store import MissingApi
from authgate.storage.base import StoreConflict
from authgate.storage.sql.engine import SqlStore
from authgate.storage.sql.schema import rest_api_deployments, rest_api_stages, rest_apis

_apis = rest_apis.c
_deployments = rest_api_deployments.c
_stages = rest_api_stages.c


class SqlDefinitionStore(SqlStore):
    WRITE_LOCK = "definitions"

    # -- APIs ----------------------------------------------------------------------------------

    async def insert_api(self, api: StoredApi) -> bool:
        try:
            async with self._writer.begin() as conn:
                await conn.execute(insert(rest_apis).values(**_api_values(api)))
        except IntegrityError:
            return False
        return True

    async def get_api(self, api_id: str) -> StoredApi | None:
        row = await self._row(select(rest_apis).where(_apis.id == api_id))
        return None if row is None else _api(row)

    async def list_apis(self) -> list[StoredApi]:
        rows = await self._rows(select(rest_apis).order_by(_apis.name, _apis.id))
        return [_api(row) for row in rows]

    async def replace_api(self, api: StoredApi, *, expected_revision: int) -> bool:
        values = _api_values(api)
        del values["id"], values["created"]
        async with self._writer.begin() as conn:
            result = await conn.execute(
                update(rest_apis)
                .where(_apis.id == api.id, _apis.revision == expected_revision)
                .values(**values)
            )
        return bool(result.rowcount)

    async def delete_api(self, api_id: str) -> bool:
        async with self._writer.begin() as conn:
            await conn.execute(delete(rest_api_stages).where(_stages.api_id == api_id))
            await conn.execute(delete(rest_api_deployments).where(_deployments.api_id == api_id))
            result = await conn.execute(delete(rest_apis).where(_apis.id == api_id))
        return bool(result.rowcount)

    # -- deployments ---------------------------------------------------------------------------

    async def insert_deployment(
        self, deployment: StoredDeployment, stage: StoredStage | None = None
    ) -> None:
        try:
            async with self._writer.begin() as conn:
                if not await _api_exists(conn, deployment.api_id):
                    raise MissingApi(deployment.api_id)
                await conn.execute(
                    insert(rest_api_deployments).values(
                        api_id=deployment.api_id,
                        id=deployment.id,
                        document=deployment.document,
                        description=deployment.description,
                        created=deployment.created,
                    )
                )
                if stage is not None and not await _update_stage(conn, stage):
                    await conn.execute(insert(rest_api_stages).values(**_stage_values(stage)))
        except IntegrityError as exc:
            raise StoreConflict("the deployment could not be added") from exc

    async def get_deployment(self, api_id: str, deployment_id: str) -> StoredDeployment | None:
        row = await self._row(
            select(rest_api_deployments).where(
                _deployments.api_id == api_id, _deployments.id == deployment_id
            )
        )
        return None if row is None else _deployment(row)

    async def list_deployments(self, api_id: str) -> list[StoredDeployment]:
        rows = await self._rows(
            select(rest_api_deployments)
            .where(_deployments.api_id == api_id)
            .order_by(_deployments.created.desc(), _deployments.id)
        )
        return [_deployment(row) for row in rows]

    async def delete_deployment(self, api_id: str, deployment_id: str) -> bool:
        try:
            async with self._writer.begin() as conn:
                result = await conn.execute(
                    delete(rest_api_deployments).where(
                        _deployments.api_id == api_id, _deployments.id == deployment_id
                    )
                )
        except IntegrityError as exc:
            raise StoreConflict("a stage still points at the deployment") from exc
        return bool(result.rowcount)

    # -- stages --------------------------------------------------------------------------------

    async def insert_stage(self, stage: StoredStage) -> bool:
        try:
            async with self._writer.begin() as conn:
                if await _stage_exists(conn, stage.api_id, stage.name):
                    return False
                await conn.execute(insert(rest_api_stages).values(**_stage_values(stage)))
        except IntegrityError:
            if await self.get_stage(stage.api_id, stage.name) is not None:
                return False
            raise MissingApi(stage.api_id) from None
        return True

    async def replace_stage(self, stage: StoredStage) -> bool:
        try:
            async with self._writer.begin() as conn:
                return await _update_stage(conn, stage)
        except IntegrityError:
            raise MissingApi(stage.api_id) from None

    async def get_stage(self, api_id: str, name: str) -> StoredStage | None:
        row = await self._row(
            select(rest_api_stages).where(_stages.api_id == api_id, _stages.name == name)
        )
        return None if row is None else _stage(row)

    async def list_stages(self, api_id: str) -> list[StoredStage]:
        rows = await self._rows(
            select(rest_api_stages).where(_stages.api_id == api_id).order_by(_stages.name)
        )
        return [_stage(row) for row in rows]

    async def delete_stage(self, api_id: str, name: str) -> bool:
        async with self._writer.begin() as conn:
            result = await conn.execute(
                delete(rest_api_stages).where(_stages.api_id == api_id, _stages.name == name)
            )
        return bool(result.rowcount)

    # -- the data plane's view -----------------------------------------------------------------

    async def deployed_stages(self) -> list[DeployedStage]:
        query = (
            select(rest_api_stages, _deployments.document.label("snapshot"))
            .join(
                rest_api_deployments,
                (_deployments.api_id == _stages.api_id)
                & (_deployments.id == _stages.deployment_id),
            )
            .order_by(_stages.api_id, _stages.name)
        )
        rows = await self._rows(query)
        return [DeployedStage(_stage(row), row.snapshot) for row in rows]


async def _api_exists(conn: AsyncConnection, api_id: str) -> bool:
    found = await conn.execute(select(func.count()).where(_apis.id == api_id))
    return bool(found.scalar_one())


async def _stage_exists(conn: AsyncConnection, api_id: str, name: str) -> bool:
    found = await conn.execute(
        select(func.count()).where(_stages.api_id == api_id, _stages.name == name)
    )
    return bool(found.scalar_one())


async def _update_stage(conn: AsyncConnection, stage: StoredStage) -> bool:
    values = _stage_values(stage)
    del values["created"]
    result = await conn.execute(
        update(rest_api_stages)
        .where(_stages.api_id == stage.api_id, _stages.name == stage.name)
        .values(**values)
    )
    return bool(result.rowcount)


def _api_values(api: StoredApi) -> dict[str, Any]:
    return {
        "id": api.id,
        "name": api.name,
        "description": api.description,
        "created": api.created,
        "updated": api.updated,
        "document": api.document,
        "revision": api.revision,
        "policy": api.policy,
        "api_key_source": api.api_key_source,
    }


def _api(row: Row[Any]) -> StoredApi:
    return StoredApi(
        id=row.id,
        name=row.name,
        description=row.description,
        created=row.created,
        updated=row.updated,
        document=row.document,
        revision=row.revision,
        policy=row.policy,
        api_key_source=row.api_key_source,
    )


def _deployment(row: Row[Any]) -> StoredDeployment:
    return StoredDeployment(row.api_id, row.id, row.document, row.description, row.created)


def _stage_values(stage: StoredStage) -> dict[str, Any]:
    return {
        "api_id": stage.api_id,
        "name": stage.name,
        "deployment_id": stage.deployment_id,
        "variables": orjson.dumps(dict(stage.variables)).decode(),
        "description": stage.description,
        "created": stage.created,
        "updated": stage.updated,
    }


def _stage(row: Row[Any]) -> StoredStage:
    variables: Mapping[str, str] = orjson.loads(row.variables)
    return StoredStage(
        row.api_id,
        row.name,
        row.deployment_id,
        variables,
        row.description,
        row.created,
        row.updated,
    )
