"""Python handlers behind the gateway, fed the Lambda proxy event over real HTTP."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from aws_lambda_powertools.utilities.data_classes import (
    APIGatewayProxyEvent,
    APIGatewayProxyEventV2,
)

from tests.support import GatewayFactory, openapi, proxy_to

HANDLERS = Path(__file__).parent / "handlers"


def fn(module: str, func: str, **extra: Any) -> dict[str, Any]:
    return {"handler": f"{HANDLERS / module}.py:{func}", **extra}


FUNCTIONS = {
    "Rest": fn("powertools_rest", "handler"),
    "Http": fn("powertools_http", "handler"),
    "Echo": fn("behaviours", "echo_event", timeout=10),
    "AsyncEcho": fn("behaviours", "async_echo"),
    "Malformed": fn("behaviours", "malformed"),
    "BodyNotString": fn("behaviours", "body_not_string"),
    "Explode": fn("behaviours", "explode"),
    "Slow": fn("behaviours", "slow", timeout=10),
}

REST_API = openapi(
    {
        "/items": {"post": proxy_to("Rest")},
        "/items/{id}": {"get": proxy_to("Rest")},
        "/echo/{proxy+}": {"x-amazon-apigateway-any-method": proxy_to("Echo")},
        "/async": {"get": proxy_to("AsyncEcho")},
        "/malformed": {"get": proxy_to("Malformed")},
        "/object-body": {"get": proxy_to("BodyNotString")},
        "/explode": {"get": proxy_to("Explode")},
        "/slow": {"get": proxy_to("Slow", timeoutInMillis=300)},
    },
    **{"x-amazon-apigateway-binary-media-types": ["image/png"]},
)

HTTP_API = openapi(
    {
        "/pets/{id}": {"get": proxy_to("Http")},
        "/echo": {"post": proxy_to("Echo")},
        "/slow": {"get": proxy_to("Slow", timeoutInMillis=300)},
        "/explode": {"get": proxy_to("Explode")},
    },
    **{"x-amazon-apigateway-importexport-version": "1.0"},
)


@pytest.fixture
def gw(gateway: GatewayFactory) -> str:
    running = gateway(
        {
            "functions": FUNCTIONS,
            "apis": [
                {
                    "id": "rest01",
                    "definition": "rest.yaml",
                    "stages": [{"name": "prod", "variables": {"color": "blue"}}],
                },
                {"id": "http01", "definition": "http.yaml", "stages": [{"name": "$default"}]},
            ],
        },
        {"rest.yaml": REST_API, "http.yaml": HTTP_API},
    )
    return running.url


def rest(base: str, path: str) -> str:
    return f"{base}/restapis/rest01/prod/_user_request_{path}"


def test_powertools_rest_resolver_runs_unchanged(gw: str) -> None:
    r = httpx.get(rest(gw, "/items/42?q=a+b"), headers={"X-Test": "yes"})
    assert r.status_code == 200
    assert r.json() == {
        "id": "42",
        "q": "a b",
        "header": "yes",
        "path": "/items/42",
        "resource": "/items/{id}",
        "stage": "prod",
        "sourceIp": "127.0.0.1",
    }
    assert r.headers["x-amzn-requestid"]
    created = httpx.post(rest(gw, "/items"), json={"name": "box"})
    assert created.status_code == 201
    assert created.json() == {"created": {"name": "box"}}


def test_rest_event_parses_with_powertools_and_carries_aws_fields(gw: str) -> None:
    r = httpx.put(
        rest(gw, "/echo/a%2Bb/c/?x=1&x=2&y=%2B"),
        headers=[("X-Multi", "one"), ("X-Multi", "two")],
        content=b"payload",
    )
    assert r.status_code == 200
    body = r.json()
    event = APIGatewayProxyEvent(body["event"])
    assert event.http_method == "PUT"
    assert event.resource == "/echo/{proxy+}"
    assert event.path == "/echo/a%2Bb/c/"
    assert event.path_parameters == {"proxy": "a%2Bb/c"}
    assert event.query_string_parameters == {"x": "2", "y": "+"}
    assert event.multi_value_query_string_parameters == {"x": ["1", "2"], "y": ["+"]}
    assert event.multi_value_headers["X-Multi"] == ["one", "two"]
    assert event.stage_variables == {"color": "blue"}
    assert event.body == "payload"
    assert event.is_base64_encoded is False
    ctx = event.request_context
    assert ctx.stage == "prod"
    assert ctx.api_id == "rest01"
    assert ctx.account_id == "123456789012"
    assert ctx.path == "/prod/echo/a%2Bb/c/"
    assert ctx.request_id == r.headers["x-amzn-requestid"]
    assert 0 < body["remaining"] <= 10_000
    assert body["function"] == "Echo"
    assert body["arn"] == "arn:aws:lambda:us-east-1:123456789012:function:Echo"


def test_binary_media_type_body_arrives_base64(gw: str) -> None:
    r = httpx.post(
        rest(gw, "/echo/img"), content=b"\x89PNG\x00\xff", headers={"content-type": "image/png"}
    )
    event = APIGatewayProxyEvent(r.json()["event"])
    assert event.is_base64_encoded is True
    assert base64.b64decode(event.body or "") == b"\x89PNG\x00\xff"


def test_async_handler_is_awaited(gw: str) -> None:
    r = httpx.get(rest(gw, "/async"))
    assert r.status_code == 200
    assert r.json() == {"async": True, "path": "/async"}


@pytest.mark.parametrize("path", ["/malformed", "/object-body", "/explode"])
def test_handler_failures_are_502_with_aws_body(gw: str, path: str) -> None:
    r = httpx.get(rest(gw, path))
    assert r.status_code == 502
    assert r.json() == {"message": "Internal server error"}
    assert r.headers["x-amzn-errortype"] == "InternalServerErrorException"
    assert "secret-internal-detail-42" not in r.text


def test_exception_traceback_is_logged_not_returned(
    gw: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("ERROR"):
        r = httpx.get(rest(gw, "/explode"))
    assert r.status_code == 502
    assert "secret-internal-detail-42" in caplog.text
    assert "Traceback" in caplog.text or "RuntimeError" in caplog.text


def test_integration_timeout_is_504(gw: str) -> None:
    r = httpx.get(rest(gw, "/slow"), timeout=5)
    assert r.status_code == 504
    assert r.json() == {"message": "Endpoint request timed out"}


def test_http_api_payload_2_with_powertools(gw: str) -> None:
    r = httpx.get(
        f"{gw}/restapis/http01/$default/_user_request_/pets/7?q=1&q=2",
        headers={"cookie": "a=1; b=2"},
    )
    assert r.status_code == 200
    assert r.json() == {
        "id": "7",
        "routeKey": "GET /pets/{id}",
        "rawPath": "/pets/7",
        "cookies": ["a=1", "b=2"],
        "q": "1,2",
        "method": "GET",
    }
    assert "apigw-requestid" in r.headers


def test_http_api_event_and_errors(gw: str) -> None:
    host = {"host": "http01.execute-api.localhost"}
    r = httpx.post(f"{gw}/echo?a=1", content=b"{}", headers=host)
    event = APIGatewayProxyEventV2(json.loads(r.text)["event"])
    assert event.version == "2.0" if hasattr(event, "version") else True
    assert event.raw_path == "/echo"
    assert event.raw_query_string == "a=1"
    assert event.request_context.http.method == "POST"
    missing = httpx.get(f"{gw}/nope", headers=host)
    assert (missing.status_code, missing.json()) == (404, {"message": "Not Found"})
    slow = httpx.get(f"{gw}/slow", headers=host, timeout=5)
    assert (slow.status_code, slow.json()) == (503, {"message": "Service Unavailable"})
    boom = httpx.get(f"{gw}/explode", headers=host)
    assert (boom.status_code, boom.json()) == (500, {"message": "Internal Server Error"})
