"""Route matching precedence and path parameters, through the compiled tables."""

from __future__ import annotations

from typing import Any

import pytest

from authgate.definition.compile import compile_stage
from authgate.definition.model import Integration as Spec
from authgate.definition.model import Protocol, Stage
from authgate.definition.openapi import parse_definition
from authgate.definition.routes import StagePlan, StageRoutes
from authgate.errors import ConfigError
from authgate.gateway.exchange import Exchange
from authgate.http1.message import Response


class Named:
    """An integration that only says which route it is (enough to test routing)."""

    def __init__(self, uri: str) -> None:
        self.uri = uri

    async def invoke(self, exchange: Exchange) -> Response:
        return Response(200, [], self.uri.encode())


def named(spec: Spec, uri: str, stage: StagePlan, where: str) -> Named:
    return Named(uri)


def mock(tag: str) -> dict[str, Any]:
    return {"x-amazon-apigateway-integration": {"type": "http_proxy", "uri": f"http://h/{tag}"}}


def build(
    paths: dict[str, Any], protocol: Protocol = Protocol.REST, **variables: str
) -> StageRoutes:
    document = {"openapi": "3.0.1", "paths": paths}
    api = parse_definition(document, api_id="a1", source="t", protocol=protocol)
    return compile_stage(
        api,
        Stage("prod", variables),
        account_id="123456789012",
        region="us-east-1",
        deployment_id="d1",
        make_integration=named,
        source="t",
    )


REST = build(
    {
        "/": {"get": mock("root")},
        "/items": {"get": mock("items"), "post": mock("items-post")},
        "/items/special": {"get": mock("special")},
        "/items/{id}": {"get": mock("item")},
        "/items/{id}/parts/{part}": {"get": mock("part")},
        "/files/{proxy+}": {"x-amazon-apigateway-any-method": mock("files")},
        "/{proxy+}": {"get": mock("catchall")},
    }
)


@pytest.mark.parametrize(
    ("method", "path", "tag", "params"),
    [
        ("GET", "/", "root", {}),
        ("GET", "/items", "items", {}),
        ("GET", "/items/", "items", {}),
        ("POST", "/items", "items-post", {}),
        ("GET", "/items/special", "special", {}),
        ("GET", "/items/42", "item", {"id": "42"}),
        ("GET", "/items/a%2Bb", "item", {"id": "a%2Bb"}),
        ("GET", "/items/7/parts/x", "part", {"id": "7", "part": "x"}),
        ("DELETE", "/files/a/b/c.txt", "files", {"proxy": "a/b/c.txt"}),
        ("GET", "/items/7/other", "catchall", {"proxy": "items/7/other"}),
        ("GET", "/anything/deep/down", "catchall", {"proxy": "anything/deep/down"}),
    ],
)
def test_rest_precedence(method: str, path: str, tag: str, params: dict[str, str]) -> None:
    match = REST.match(method, path)
    assert match is not None
    assert isinstance(match.method.integration, Named)
    assert match.method.integration.uri == f"http://h/{tag}"
    assert dict(match.path_parameters) == params


@pytest.mark.parametrize(
    ("method", "path"), [("PUT", "/items"), ("DELETE", "/items/1"), ("POST", "/x")]
)
def test_rest_known_path_with_undeclared_verb_is_not_found(method: str, path: str) -> None:
    assert REST.match(method, path) is None


def test_http_api_chooses_by_verb_then_default_route() -> None:
    routes = build(
        {
            "/pets/{id}": {"get": mock("get-pet")},
            "/pets/{proxy+}": {"x-amazon-apigateway-any-method": mock("any-pets")},
            "/$default": {"x-amazon-apigateway-any-method": mock("default")},
        },
        Protocol.HTTP,
    )
    get = routes.match("GET", "/pets/1")
    post = routes.match("POST", "/pets/1")
    other = routes.match("GET", "/nothing")
    assert get is not None
    assert post is not None
    assert other is not None
    assert isinstance(get.method.integration, Named)
    assert get.method.integration.uri == "http://h/get-pet"
    assert get.method.route_key == "GET /pets/{id}"
    assert isinstance(post.method.integration, Named)
    assert post.method.integration.uri == "http://h/any-pets"
    assert other.method.route_key == "$default"
    assert dict(other.path_parameters) == {}


def test_stage_variables_are_substituted_at_compile_time() -> None:
    routes = build(
        {
            "/a": {
                "get": {
                    "x-amazon-apigateway-integration": {
                        "type": "http_proxy",
                        "uri": "${stageVariables.backend}/a",
                    }
                }
            }
        },
        backend="http://127.0.0.1:9",
    )
    match = routes.match("GET", "/a")
    assert match is not None
    assert isinstance(match.method.integration, Named)
    assert match.method.integration.uri == "http://127.0.0.1:9/a"


def test_undefined_stage_variable_and_conflicting_params_fail_to_compile() -> None:
    with pytest.raises(ConfigError) as caught:
        build(
            {
                "/a": {
                    "get": {
                        "x-amazon-apigateway-integration": {
                            "type": "http_proxy",
                            "uri": "${stageVariables.nope}/a",
                        }
                    }
                },
                "/b/{x}": {"get": mock("x")},
                "/b/{y}/c": {"get": mock("y")},
            }
        )
    text = str(caught.value)
    assert "stage variable 'nope' is not defined" in text
    assert "{y} conflicts with sibling {x}" in text
