"""HTTP_PROXY and HTTP integrations against real backends on 127.0.0.1."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import AsyncIterable, AsyncIterator, Mapping
from types import MappingProxyType

import orjson
import pytest

from authgate.definition.model import Integration as IntegrationSpec
from authgate.definition.model import IntegrationResponse, IntegrationType, Protocol
from authgate.definition.routes import MethodPlan, StagePlan
from authgate.errors import (
    ConfigError,
    IntegrationMalformed,
    IntegrationTimeout,
    IntegrationUnreachable,
)
from authgate.gateway.exchange import Exchange
from authgate.http1 import wire
from authgate.http1.client import UpstreamPool
from authgate.http1.message import Body, BytesBody, EmptyBody, Headers, Request, Response
from authgate.integrations.base import Integration
from authgate.integrations.http import build_http_integration
from tests.http1.upstream_backend import Backend, Seen

CLIENT_IP = "203.0.113.9"


async def answer(seen: Seen, r: asyncio.StreamReader, w: asyncio.StreamWriter, n: int) -> bool:
    """`/status/NNN` answers NNN; `/slow` never answers; `/big` streams 4 MB; else 200 + echo."""
    path = seen.target.partition("?")[0]
    if path == "/slow":
        await asyncio.sleep(5)
        return False
    if path == "/big":
        w.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Big: 1\r\n\r\n")
        for _ in range(64):
            w.write(b"10000\r\n" + b"b" * 65536 + b"\r\n")
            await w.drain()
        w.write(b"0\r\n\r\n")
        await w.drain()
        return True
    code = path.removeprefix("/status/")
    status = int(code) if path.startswith("/status/") and code.isdigit() else 200
    body = orjson.dumps({"target": seen.target, "size": seen.body_size})
    w.write(
        f"HTTP/1.1 {status} Whatever\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nX-Backend: yes\r\nKeep-Alive: timeout=5\r\n"
        "Connection: keep-alive, X-Secret-Hop\r\nX-Secret-Hop: drop me\r\n\r\n".encode()
        + body
    )
    await w.drain()
    return True


STAGE = StagePlan(
    api_id="a1b2c3",
    api_name="demo",
    protocol=Protocol.REST,
    stage="prod",
    deployment_id="dep1",
    account_id="123456789012",
    region="us-east-1",
    variables=MappingProxyType({"tier": "gold"}),
)


def exchange(
    integration: Integration,
    *,
    method: str = "GET",
    path: str = "/",
    query: str = "",
    headers: Headers | None = None,
    body: Body | None = None,
    path_parameters: Mapping[str, str] | None = None,
    authorizer: Mapping[str, object] | None = None,
) -> Exchange:
    request = Request(
        method=method,
        path=path,
        query=query,
        headers=headers if headers is not None else [("Host", "api.example.com")],
        body=body if body is not None else EmptyBody(),
        client=(CLIENT_IP, 40000),
        server=("127.0.0.1", 8080),
    )
    plan = MethodPlan(
        stage=STAGE,
        http_method="ANY",
        resource_path="/{proxy+}",
        resource_id="r1",
        integration=integration,
    )
    return Exchange(
        request=request,
        request_id="req-123",
        extended_request_id="ext-123",
        trace_id="Root=1-00000000-000000000000000000000000",
        received_at=time.time(),
        started=time.monotonic(),
        source_ip=CLIENT_IP,
        stage=STAGE,
        method=plan,
        path=path,
        path_parameters=MappingProxyType(dict(path_parameters or {})),
        authorizer_context=authorizer,
    )


def passed_on(response: Response) -> Headers:
    """Every header the client will get: the listed ones and the pre-encoded lines."""
    lines = response.head.decode("latin-1").splitlines()
    return [*response.headers, *((n, v.strip()) for n, _, v in (x.partition(":") for x in lines))]


async def read_body(response: Response) -> bytes:
    if isinstance(response.body, bytes):
        return response.body
    assert isinstance(response.body, AsyncIterable)
    return b"".join([chunk async for chunk in response.body])


def spec(uri_path: str, port: int, **kw: object) -> tuple[IntegrationSpec, str]:
    kind = kw.pop("type", IntegrationType.HTTP_PROXY)
    uri = f"http://127.0.0.1:{port}{uri_path}"
    return IntegrationSpec(type=kind, uri=uri, **kw), uri  # type: ignore[arg-type]


@pytest.fixture
async def pool() -> AsyncIterator[UpstreamPool]:
    p = UpstreamPool()
    yield p
    await p.close()


@pytest.fixture
async def backend() -> AsyncIterator[Backend]:
    async with Backend(answer) as b:
        yield b


async def test_proxy_forwards_headers_by_the_rules(pool: UpstreamPool, backend: Backend) -> None:
    integration = build_http_integration(*spec("/base/{proxy}", backend.port), pool)
    ex = exchange(
        integration,
        method="PATCH",
        path="/v1/things",
        query="a=1&b=two%20words&a=3",
        path_parameters={"proxy": "v1/things"},
        headers=[
            ("Host", "api.example.com"),
            ("Connection", "keep-alive, X-Hop-Named"),
            ("X-Hop-Named", "secret"),
            ("Keep-Alive", "timeout=5"),
            ("Proxy-Connection", "keep-alive"),
            ("Proxy-Authorization", "Basic eA=="),
            ("TE", "trailers"),
            ("Trailer", "X-T"),
            ("Upgrade", "websocket"),
            ("Expect", "100-continue"),
            ("Authorization", "Bearer token"),
            ("X-Forwarded-For", "198.51.100.1"),
            ("X-Forwarded-Proto", "ftp"),
            ("Cookie", "a=1"),
            ("Cookie", "b=2"),
            ("Content-Type", "text/plain"),
        ],
        body=BytesBody(b"payload"),
    )
    response = await integration.invoke(ex)
    assert response.status == 200
    seen = backend.requests[0]
    assert seen.method == "PATCH"
    assert seen.target == "/base/v1/things?a=1&b=two%20words&a=3"
    assert seen.body == b"payload"
    names = [name.lower() for name, _ in seen.headers]
    for hop in (
        "connection",
        "x-hop-named",
        "keep-alive",
        "proxy-connection",
        "proxy-authorization",
        "te",
        "trailer",
        "upgrade",
        "transfer-encoding",
        "expect",
    ):
        assert hop not in names
    assert names.count("host") == 1
    assert seen.header("host") == f"127.0.0.1:{backend.port}"
    assert seen.header("authorization") == "Bearer token"
    assert [v for k, v in seen.headers if k == "Cookie"] == ["a=1", "b=2"]
    assert seen.header("x-forwarded-for") == f"198.51.100.1, {CLIENT_IP}"
    assert seen.header("x-forwarded-proto") == "http"
    assert seen.header("x-forwarded-host") == "api.example.com"
    assert seen.header("content-type") == "text/plain"
    assert seen.header("content-length") == "7"
    assert ex.integration_latency_ms is not None
    assert ex.integration_latency_ms >= 0


async def test_proxy_returns_backend_response_minus_hop_by_hop(
    pool: UpstreamPool, backend: Backend
) -> None:
    integration = build_http_integration(*spec("/status/{code}", backend.port), pool)
    response = await integration.invoke(exchange(integration, path_parameters={"code": "418"}))
    assert response.status == 418
    names = {name.lower() for name, _ in passed_on(response)}
    assert {"content-type", "content-length", "x-backend"} <= names
    assert not names & {"connection", "keep-alive", "x-secret-hop"}
    assert orjson.loads(await read_body(response)) == {"target": "/status/418", "size": 0}
    ex = exchange(integration)
    response = await integration.invoke(ex)
    assert response.status == 200  # missing path value: empty, `/status/` is not a code
    assert backend.connections == 1
    assert ex.request.header("x-forwarded-for") is None  # the client's request is untouched


async def test_proxy_answers_head_with_the_backends_length(
    pool: UpstreamPool, backend: Backend
) -> None:
    integration = build_http_integration(*spec("/", backend.port), pool)
    response = await integration.invoke(exchange(integration, method="HEAD"))
    assert response.status == 200
    assert await read_body(response) == b""
    length = {k.lower(): v for k, v in response.headers}["content-length"]
    assert int(length) > 0  # the length of what a GET would have sent
    data, *_ = wire.encode_response(
        response, head_only=True, http10=False, keep_alive=True, server_line=b""
    )
    assert f"content-length: {length}\r\n".encode() in data.lower()


async def test_proxy_without_a_first_x_forwarded_for(pool: UpstreamPool, backend: Backend) -> None:
    integration = build_http_integration(*spec("/", backend.port), pool)
    await integration.invoke(exchange(integration, headers=[]))
    seen = backend.requests[0]
    assert seen.header("x-forwarded-for") == CLIENT_IP
    assert seen.header("x-forwarded-host") is None
    assert seen.header("host") == f"127.0.0.1:{backend.port}"


async def test_declared_http_method_overrides_the_clients(
    pool: UpstreamPool, backend: Backend
) -> None:
    integration = build_http_integration(*spec("/", backend.port, http_method="post"), pool)
    await integration.invoke(exchange(integration, method="GET"))
    assert backend.requests[0].method == "POST"


async def test_greedy_and_plain_placeholders_are_not_reescaped(
    pool: UpstreamPool, backend: Backend
) -> None:
    integration = build_http_integration(
        *spec(
            "/svc/{id}/files/{proxy+}?fixed=1",
            backend.port,
            request_parameters={"integration.request.path.id": "method.request.path.id"},
        ),
        pool,
    )
    ex = exchange(
        integration,
        query="x=%2F",
        path_parameters={"id": "a%2Bb", "proxy": "dir/sub%20dir/file.txt"},
    )
    await integration.invoke(ex)
    assert backend.requests[0].target == "/svc/a%2Bb/files/dir/sub%20dir/file.txt?fixed=1&x=%2F"


async def test_request_parameters_map_every_source(pool: UpstreamPool, backend: Backend) -> None:
    parameters = {
        "integration.request.header.X-From-Header": "method.request.header.x-in",
        "integration.request.header.X-From-Query": "method.request.querystring.q",
        "integration.request.header.X-From-Path": "method.request.path.id",
        "integration.request.header.X-Static": "'fixed value'",
        "integration.request.header.X-Request-Id": "context.requestId",
        "integration.request.header.X-Source-Ip": "context.identity.sourceIp",
        "integration.request.header.X-Stage": "context.stage",
        "integration.request.header.X-Principal": "context.authorizer.principalId",
        "integration.request.header.X-Admin": "context.authorizer.admin",
        "integration.request.header.X-Tier": "stageVariables.tier",
        "integration.request.header.X-Absent": "method.request.header.x-not-sent",
        "integration.request.header.Authorization": "'replaced'",
        "integration.request.querystring.user": "context.authorizer.principalId",
        "integration.request.querystring.q": "method.request.header.x-in",
        "integration.request.path.key": "method.request.header.x-key",
    }
    integration = build_http_integration(
        *spec("/items/{key}", backend.port, request_parameters=parameters), pool
    )
    ex = exchange(
        integration,
        query="q=hello%20world&keep=1",
        headers=[
            ("Host", "api.example.com"),
            ("X-In", "header value"),
            ("X-Key", "a/b c"),
            ("Authorization", "client's"),
        ],
        path_parameters={"id": "42"},
        authorizer={"principalId": "user 1", "admin": True},
    )
    await integration.invoke(ex)
    seen = backend.requests[0]
    assert seen.target == "/items/a%2Fb%20c?keep=1&user=user%201&q=header%20value"
    expected = {
        "x-from-header": "header value",
        "x-from-query": "hello world",
        "x-from-path": "42",
        "x-static": "fixed value",
        "x-request-id": "req-123",
        "x-source-ip": CLIENT_IP,
        "x-stage": "prod",
        "x-principal": "user 1",
        "x-admin": "true",
        "x-tier": "gold",
    }
    for name, value in expected.items():
        assert seen.header(name) == value, name
    assert seen.header("x-absent") is None
    assert [v for k, v in seen.headers if k.lower() == "authorization"] == ["replaced"]


async def test_mapped_values_cannot_inject_header_lines(
    pool: UpstreamPool, backend: Backend
) -> None:
    parameters = {"integration.request.header.X-Q": "method.request.querystring.q"}
    integration = build_http_integration(
        *spec("/", backend.port, request_parameters=parameters), pool
    )
    await integration.invoke(exchange(integration, query="q=a%0D%0AX-Evil:%201%C3%A9"))
    seen = backend.requests[0]
    assert seen.header("x-evil") is None
    assert seen.header("x-q") == "aX-Evil: 1\u00c3\u00a9"  # UTF-8 octets, one line


async def test_http_integration_forwards_only_mapped_parameters(
    pool: UpstreamPool, backend: Backend
) -> None:
    integration = build_http_integration(
        *spec(
            "/only",
            backend.port,
            type=IntegrationType.HTTP,
            request_parameters={
                "integration.request.header.X-Mapped": "method.request.header.x-in",
                "integration.request.querystring.m": "method.request.querystring.q",
            },
            responses=(IntegrationResponse(status_code=200),),
        ),
        pool,
    )
    ex = exchange(
        integration,
        method="POST",
        query="q=1&other=2",
        headers=[
            ("Host", "api.example.com"),
            ("X-In", "v"),
            ("X-Not-Mapped", "secret"),
            ("Content-Type", "application/json"),
        ],
        body=BytesBody(b'{"k":1}'),
    )
    response = await integration.invoke(ex)
    seen = backend.requests[0]
    assert seen.target == "/only?m=1"
    assert seen.header("x-mapped") == "v"
    assert seen.header("x-not-mapped") is None
    assert seen.header("content-type") == "application/json"
    assert seen.header("x-forwarded-for") == CLIENT_IP
    assert seen.body == b'{"k":1}'
    assert response.status == 200
    assert dict(response.headers) == {
        "Content-Type": "application/json",
        "Content-Length": str(len(await read_body(response))),
    }


def selecting_spec(port: int) -> tuple[IntegrationSpec, str]:
    return spec(
        "/status/{code}",
        port,
        type=IntegrationType.HTTP,
        responses=(
            IntegrationResponse(
                status_code=200,
                response_parameters={
                    "method.response.header.X-Seen": "integration.response.header.X-Backend",
                    "method.response.header.X-Static": "'static'",
                },
            ),
            IntegrationResponse(
                status_code=400,
                selection_pattern=r"4\d{2}",
                response_parameters={
                    "method.response.header.Content-Type": "'text/plain'",
                },
                response_templates={"application/json": '{"error":"bad request"}'},
            ),
            IntegrationResponse(status_code=502, selection_pattern="5.*"),
        ),
    )


@pytest.mark.parametrize(
    ("code", "status", "headers", "body"),
    [
        (
            "200",
            200,
            {"X-Seen": "yes", "X-Static": "static", "Content-Type": "application/json"},
            None,
        ),
        (
            "201",
            200,
            {"X-Seen": "yes", "X-Static": "static", "Content-Type": "application/json"},
            None,
        ),
        ("404", 400, {"Content-Type": "text/plain"}, b'{"error":"bad request"}'),
        ("503", 502, {"Content-Type": "application/json"}, None),
    ],
)
async def test_http_integration_selects_the_integration_response(
    pool: UpstreamPool,
    backend: Backend,
    code: str,
    status: int,
    headers: dict[str, str],
    body: bytes | None,
) -> None:
    integration = build_http_integration(*selecting_spec(backend.port), pool)
    response = await integration.invoke(exchange(integration, path_parameters={"code": code}))
    data = await read_body(response)
    assert response.status == status
    got = dict(response.headers)
    assert got.pop("Content-Length") == str(len(data))
    assert got == headers
    if body is None:
        assert orjson.loads(data)["target"] == f"/status/{code}"
    else:
        assert data == body


async def test_http_integration_without_match_or_default_fails(
    pool: UpstreamPool, backend: Backend
) -> None:
    integration = build_http_integration(
        *spec(
            "/status/{code}",
            backend.port,
            type=IntegrationType.HTTP,
            responses=(IntegrationResponse(status_code=200, selection_pattern="2\\d\\d"),),
        ),
        pool,
    )
    with pytest.raises(IntegrationMalformed, match="404"):
        await integration.invoke(exchange(integration, path_parameters={"code": "404"}))


async def test_streamed_bodies_pass_through_both_ways(pool: UpstreamPool, backend: Backend) -> None:
    backend.keep_bodies = False
    piece = b"s" * 65536

    class Upload:
        content_length: int | None = None

        async def read(self) -> bytes:
            raise AssertionError("the body must be streamed, not read whole")

        async def stream(self) -> AsyncIterator[bytes]:
            for _ in range(64):
                yield piece

    integration = build_http_integration(*spec("/{proxy}", backend.port), pool)
    ex = exchange(integration, method="PUT", body=Upload(), path_parameters={"proxy": "up"})
    response = await integration.invoke(ex)
    seen = backend.requests[0]
    assert seen.header("transfer-encoding") == "chunked"
    assert seen.body_size == 64 * len(piece)
    assert seen.body_sha == hashlib.sha256(piece * 64).hexdigest()
    await read_body(response)

    ex = exchange(integration, path_parameters={"proxy": "big"})
    response = await integration.invoke(ex)
    assert not isinstance(response.body, bytes)
    assert ("X-Big", "1") in passed_on(response)
    assert all(name.lower() != "transfer-encoding" for name, _ in passed_on(response))
    assert await read_body(response) == b"b" * 65536 * 64


async def test_timeout_is_the_integrations(pool: UpstreamPool, backend: Backend) -> None:
    integration = build_http_integration(*spec("/slow", backend.port, timeout_ms=150), pool)
    ex = exchange(integration)
    started = time.monotonic()
    with pytest.raises(IntegrationTimeout):
        await integration.invoke(ex)
    assert time.monotonic() - started < 1.0
    assert ex.integration_latency_ms is not None
    assert 100 <= ex.integration_latency_ms < 1000


async def test_backend_down_is_unreachable(pool: UpstreamPool) -> None:
    async with Backend(answer) as gone:
        port = gone.port
    integration = build_http_integration(*spec("/", port), pool)
    with pytest.raises(IntegrationUnreachable):
        await integration.invoke(exchange(integration))


def problems_of(spec_: IntegrationSpec, uri: str | None = None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        build_http_integration(spec_, uri if uri is not None else spec_.uri, UpstreamPool())
    return [p.message for p in caught.value.problems]


def test_invalid_definitions_are_config_errors() -> None:
    http = IntegrationType.HTTP
    proxy = IntegrationType.HTTP_PROXY
    ok = (IntegrationResponse(status_code=200),)
    cases: list[tuple[IntegrationSpec, str]] = [
        (IntegrationSpec(type=IntegrationType.MOCK, uri="http://h/"), "not an HTTP"),
        (IntegrationSpec(type=proxy, uri="ftp://h/"), "invalid uri"),
        (IntegrationSpec(type=proxy, uri="http://h/${stageVariables.x}"), "unresolved"),
        (IntegrationSpec(type=proxy, uri="http://{host}.example/"), "host"),
        (IntegrationSpec(type=proxy, uri="http://h/{a"), "unbalanced"),
        (IntegrationSpec(type=proxy, uri="http://h/", http_method="G T"), "httpMethod"),
        (IntegrationSpec(type=proxy, uri="http://h/", timeout_ms=0), "positive"),
        (
            IntegrationSpec(
                type=proxy,
                uri="http://h/",
                request_parameters={"integration.request.header.X": "method.request.body.x"},
            ),
            "unsupported mapping source",
        ),
        (
            IntegrationSpec(
                type=proxy,
                uri="http://h/",
                request_parameters={"integration.request.body.x": "'v'"},
            ),
            "unsupported mapping target",
        ),
        (
            IntegrationSpec(
                type=proxy,
                uri="http://h/",
                request_parameters={"integration.request.path.id": "method.request.path.id"},
            ),
            "no {id} placeholder",
        ),
        (
            IntegrationSpec(
                type=http,
                uri="http://h/",
                request_templates={"application/json": "{}"},
                responses=ok,
            ),
            "request templates are not supported yet",
        ),
        (IntegrationSpec(type=http, uri="http://h/"), "at least a default"),
        (
            IntegrationSpec(
                type=http,
                uri="http://h/",
                responses=(IntegrationResponse(status_code=200, selection_pattern="(["),),
            ),
            "selectionPattern",
        ),
        (
            IntegrationSpec(
                type=http,
                uri="http://h/",
                responses=(
                    IntegrationResponse(
                        status_code=200,
                        response_templates={"application/json": '{"a":"$input.body"}'},
                    ),
                ),
            ),
            "directives",
        ),
        (
            IntegrationSpec(
                type=http,
                uri="http://h/",
                responses=(
                    IntegrationResponse(
                        status_code=200,
                        response_parameters={
                            "method.response.header.X": "integration.response.body.x"
                        },
                    ),
                ),
            ),
            "unsupported response mapping source",
        ),
        (
            IntegrationSpec(type=http, uri="http://h/", passthrough_behavior="NEVER", responses=ok),
            "NEVER",
        ),
    ]
    for case, expected in cases:
        messages = problems_of(case)
        assert any(expected in m for m in messages), (case, messages)


def test_every_problem_is_reported_with_its_location() -> None:
    bad = IntegrationSpec(
        type=IntegrationType.HTTP,
        uri="http://h/",
        request_parameters={
            "integration.request.header.A": "nope",
            "integration.request.querystring.b": "context.unknown",
        },
        request_templates={"application/json": "{}"},
    )
    with pytest.raises(ConfigError) as caught:
        build_http_integration(bad, bad.uri, UpstreamPool(), location="api.yaml:#/paths/~1x/get")
    locations = [p.location for p in caught.value.problems]
    assert len(locations) == 4
    assert all(
        loc.startswith("api.yaml:#/paths/~1x/get/x-amazon-apigateway-integration/")
        for loc in locations
    )
    assert any(loc.endswith("/requestParameters/integration.request.header.A") for loc in locations)


def test_http_proxy_ignores_templates_and_responses() -> None:
    proxy = IntegrationSpec(
        type=IntegrationType.HTTP_PROXY,
        uri="http://h/",
        request_templates={"application/json": "#set($x = 1)"},
        responses=(IntegrationResponse(status_code=200, selection_pattern="(["),),
    )
    build_http_integration(proxy, proxy.uri, UpstreamPool())
