"""DefinitionService on a real SQLite store, with a redeploy that compiles each stage for real
(MOCK and HTTP integrations) and keeps what it would serve."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from authgate.clock import ManualClock
from authgate.definition.compile import compile_stage
from authgate.definition.deploy import compile_deployed
from authgate.definition.model import Integration, IntegrationType, Stage
from authgate.definition.openapi import parse_definition
from authgate.definition.records import (
    ConfigApi,
    DeployedStage,
    StageKey,
    StoredApi,
    StoredDeployment,
    StoredStage,
)
from authgate.definition.routes import StagePlan, StageRoutes
from authgate.definition.service import DefinitionService
from authgate.errors import ConfigError
from authgate.http1.client import UpstreamPool
from authgate.integrations.base import Integration as Runnable
from authgate.integrations.http import build_http_integration
from authgate.integrations.mock import build_mock_integration
from authgate.storage.sql.definitions import SqlDefinitionStore
from authgate.storage.sql.engine import open_engine
from authgate.usage.errors import BadRequest, Conflict, NotFound
from authgate.usage.patch import PatchOperation
from tests.support import openapi

ACCOUNT = "123456789012"
MOCK = {
    "x-amazon-apigateway-integration": {
        "type": "mock",
        "requestTemplates": {"application/json": '{"statusCode": 200}'},
    }
}
CONFIG_DOC = openapi({"/config": {"get": MOCK}})


def body(paths: dict[str, Any], **top: Any) -> bytes:
    return json.dumps(openapi(paths, **top)).encode()


def proxied(uri: str) -> dict[str, Any]:
    return {"x-amazon-apigateway-integration": {"type": "http_proxy", "uri": uri}}


@dataclass
class World:
    engine: AsyncEngine
    pool: UpstreamPool
    config_routes: list[StageRoutes]
    served: list[StageRoutes] = field(default_factory=list)
    calls: list[tuple[list[StageKey], set[StageKey]]] = field(default_factory=list)
    services: list[DefinitionService] = field(default_factory=list)
    before_swap: list[Any] = field(default_factory=list)

    def integration(self, spec: Integration, uri: str, stage: StagePlan, where: str) -> Runnable:
        if spec.type is IntegrationType.MOCK:
            return build_mock_integration(spec, where)
        return build_http_integration(spec, uri, self.pool, location=where)

    async def redeploy(self, stored: Sequence[DeployedStage], strict: Collection[StageKey]) -> None:
        """What the app does: compile, fail on strict stages, leave out the others, swap."""
        self.calls.append(([d.key for d in stored], set(strict)))
        stages, problems = list(self.config_routes), []
        for deployed in stored:
            try:
                stages.append(
                    compile_deployed(
                        deployed,
                        account_id=ACCOUNT,
                        region="us-east-1",
                        make_integration=self.integration,
                    )
                )
            except ConfigError as exc:
                if deployed.key in strict:
                    problems.extend(exc.problems)
        if problems:
            raise ConfigError(problems)
        for hook in self.before_swap:
            await hook(stored, strict)
        self.served = stages

    def service(self) -> DefinitionService:
        config = parse_definition(CONFIG_DOC, api_id="cfg01", source="cfg.yaml")
        made = DefinitionService(
            SqlDefinitionStore(self.engine),
            clock=ManualClock(),
            redeploy=self.redeploy,
            region="us-east-1",
            account_id=ACCOUNT,
            config_apis=[ConfigApi(config, (Stage("prod"),), "abc123", 0.0)],
        )
        self.services.append(made)
        return made

    def keys(self) -> list[StageKey]:
        return [(r.plan.api_id, r.plan.stage) for r in self.served]


def _key(routes: StageRoutes) -> StageKey:
    return (routes.plan.api_id, routes.plan.stage)


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    engine = await open_engine("sqlite:///records.db", base_dir=tmp_path)
    config = parse_definition(CONFIG_DOC, api_id="cfg01", source="cfg.yaml")
    pool = UpstreamPool()
    routes = compile_stage(
        config,
        Stage("prod"),
        account_id=ACCOUNT,
        region="us-east-1",
        deployment_id="abc123",
        make_integration=lambda spec, uri, stage, where: build_mock_integration(spec, where),
        source="cfg.yaml",
    )
    made = World(engine, pool, [routes])
    yield made
    for service in made.services:
        await service.close()
    await pool.close()
    await engine.dispose()


async def test_import_serves_nothing_until_a_deployment(world: World) -> None:
    service = world.service()
    await service.reload()
    assert world.keys() == [("cfg01", "prod")]
    view = await service.import_api(body({"/a": {"get": MOCK}}))
    assert len(world.calls) == 1, "an import changes no stage"
    generation = service.generation
    deployment = await service.create_deployment(view.id, stage_name="v1")
    assert world.keys() == [("cfg01", "prod"), (view.id, "v1")]
    assert world.calls[-1][1] == {(view.id, "v1")}
    assert [_key(r) for r in world.served if r.plan.deployment_id == deployment.id] == [
        (view.id, "v1")
    ]
    assert service.generation == generation + 1


async def test_a_stage_that_does_not_compile_is_not_stored(world: World) -> None:
    service = world.service()
    await service.reload()
    view = await service.import_api(body({"/a": {"get": proxied("${stageVariables.up}/a")}}))
    with pytest.raises(BadRequest, match="stage variable 'up' is not defined"):
        await service.create_deployment(view.id, stage_name="v1")
    assert await service.stages(view.id) == []
    assert (await service.deployments(view.id, position=None, limit=None)).items == []
    assert world.keys() == [("cfg01", "prod")]
    await service.create_deployment(
        view.id, stage_name="v1", variables={"up": "http://127.0.0.1:9"}
    )
    assert world.keys() == [("cfg01", "prod"), (view.id, "v1")]


async def test_a_failed_write_puts_the_previous_routes_back(world: World) -> None:
    service = world.service()
    await service.reload()
    view = await service.import_api(body({"/a": {"get": MOCK}}))
    rival = SqlDefinitionStore(world.engine)

    async def deleted_meanwhile(
        stored: Sequence[DeployedStage], strict: Collection[StageKey]
    ) -> None:
        if strict:
            await rival.delete_api(view.id)

    world.before_swap.append(deleted_meanwhile)
    with pytest.raises(NotFound):
        await service.create_deployment(view.id, stage_name="v1")
    assert world.keys() == [("cfg01", "prod")]
    assert world.calls[-1] == ([], set())


async def test_reload_skips_an_unchanged_state_and_sees_other_processes(world: World) -> None:
    first, second = world.service(), world.service()
    await first.reload()
    await first.reload()
    assert len(world.calls) == 1
    view = await second.import_api(body({"/a": {"get": MOCK}}))
    await second.create_deployment(view.id, stage_name="v1")
    world.served = list(world.config_routes)
    first.reload_soon()
    first.reload_soon()
    for _ in range(200):
        if world.keys() == [("cfg01", "prod"), (view.id, "v1")]:
            break
        await asyncio.sleep(0.01)
    assert world.keys() == [("cfg01", "prod"), (view.id, "v1")]


async def test_a_stored_api_shadowed_by_the_config_is_not_served(world: World) -> None:
    store = SqlDefinitionStore(world.engine)
    service = world.service()
    view = await service.import_api(body({"/a": {"get": MOCK}}))
    await service.create_deployment(view.id, stage_name="v1")
    record = await store.get_api(view.id)
    assert record is not None
    shadow = StoredApi("cfg01", "old", "", 0.0, 0.0, record.document, 1, None, "HEADER")
    assert await store.insert_api(shadow)
    deployment = next(iter((await service.deployments(view.id, position=None, limit=None)).items))
    await store.insert_deployment(
        StoredDeployment("cfg01", "zz1", deployment.document, "", 0.0),
        StoredStage("cfg01", "prod", "zz1"),
    )
    fresh = world.service()
    await fresh.reload()
    assert sorted(world.keys()) == sorted([("cfg01", "prod"), (view.id, "v1")])
    assert [r.plan.deployment_id for r in world.served if _key(r) == ("cfg01", "prod")] == [
        "abc123"
    ]
    listed = (await fresh.list_apis(position=None, limit=None)).items
    assert [v.id for v in listed if v.id == "cfg01"] == ["cfg01"]


async def test_policy_updates_are_checked_and_kept_through_a_merge(world: World) -> None:
    service = world.service()
    view = await service.import_api(body({"/a": {"get": MOCK}}))
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "execute-api:Invoke",
                "Resource": "execute-api:/*",
            }
        ],
    }
    patch = PatchOperation("replace", "/policy", json.dumps(policy, indent=2))
    updated = await service.update_api(view.id, [patch])
    assert updated.definition.policy is not None
    assert json.loads(updated.definition.policy) == policy
    merged = await service.put_api(view.id, body({"/b": {"get": MOCK}}), mode="merge")
    assert merged.definition.policy is not None
    assert {r.path for r in merged.definition.resources} == {"/a", "/b"}
    bad = PatchOperation("replace", "/policy", json.dumps({"Statement": [{"Effect": "Maybe"}]}))
    with pytest.raises(BadRequest, match="Invalid policy document"):
        await service.update_api(view.id, [bad])
    with pytest.raises(BadRequest, match="Invalid patch path"):
        await service.update_api(view.id, [PatchOperation("replace", "/binaryMediaTypes", "x")])
    http_api = await service.import_api(
        body(
            {"/a": {"get": proxied("http://127.0.0.1:9/")}},
            **{"x-amazon-apigateway-importexport-version": "1.0"},
        )
    )
    with pytest.raises(BadRequest, match="HTTP APIs do not support resource policies"):
        await service.update_api(http_api.id, [patch])


async def test_names_variables_and_stale_writes_are_refused(world: World) -> None:
    service = world.service()
    view = await service.import_api(body({"/a": {"get": MOCK}}))
    for name in ("healthz", "ReStApIs", "bad name", "x" * 129):
        with pytest.raises(BadRequest):
            await service.create_deployment(view.id, stage_name=name)
    with pytest.raises(BadRequest, match="variable"):
        await service.create_deployment(view.id, stage_name="v1", variables={"a-b": "1"})
    with pytest.raises(BadRequest, match="need a stage"):
        await service.create_deployment(view.id, variables={"a": "1"})
    with pytest.raises(NotFound, match=f"{ACCOUNT}:nope"):
        await service.get_api("nope")
    deployment = await service.create_deployment(view.id, stage_name="v1")
    with pytest.raises(Conflict):
        await service.create_stage(view.id, "v1", deployment.id)
    with pytest.raises(NotFound):
        await service.create_stage(view.id, "v2", "missing")
    with pytest.raises(BadRequest, match="Active stages"):
        await service.delete_deployment(view.id, deployment.id)
