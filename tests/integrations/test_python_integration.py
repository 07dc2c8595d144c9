"""PythonIntegration: handlers written for Lambda, run in-process on a routed Exchange."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import re
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools.utilities.data_classes import (
    APIGatewayProxyEvent,
    APIGatewayProxyEventV2,
)

from authgate.definition.model import PayloadVersion, Protocol
from authgate.definition.routes import MethodPlan, StagePlan
from authgate.errors import IntegrationMalformed, IntegrationTimeout
from authgate.gateway.exchange import Exchange
from authgate.http1.message import BodyTooLarge, BytesBody, Request, Response
from authgate.integrations.functions import FunctionLoader, FunctionRef, LambdaFunction
from authgate.integrations.python import PythonIntegration

HANDLERS = Path(__file__).resolve().parent / "handlers"
LOADER = FunctionLoader(HANDLERS)
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"


def function(
    reference: str, name: str = "Fn", timeout: float = 3.0, memory: int = 128
) -> LambdaFunction:
    return LOADER.load(FunctionRef(name, reference, timeout, memory), f"#/functions/{name}")


def stage_plan(protocol: Protocol = Protocol.REST, stage: str = "prod", **extra: Any) -> StagePlan:
    return StagePlan(
        api_id="abc123",
        api_name="test",
        protocol=protocol,
        stage=stage,
        deployment_id="dep123",
        account_id="123456789012",
        region="us-east-1",
        **extra,
    )


def exchange(
    integration: PythonIntegration,
    stage: StagePlan,
    *,
    method: str = "GET",
    path: str = "/",
    resource: str = "/{proxy+}",
    declared: str = "ANY",
    query: str = "",
    headers: list[tuple[str, str]] | None = None,
    body: bytes = b"",
    params: dict[str, str] | None = None,
    payload: PayloadVersion = "1.0",
) -> Exchange:
    plan = MethodPlan(
        stage=stage,
        http_method=declared,
        resource_path=resource,
        resource_id="res123",
        integration=integration,
        payload_version=payload,
    )
    full_path = path if stage.stage == "$default" else f"/{stage.stage}{path}"
    request = Request(
        method=method,
        path=full_path,
        query=query,
        headers=[("Host", "abc123.execute-api.localhost"), *(headers or [])],
        body=BytesBody(body),
        client=("203.0.113.1", 50000),
        server=("127.0.0.1", 8080),
    )
    return Exchange(
        request=request,
        request_id=str(uuid.uuid4()),
        extended_request_id="N7SnfFYZjoEEolg=",
        trace_id="Root=1-5e7a1c8e-0123456789abcdef01234567",
        received_at=time.time(),
        started=time.monotonic(),
        source_ip="203.0.113.1",
        stage=stage,
        method=plan,
        path=path,
        path_parameters=params or {},
    )


def header(response: Response, name: str) -> list[str]:
    return [v for k, v in response.headers if k.lower() == name]


def body_json(response: Response) -> Any:
    assert isinstance(response.body, bytes)
    return json.loads(response.body)


# --- Powertools resolvers run unchanged -------------------------------------------------------


async def test_rest_resolver_routes_reads_request_and_returns_json() -> None:
    integration = PythonIntegration(function("rest_resolver.py:lambda_handler"), "1.0", 29_000)
    stage = stage_plan(variables={"env": "prod"})
    ex = exchange(
        integration,
        stage,
        path="/items/42",
        query="q=hello+world&tag=a&tag=b",
        headers=[("X-Api-Key", "k123"), ("User-Agent", "pytest")],
        params={"proxy": "items/42"},
    )
    response = await integration.invoke(ex)
    assert response.status == 200
    assert header(response, "content-type") == ["application/json"]
    assert body_json(response) == {
        "id": "42",
        "q": "hello world",
        "tags": ["a", "b"],
        "key": "k123",
        "path": "/items/42",
        "resource": "/{proxy+}",
        "stage": "prod",
        "sourceIp": "203.0.113.1",
        "proxy": "items/42",
        "env": "prod",
    }
    assert isinstance(ex.integration_latency_ms, int)
    assert ex.integration_latency_ms >= 0


async def test_rest_resolver_post_json_body_and_status() -> None:
    integration = PythonIntegration(function("rest_resolver.py:lambda_handler"), "1.0", 29_000)
    ex = exchange(
        integration,
        stage_plan(),
        method="POST",
        path="/items",
        headers=[("Content-Type", "application/json")],
        body=b'{"name": "widget"}',
    )
    response = await integration.invoke(ex)
    assert response.status == 201
    assert body_json(response) == {"created": {"name": "widget"}}
    missing = await integration.invoke(exchange(integration, stage_plan(), path="/nothing"))
    assert missing.status == 404
    deleted = await integration.invoke(
        exchange(integration, stage_plan(), method="DELETE", path="/items/1")
    )
    assert (deleted.status, deleted.body) == (204, b"")


@pytest.mark.parametrize(
    "reference", ["http_resolver.py:lambda_handler", "http_resolver.py:async_handler"]
)
@pytest.mark.parametrize("stage_name", ["prod", "$default"])
async def test_http_resolver_v2_sync_and_async(reference: str, stage_name: str) -> None:
    integration = PythonIntegration(function(reference), "2.0", 30_000)
    stage = stage_plan(Protocol.HTTP, stage_name)
    ex = exchange(
        integration,
        stage,
        path="/orders/9",
        resource="/orders/{id}",
        declared="GET",
        query="q=x",
        headers=[("User-Agent", "pytest"), ("Cookie", "a=1; b=2")],
        params={"id": "9"},
        payload="2.0",
    )
    response = await integration.invoke(ex)
    assert response.status == 200
    prefix = "" if stage_name == "$default" else f"/{stage_name}"
    assert body_json(response) == {
        "id": "9",
        "q": "x",
        "agent": "pytest",
        "cookies": ["a=1", "b=2"],
        "rawPath": f"{prefix}/orders/9",
        "method": "GET",
        "routeKey": "GET /orders/{id}",
    }


async def test_http_resolver_v2_cookies_become_set_cookie_headers() -> None:
    integration = PythonIntegration(function("http_resolver.py:lambda_handler"), "2.0", 30_000)
    ex = exchange(
        integration,
        stage_plan(Protocol.HTTP, "$default"),
        method="POST",
        path="/orders",
        resource="/orders",
        declared="POST",
        headers=[("Content-Type", "application/json")],
        body=b'{"n": 1}',
        payload="2.0",
    )
    response = await integration.invoke(ex)
    assert response.status == 201
    assert body_json(response) == {"echo": {"n": 1}}
    assert header(response, "set-cookie") == ["session=abc; Path=/; Secure"]


# --- The event the function receives -------------------------------------------------------------


async def test_rest_event_parses_with_powertools() -> None:
    integration = PythonIntegration(function("lambda_behaviours.py:echo_event"), "1.0", 29_000)
    ex = exchange(
        integration,
        stage_plan(variables={"env": "prod"}),
        method="PUT",
        path="/items/a%2Bb/",
        query="price=10&price=30",
        headers=[("Content-Type", "application/json"), ("X-Thing", "1"), ("X-Thing", "2")],
        body=b'{"a": 1}',
        params={"proxy": "items/a%2Bb"},
    )
    ex.authorizer_context = {"principalId": "alice", "tenant": "acme"}
    ex.identity = {"apiKey": "k123"}
    event = APIGatewayProxyEvent(body_json(await integration.invoke(ex)))
    assert event.http_method == "PUT"
    assert event.path == "/items/a%2Bb/"
    assert event.resource == "/{proxy+}"
    assert event.query_string_parameters == {"price": "30"}
    assert event.multi_value_query_string_parameters == {"price": ["10", "30"]}
    assert event.multi_value_headers["X-Thing"] == ["1", "2"]
    assert event.headers["x-thing"] == "2"
    assert event.json_body == {"a": 1}
    assert event.is_base64_encoded is False
    assert event.stage_variables == {"env": "prod"}
    context = event.request_context
    assert context.path == "/prod/items/a%2Bb/"
    assert context.request_id == ex.request_id
    assert context.extended_request_id == "N7SnfFYZjoEEolg="
    assert context.resource_id == "res123"
    assert context.domain_name == "abc123.execute-api.us-east-1.amazonaws.com"
    assert context.identity.api_key == "k123"
    assert context.identity.source_ip == "203.0.113.1"
    assert context.authorizer.principal_id == "alice"
    assert context.authorizer["tenant"] == "acme"
    assert context.request_time_epoch == int(ex.received_at * 1000)


async def test_rest_binary_request_body_and_response() -> None:
    stage = stage_plan(binary_media_types=("image/png",))
    echo = PythonIntegration(function("lambda_behaviours.py:echo_event"), "1.0", 29_000)
    ex = exchange(echo, stage, method="POST", headers=[("Content-Type", "image/png")], body=PNG)
    event = APIGatewayProxyEvent(body_json(await echo.invoke(ex)))
    assert event.is_base64_encoded is True
    assert base64.b64decode(event.body or "") == PNG

    png = PythonIntegration(function("lambda_behaviours.py:png"), "1.0", 29_000)
    decoded = await png.invoke(exchange(png, stage))
    assert (decoded.body, header(decoded, "content-type")) == (PNG, ["image/png"])
    as_text = await png.invoke(exchange(png, stage_plan()))  # image/png not a binary media type
    assert as_text.body == base64.b64encode(PNG)


async def test_http_v2_binary_request_and_response() -> None:
    echo = PythonIntegration(function("lambda_behaviours.py:echo_event_async"), "2.0", 30_000)
    stage = stage_plan(Protocol.HTTP)
    octets = [("Content-Type", "application/octet-stream")]
    ex = exchange(echo, stage, method="POST", headers=octets, body=PNG, payload="2.0")
    event = APIGatewayProxyEventV2(body_json(await echo.invoke(ex)))
    assert event.is_base64_encoded is True
    assert base64.b64decode(event.body or "") == PNG
    assert event.raw_path == "/prod/"
    form = [("Content-Type", "application/x-www-form-urlencoded")]
    ex = exchange(echo, stage, method="POST", headers=form, body=b"a=1&b=2", payload="2.0")
    event = APIGatewayProxyEventV2(body_json(await echo.invoke(ex)))
    assert (event.is_base64_encoded, event.decoded_body) == (True, "a=1&b=2")
    png = PythonIntegration(function("lambda_behaviours.py:png"), "2.0", 30_000)
    assert (await png.invoke(exchange(png, stage, payload="2.0"))).body == PNG


async def test_http_v1_payload_event_and_inferred_nothing() -> None:
    echo = PythonIntegration(function("lambda_behaviours.py:echo_event"), "1.0", 30_000)
    ex = exchange(echo, stage_plan(Protocol.HTTP), headers=[("X-Thing", "v")], path="/a")
    event = body_json(await echo.invoke(ex))
    assert event["version"] == "1.0"
    assert event["headers"]["x-thing"] == "v"
    assert event["path"] == "/prod/a"
    png = PythonIntegration(function("lambda_behaviours.py:png"), "1.0", 30_000)
    assert (await png.invoke(exchange(png, stage_plan(Protocol.HTTP)))).body == PNG


async def test_v2_inference_for_a_plain_value() -> None:
    integration = PythonIntegration(function("lambda_behaviours.py:hello"), "2.0", 30_000)
    response = await integration.invoke(
        exchange(integration, stage_plan(Protocol.HTTP), payload="2.0")
    )
    assert response.status == 200
    assert response.body == b'{"message":"hello"}'
    assert header(response, "content-type") == ["application/json"]


# --- Failures ---------------------------------------------------------------------------------


async def test_exception_is_malformed_and_logged_never_answered(
    caplog: pytest.LogCaptureFixture,
) -> None:
    integration = PythonIntegration(
        function("lambda_behaviours.py:boom", name="Boom"), "1.0", 29_000
    )
    ex = exchange(integration, stage_plan())
    with (
        caplog.at_level(logging.ERROR, logger="authgate.functions"),
        pytest.raises(IntegrationMalformed) as caught,
    ):
        await integration.invoke(ex)
    assert "secret detail" not in caught.value.reason
    assert "Boom raised ValueError" in caught.value.reason
    [record] = [r for r in caplog.records if r.name == "authgate.functions"]
    assert record.exc_info is not None
    assert "secret detail from inside the function" in caplog.text
    assert ex.integration_latency_ms is not None


async def test_a_timeout_error_raised_by_the_handler_is_a_function_error() -> None:
    integration = PythonIntegration(
        function("lambda_behaviours.py:raise_timeout_error"), "1.0", 29_000
    )
    with pytest.raises(IntegrationMalformed, match="raised TimeoutError"):
        await integration.invoke(exchange(integration, stage_plan()))


@pytest.mark.parametrize(("reference", "version"), [("lambda_behaviours.py:just_a_string", "1.0")])
async def test_malformed_result(reference: str, version: PayloadVersion) -> None:
    integration = PythonIntegration(function(reference), version, 29_000)
    with pytest.raises(IntegrationMalformed, match="Malformed Lambda proxy response"):
        await integration.invoke(exchange(integration, stage_plan()))


async def test_integration_timeout_is_quick_for_sync_handler() -> None:
    integration = PythonIntegration(function("lambda_behaviours.py:blocking"), "1.0", 100)
    release = LOADER.resolve("lambda_behaviours.py:release", "test")
    started = time.monotonic()
    try:
        with pytest.raises(IntegrationTimeout):
            await integration.invoke(exchange(integration, stage_plan()))
    finally:
        release()
    assert time.monotonic() - started < 1.0


async def test_integration_timeout_cancels_async_handler() -> None:
    integration = PythonIntegration(function("lambda_behaviours.py:slow_async"), "2.0", 100)
    started = time.monotonic()
    ex = exchange(integration, stage_plan(Protocol.HTTP), payload="2.0")
    with pytest.raises(IntegrationTimeout):
        await integration.invoke(ex)
    assert time.monotonic() - started < 1.0
    assert ex.integration_latency_ms is not None
    assert 90 <= ex.integration_latency_ms < 1000


async def test_function_timeout_is_a_function_error_as_on_lambda() -> None:
    fn = function("lambda_behaviours.py:slow_async", timeout=0.1)
    integration = PythonIntegration(fn, "1.0", 29_000)
    with pytest.raises(IntegrationMalformed, match=r"Task timed out after 0\.10 seconds"):
        await integration.invoke(exchange(integration, stage_plan()))


async def test_body_too_large_propagates() -> None:
    class HugeBody:
        content_length: int | None = None

        async def read(self) -> bytes:
            raise BodyTooLarge(10)

        async def stream(self) -> AsyncIterator[bytes]:
            raise BodyTooLarge(10)
            yield b""  # pragma: no cover

    integration = PythonIntegration(function("lambda_behaviours.py:hello"), "1.0", 29_000)
    ex = exchange(integration, stage_plan())
    ex.request.body = HugeBody()
    with pytest.raises(BodyTooLarge):
        await integration.invoke(ex)


# --- The runtime around the handler ---------------------------------------------------------------


async def test_sync_handlers_do_not_block_the_event_loop() -> None:
    integration = PythonIntegration(function("lambda_behaviours.py:pause"), "1.0", 29_000)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        for _ in range(100):
            await asyncio.sleep(0.01)
            ticks += 1

    task = asyncio.create_task(ticker())
    try:
        results = await asyncio.wait_for(
            asyncio.gather(
                *(integration.invoke(exchange(integration, stage_plan())) for _ in range(3))
            ),
            timeout=5,
        )
    finally:
        task.cancel()
    assert [r.body for r in results] == [b"done"] * 3
    assert ticks >= 5


async def test_context_object() -> None:
    fn = function("lambda_behaviours.py:context_probe", name="Probe", memory=256)
    integration = PythonIntegration(fn, "1.0", 2_000)
    fields = body_json(await integration.invoke(exchange(integration, stage_plan())))
    first, second = fields.pop("remaining")
    assert 1_500 < first <= 2_000  # the smaller of the function's 3 s and the method's 2 s
    assert second < first
    assert uuid.UUID(fields.pop("aws_request_id"))
    assert re.fullmatch(
        r"\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}", fields.pop("log_stream_name")
    )
    assert fields == {
        "function_name": "Probe",
        "function_version": "$LATEST",
        "invoked_function_arn": "arn:aws:lambda:us-east-1:123456789012:function:Probe",
        "memory_limit_in_mb": 256,
        "log_group_name": "/aws/lambda/Probe",
        "cognito_identity_id": None,
        "client_context": None,
    }


async def test_powertools_logger_and_tracer_accept_the_context() -> None:
    pytest.importorskip("aws_xray_sdk", reason="Powertools' Tracer needs aws-xray-sdk")
    fn = function("traced.py:lambda_handler", name="Traced", memory=512)
    integration = PythonIntegration(fn, "1.0", 29_000)
    keys = body_json(await integration.invoke(exchange(integration, stage_plan(), path="/t")))
    assert keys.pop("function_request_id")
    assert keys == {
        "function_name": "Traced",
        "function_arn": "arn:aws:lambda:us-east-1:123456789012:function:Traced",
        "function_memory_size": 512,
    }
