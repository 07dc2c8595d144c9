"""REST APIs managed from boto3 `apigateway`: import, put, deploy, resource policies, delete.

A real gateway on 127.0.0.1 serves one API from authgate.yaml (`cfg01`, read-only through the
API); the tests import others and call their invoke URLs
(`/restapis/{id}/{stage}/_user_request_/...`) over HTTP.
"""

from __future__ import annotations

import configparser
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from botocore.config import Config

from tests.support import GatewayFactory, RunningGateway, openapi, wait_for

ACCOUNT = "123456789012"


def mock(answer: dict[str, Any]) -> dict[str, Any]:
    """A method whose MOCK integration answers 200 with `answer`."""
    return {
        "x-amazon-apigateway-integration": {
            "type": "mock",
            "requestTemplates": {"application/json": '{"statusCode": 200}'},
            "responses": {
                "default": {
                    "statusCode": "200",
                    "responseTemplates": {"application/json": json.dumps(answer)},
                }
            },
        }
    }


def pets(version: int, **top: Any) -> bytes:
    doc = openapi(
        {"/pets": {"get": mock({"v": version})}, "/pets/{id}": {"get": mock({"pet": version})}},
        **top,
    )
    doc["info"] = {"title": "pets", "version": str(version), "description": "the pet store"}
    return json.dumps(doc).encode()


@dataclass
class World:
    gateway: RunningGateway
    apigw: Any
    start: GatewayFactory

    def invoke(self, api_id: str, path: str, stage: str = "v1") -> httpx.Response:
        url = f"{self.gateway.url}/restapis/{api_id}/{stage}/_user_request_{path}"
        return httpx.get(url, timeout=5)

    def deployed(self, stage: str = "v1", version: int = 1) -> str:
        api_id: str = self.apigw.import_rest_api(body=pets(version))["id"]
        self.apigw.create_deployment(restApiId=api_id, stageName=stage)
        return api_id


SETTINGS = {"apis": [{"id": "cfg01", "definition": "cfg.yaml", "stages": [{"name": "prod"}]}]}
FILES = {"cfg.yaml": openapi({"/hello": {"get": mock({"from": "config"})}})}


def client(gateway: RunningGateway, data_dir: Path) -> Any:
    profile = configparser.ConfigParser()
    profile.read(data_dir / "credentials")
    return boto3.client(
        "apigateway",
        endpoint_url=gateway.url,
        region_name="us-east-1",
        aws_access_key_id=profile["default"]["aws_access_key_id"],
        aws_secret_access_key=profile["default"]["aws_secret_access_key"],
        config=Config(retries={"total_max_attempts": 1}, read_timeout=10, connect_timeout=5),
    )


@pytest.fixture
def world(gateway: GatewayFactory, tmp_path: Path) -> World:
    running = gateway(SETTINGS, FILES)
    return World(running, client(running, tmp_path / "data"), gateway)


def test_import_then_deploy_serves_the_route(world: World) -> None:
    imported = world.apigw.import_rest_api(body=pets(1), failOnWarnings=True)
    api_id = imported["id"]
    assert imported["name"] == "pets"
    assert imported["description"] == "the pet store"
    assert imported["version"] == "1"
    assert imported["endpointConfiguration"] == {"types": ["REGIONAL"]}
    assert imported["apiKeySource"] == "HEADER"
    not_yet = world.invoke(api_id, "/pets")
    assert not_yet.status_code == 403
    assert not_yet.json() == {"message": "Missing Authentication Token"}

    deployment = world.apigw.create_deployment(
        restApiId=api_id, stageName="v1", description="first", variables={"color": "red"}
    )
    assert deployment["description"] == "first"
    ok = world.invoke(api_id, "/pets")
    assert ok.status_code == 200
    assert ok.json() == {"v": 1}
    assert world.invoke(api_id, "/pets/7").json() == {"pet": 1}
    assert world.invoke(api_id, "/cats").status_code == 403
    assert world.gateway.app.dataplane.router.api_ids == ("cfg01", api_id)


def test_put_overwrite_then_merge_change_the_answer_after_each_deployment(world: World) -> None:
    api_id = world.deployed()
    world.apigw.put_rest_api(restApiId=api_id, mode="overwrite", body=pets(2))
    assert world.invoke(api_id, "/pets").json() == {"v": 1}, "not deployed yet"
    world.apigw.create_deployment(restApiId=api_id, stageName="v1")
    assert world.invoke(api_id, "/pets").json() == {"v": 2}

    cats = json.dumps(openapi({"/cats": {"get": mock({"cats": True})}})).encode()
    merged = world.apigw.put_rest_api(restApiId=api_id, mode="merge", body=cats)
    assert merged["name"] == "test"
    world.apigw.create_deployment(restApiId=api_id, stageName="v1")
    assert world.invoke(api_id, "/cats").json() == {"cats": True}
    assert world.invoke(api_id, "/pets").json() == {"v": 2}

    world.apigw.put_rest_api(restApiId=api_id, mode="overwrite", body=cats)
    world.apigw.create_deployment(restApiId=api_id, stageName="v1")
    assert world.invoke(api_id, "/pets").status_code == 403


def test_yaml_import_with_a_base_path_prepended(world: World) -> None:
    body = (
        "openapi: 3.0.1\n"
        "info: {title: yaml-api, version: '2024-01-01'}\n"
        "servers: [{url: 'https://example.com/{basePath}', "
        "variables: {basePath: {default: v2}}}]\n"
        "paths:\n"
        "  /items:\n"
        "    get:\n"
        "      x-amazon-apigateway-integration:\n"
        "        type: mock\n"
        "        requestTemplates: {application/json: '{\"statusCode\": 200}'}\n"
        "        responses:\n"
        "          default: {statusCode: '200'}\n"
    )
    imported = world.apigw.import_rest_api(body=body.encode(), parameters={"basepath": "prepend"})
    assert imported["version"] == "2024-01-01"
    world.apigw.create_deployment(restApiId=imported["id"], stageName="v1")
    assert world.invoke(imported["id"], "/v2/items").status_code == 200
    assert world.invoke(imported["id"], "/items").status_code == 403


def test_a_bad_document_is_refused_with_its_location_and_the_old_deployment_serves(
    world: World,
) -> None:
    api_id = world.deployed()
    bad = json.loads(pets(2))
    bad["paths"]["/pets"]["get"]["x-amazon-apigateway-integration"]["type"] = "teleport"
    with pytest.raises(world.apigw.exceptions.BadRequestException) as caught:
        world.apigw.put_rest_api(restApiId=api_id, mode="overwrite", body=json.dumps(bad).encode())
    message = caught.value.response["Error"]["Message"]
    assert message.startswith("Errors found during import:")
    assert "#/paths/~1pets/get/x-amazon-apigateway-integration/type" in message
    assert world.apigw.get_rest_api(restApiId=api_id)["version"] == "1"
    with pytest.raises(world.apigw.exceptions.BadRequestException):
        world.apigw.import_rest_api(body=b"{not json: [")
    with pytest.raises(world.apigw.exceptions.BadRequestException):
        world.apigw.import_rest_api(body=pets(1), parameters={"basepath": "split"})
    assert world.invoke(api_id, "/pets").json() == {"v": 1}


def test_a_deployment_that_does_not_compile_changes_nothing(world: World) -> None:
    api_id = world.deployed()
    before = world.apigw.get_stage(restApiId=api_id, stageName="v1")["deploymentId"]
    lambda_doc = openapi(
        {
            "/pets": {
                "get": {
                    "x-amazon-apigateway-integration": {
                        "type": "aws_proxy",
                        "httpMethod": "POST",
                        "uri": "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
                        "arn:aws:lambda:us-east-1:123456789012:function:Nowhere/invocations",
                    }
                }
            }
        }
    )
    world.apigw.put_rest_api(restApiId=api_id, mode="overwrite", body=json.dumps(lambda_doc))
    with pytest.raises(world.apigw.exceptions.BadRequestException) as caught:
        world.apigw.create_deployment(restApiId=api_id, stageName="v1")
    assert "names no function" in caught.value.response["Error"]["Message"]
    assert world.invoke(api_id, "/pets").json() == {"v": 1}
    stage = world.apigw.get_stage(restApiId=api_id, stageName="v1")
    assert stage["deploymentId"] == before
    assert len(world.apigw.get_deployments(restApiId=api_id)["items"]) == 1


def test_get_rest_apis_lists_config_and_imported_apis(world: World) -> None:
    api_id = world.deployed()
    listed = {item["id"]: item for item in world.apigw.get_rest_apis()["items"]}
    assert set(listed) == {"cfg01", api_id}
    assert listed["cfg01"]["tags"] == {"authgate:managed-by": "authgate.yaml"}
    assert listed[api_id]["tags"] == {}
    first = world.apigw.get_rest_apis(limit=1)
    assert len(first["items"]) == 1
    rest = world.apigw.get_rest_apis(limit=1, position=first["position"])
    assert {first["items"][0]["id"], rest["items"][0]["id"]} == {"cfg01", api_id}


def test_resources_stages_and_deployments_parse_in_boto3(world: World) -> None:
    api_id = world.deployed()
    api = world.apigw.get_rest_api(restApiId=api_id)
    resources = world.apigw.get_resources(restApiId=api_id, embed=["methods"])["items"]
    by_path = {r["path"]: r for r in resources}
    assert set(by_path) == {"/", "/pets", "/pets/{id}"}
    assert by_path["/"]["id"] == api["rootResourceId"]
    assert "parentId" not in by_path["/"]
    assert by_path["/pets"]["parentId"] == by_path["/"]["id"]
    assert by_path["/pets/{id}"]["parentId"] == by_path["/pets"]["id"]
    assert by_path["/pets/{id}"]["pathPart"] == "{id}"
    method = by_path["/pets"]["resourceMethods"]["GET"]
    assert method["authorizationType"] == "NONE"
    assert method["methodIntegration"]["type"] == "MOCK"
    plain = world.apigw.get_resources(restApiId=api_id)["items"]
    assert {r["path"]: r.get("resourceMethods") for r in plain}["/pets"] == {"GET": {}}
    one = world.apigw.get_resource(restApiId=api_id, resourceId=by_path["/pets"]["id"])
    assert one["path"] == "/pets"

    world.apigw.create_deployment(restApiId=api_id, stageName="v2", variables={"a": "b"})
    stages = world.apigw.get_stages(restApiId=api_id)["item"]
    assert [s["stageName"] for s in stages] == ["v1", "v2"]
    v2 = world.apigw.get_stage(restApiId=api_id, stageName="v2")
    assert v2["variables"] == {"a": "b"}
    assert v2["createdDate"].year >= 2024
    deployments = world.apigw.get_deployments(restApiId=api_id)["items"]
    assert {d["id"] for d in deployments} == {s["deploymentId"] for s in stages}
    only = world.apigw.get_stages(restApiId=api_id, deploymentId=v2["deploymentId"])["item"]
    assert [s["stageName"] for s in only] == ["v2"]


def test_stages_created_updated_and_deleted(world: World) -> None:
    api_id = world.deployed()
    deployment_id = world.apigw.get_stage(restApiId=api_id, stageName="v1")["deploymentId"]
    world.apigw.create_stage(restApiId=api_id, stageName="beta", deploymentId=deployment_id)
    assert world.invoke(api_id, "/pets", "beta").json() == {"v": 1}
    with pytest.raises(world.apigw.exceptions.ConflictException):
        world.apigw.create_stage(restApiId=api_id, stageName="beta", deploymentId=deployment_id)
    with pytest.raises(world.apigw.exceptions.BadRequestException):
        world.apigw.delete_deployment(restApiId=api_id, deploymentId=deployment_id)
    updated = world.apigw.update_stage(
        restApiId=api_id,
        stageName="beta",
        patchOperations=[{"op": "replace", "path": "/variables/x", "value": "1"}],
    )
    assert updated["variables"] == {"x": "1"}
    world.apigw.delete_stage(restApiId=api_id, stageName="beta")
    assert world.invoke(api_id, "/pets", "beta").status_code == 403
    with pytest.raises(world.apigw.exceptions.NotFoundException):
        world.apigw.get_stage(restApiId=api_id, stageName="beta")
    with pytest.raises(world.apigw.exceptions.BadRequestException) as reserved:
        world.apigw.create_deployment(restApiId=api_id, stageName="healthz")
    assert "reserved" in reserved.value.response["Error"]["Message"]


def test_a_policy_set_through_the_api_denies_after_the_next_deployment(world: World) -> None:
    api_id = world.deployed()
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "execute-api:Invoke",
                "Resource": "execute-api:/*",
            },
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": "execute-api:Invoke",
                "Resource": "execute-api:/*/GET/pets",
            },
        ],
    }
    updated = world.apigw.update_rest_api(
        restApiId=api_id,
        patchOperations=[{"op": "replace", "path": "/policy", "value": json.dumps(policy)}],
    )
    assert json.loads(json.loads(f'"{updated["policy"]}"')) == policy
    assert world.invoke(api_id, "/pets").status_code == 200, "takes effect on deployment"
    world.apigw.create_deployment(restApiId=api_id, stageName="v1")
    denied = world.invoke(api_id, "/pets")
    assert denied.status_code == 403
    assert denied.headers["x-amzn-errortype"] == "AccessDeniedException"
    assert denied.json() == {
        "Message": "User: anonymous is not authorized to perform: execute-api:Invoke on "
        f"resource: arn:aws:execute-api:us-east-1:********9012:{api_id}/v1/GET/pets "
        "with an explicit deny in a resource-based policy"
    }
    assert world.invoke(api_id, "/pets/3").status_code == 200
    with pytest.raises(world.apigw.exceptions.BadRequestException):
        world.apigw.update_rest_api(
            restApiId=api_id,
            patchOperations=[{"op": "replace", "path": "/policy", "value": '{"Statement": 1}'}],
        )


def test_delete_rest_api_takes_its_routes_away(world: World) -> None:
    api_id = world.deployed()
    assert world.invoke(api_id, "/pets").status_code == 200
    world.apigw.delete_rest_api(restApiId=api_id)
    gone = world.invoke(api_id, "/pets")
    assert gone.status_code == 403
    assert gone.json() == {"message": "Missing Authentication Token"}
    with pytest.raises(world.apigw.exceptions.NotFoundException) as caught:
        world.apigw.get_rest_api(restApiId=api_id)
    assert caught.value.response["Error"]["Message"] == (
        f"Invalid API identifier specified {ACCOUNT}:{api_id}"
    )


def test_the_config_managed_api_is_readable_but_refuses_writes(world: World) -> None:
    api = world.apigw.get_rest_api(restApiId="cfg01")
    assert api["name"] == "test"
    assert [s["stageName"] for s in world.apigw.get_stages(restApiId="cfg01")["item"]] == ["prod"]
    paths = {r["path"] for r in world.apigw.get_resources(restApiId="cfg01")["items"]}
    assert paths == {"/", "/hello"}
    writes = [
        lambda: world.apigw.put_rest_api(restApiId="cfg01", body=pets(1)),
        lambda: world.apigw.update_rest_api(
            restApiId="cfg01", patchOperations=[{"op": "replace", "path": "/name", "value": "x"}]
        ),
        lambda: world.apigw.delete_rest_api(restApiId="cfg01"),
        lambda: world.apigw.create_deployment(restApiId="cfg01", stageName="prod"),
        lambda: world.apigw.delete_stage(restApiId="cfg01", stageName="prod"),
    ]
    for write in writes:
        with pytest.raises(world.apigw.exceptions.BadRequestException) as caught:
            write()
        assert "is managed by authgate.yaml" in caught.value.response["Error"]["Message"]
    served = httpx.get(f"{world.gateway.url}/restapis/cfg01/prod/_user_request_/hello", timeout=5)
    assert served.json() == {"from": "config"}


def test_deployments_survive_a_restart_and_reach_a_second_process(world: World) -> None:
    api_id = world.deployed()
    second = world.start(SETTINGS, FILES)
    url = f"{second.url}/restapis/{api_id}/v1/_user_request_/pets"
    assert httpx.get(url, timeout=5).json() == {"v": 1}, "read from the records at start"
    world.apigw.put_rest_api(restApiId=api_id, mode="overwrite", body=pets(2))
    world.apigw.create_deployment(restApiId=api_id, stageName="v1")
    assert wait_for(lambda: httpx.get(url, timeout=5).json() == {"v": 2}, timeout=5)
    world.apigw.delete_rest_api(restApiId=api_id)
    assert wait_for(lambda: httpx.get(url, timeout=5).status_code == 403, timeout=5)


def test_stages_that_did_not_change_keep_their_compiled_routes(world: World) -> None:
    first = world.deployed()

    def routes_of(api_id: str) -> object:
        router = world.gateway.app.dataplane.router
        return next(r for r in router.stages() if r.plan.api_id == api_id)

    compiled = routes_of(first)
    second = world.deployed()
    assert routes_of(first) is compiled
    assert world.invoke(second, "/pets").json() == {"v": 1}
    world.apigw.create_deployment(restApiId=first, stageName="v1")
    assert routes_of(first) is not compiled
