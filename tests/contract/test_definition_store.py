"""The DefinitionStore contract (REST APIs, deployments, stages), run against every records
backend listed in BACKENDS."""

from __future__ import annotations

from dataclasses import replace

import pytest

from authgate.definition.records import StoredApi, StoredDeployment, StoredStage
from authgate.definition.store import MissingApi
from authgate.storage.base import StoreConflict
from authgate.storage.sql.definitions import SqlDefinitionStore
from tests.contract import records

Backend = records.Backend[SqlDefinitionStore]
backend = records.backend_fixture(SqlDefinitionStore)


@pytest.fixture
async def store(backend: Backend) -> SqlDefinitionStore:
    return await backend.open()


def api(api_id: str = "abc", name: str = "pets", revision: int = 1) -> StoredApi:
    return StoredApi(
        id=api_id,
        name=name,
        description="d",
        created=1.0,
        updated=1.0,
        document='{"openapi":"3.0.1"}',
        revision=revision,
        policy='{"Version":"2012-10-17","Statement":[]}',
        api_key_source="HEADER",
    )


def deployment(deployment_id: str, api_id: str = "abc", created: float = 2.0) -> StoredDeployment:
    return StoredDeployment(api_id, deployment_id, f'{{"d":"{deployment_id}"}}', "", created)


def stage(name: str, deployment_id: str, api_id: str = "abc", **variables: str) -> StoredStage:
    return StoredStage(api_id, name, deployment_id, variables, "", 3.0, 3.0)


async def test_apis_round_trip_ordered_by_name(store: SqlDefinitionStore) -> None:
    assert await store.insert_api(api("abc", "zoo"))
    assert await store.insert_api(api("def", "ant"))
    assert not await store.insert_api(api("abc", "again"))
    assert await store.get_api("abc") == api("abc", "zoo")
    assert await store.get_api("nope") is None
    assert [a.id for a in await store.list_apis()] == ["def", "abc"]


async def test_replace_needs_the_revision_it_read(store: SqlDefinitionStore) -> None:
    await store.insert_api(api())
    newer = replace(api(), name="renamed", revision=2, policy=None)
    assert await store.replace_api(newer, expected_revision=1)
    assert not await store.replace_api(replace(newer, revision=3), expected_revision=1)
    stored = await store.get_api("abc")
    assert stored is not None
    assert stored.name == "renamed"
    assert stored.policy is None
    assert stored.created == 1.0


async def test_deployment_and_its_stage_are_written_together(store: SqlDefinitionStore) -> None:
    await store.insert_api(api())
    await store.insert_deployment(deployment("d1"), stage("v1", "d1", color="red"))
    await store.insert_deployment(deployment("d2", created=5.0), stage("v1", "d2"))
    v1 = await store.get_stage("abc", "v1")
    assert v1 is not None
    assert v1.deployment_id == "d2"
    assert dict(v1.variables) == {}
    assert [d.id for d in await store.list_deployments("abc")] == ["d2", "d1"]
    deployed = await store.deployed_stages()
    assert [(d.key, d.document) for d in deployed] == [(("abc", "v1"), '{"d":"d2"}')]
    with pytest.raises(MissingApi):
        await store.insert_deployment(deployment("d3", api_id="gone"), None)
    with pytest.raises(StoreConflict):
        await store.insert_deployment(deployment("d1"))


async def test_stages_point_only_at_their_apis_deployments(store: SqlDefinitionStore) -> None:
    await store.insert_api(api())
    await store.insert_api(api("other"))
    await store.insert_deployment(deployment("d1"))
    await store.insert_deployment(deployment("x1", api_id="other"))
    assert await store.insert_stage(stage("beta", "d1", a="1"))
    assert not await store.insert_stage(stage("beta", "d1"))
    with pytest.raises(MissingApi):
        await store.insert_stage(stage("gamma", "x1"))
    assert await store.replace_stage(stage("beta", "d1", a="2"))
    assert not await store.replace_stage(stage("nope", "d1"))
    with pytest.raises(MissingApi):
        await store.replace_stage(stage("beta", "x1"))
    beta = await store.get_stage("abc", "beta")
    assert beta is not None
    assert dict(beta.variables) == {"a": "2"}
    assert [s.name for s in await store.list_stages("abc")] == ["beta"]


async def test_a_deployment_in_use_cannot_be_deleted(store: SqlDefinitionStore) -> None:
    await store.insert_api(api())
    await store.insert_deployment(deployment("d1"), stage("v1", "d1"))
    await store.insert_deployment(deployment("d2"))
    with pytest.raises(StoreConflict):
        await store.delete_deployment("abc", "d1")
    assert await store.delete_deployment("abc", "d2")
    assert not await store.delete_deployment("abc", "d2")
    assert await store.delete_stage("abc", "v1")
    assert not await store.delete_stage("abc", "v1")
    assert await store.delete_deployment("abc", "d1")


async def test_an_api_goes_with_its_deployments_and_stages(store: SqlDefinitionStore) -> None:
    await store.insert_api(api())
    await store.insert_api(api("keep"))
    await store.insert_deployment(deployment("d1"), stage("v1", "d1"))
    await store.insert_deployment(deployment("k1", api_id="keep"), stage("v1", "k1", "keep"))
    assert await store.delete_api("abc")
    assert not await store.delete_api("abc")
    assert await store.get_deployment("abc", "d1") is None
    assert await store.list_stages("abc") == []
    assert [d.key for d in await store.deployed_stages()] == [("keep", "v1")]


async def test_records_survive_reopening(backend: Backend, store: SqlDefinitionStore) -> None:
    await store.insert_api(api())
    await store.insert_deployment(deployment("d1"), stage("v1", "d1", x="y"))
    await backend.close()
    again = await backend.open()
    assert await again.get_api("abc") == api()
    [deployed] = await again.deployed_stages()
    assert deployed.stage == stage("v1", "d1", x="y")
