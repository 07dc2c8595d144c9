"""HTTP backends behind the gateway: what arrives there, streaming, and failures."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from authgate.http1.message import Handler, Request, Response
from tests.support import GatewayFactory, free_port, http_proxy, openapi


class Recorder:
    """A backend that remembers what it received and answers with a digest of the body."""

    def __init__(self) -> None:
        self.seen: list[dict[str, Any]] = []

    async def __call__(self, request: Request) -> Response:
        digest = hashlib.sha256()
        size = 0
        async for chunk in request.body.stream():
            digest.update(chunk)
            size += len(chunk)
        self.seen.append(
            {
                "method": request.method,
                "path": request.path,
                "query": request.query,
                "headers": request.headers,
                "size": size,
            }
        )
        if request.path.startswith("/big"):
            return Response(200, [("content-type", "application/octet-stream")], _chunks())
        return Response(
            200,
            [("content-type", "text/plain"), ("x-backend", "yes")],
            digest.hexdigest().encode(),
        )


async def _chunks() -> AsyncIterator[bytes]:
    for _ in range(64):
        yield b"x" * 65_536
        await asyncio.sleep(0)


async def slow(request: Request) -> Response:
    await asyncio.sleep(2)
    return Response(200, [], b"late")


@pytest.fixture
def setup(gateway: GatewayFactory, backend: Callable[[Handler], str]) -> tuple[str, Recorder]:
    recorder = Recorder()
    base = backend(recorder)
    slow_base = backend(slow)
    dead = f"http://127.0.0.1:{free_port()}"
    paths = {
        "/svc/{proxy+}": {
            "x-amazon-apigateway-any-method": http_proxy(
                "${stageVariables.backend}/{proxy}",
                httpMethod="ANY",
                requestParameters={"integration.request.path.proxy": "method.request.path.proxy"},
            )
        },
        "/slow": {"get": http_proxy(f"{slow_base}/slow", timeoutInMillis=300)},
        "/dead": {"get": http_proxy(f"{dead}/x")},
    }
    running = gateway(
        {
            "apis": [
                {
                    "id": "web01",
                    "definition": "api.yaml",
                    "stages": [{"name": "prod", "variables": {"backend": base}}],
                }
            ]
        },
        {"api.yaml": openapi(paths)},
    )
    return running.url, recorder


def test_backend_receives_method_path_query_headers_and_body(
    setup: tuple[str, Recorder],
) -> None:
    url, recorder = setup
    body = b"a" * 300_000
    r = httpx.post(
        f"{url}/prod/svc/a/b%20c?x=1&x=2",
        content=body,
        headers={"x-custom": "v", "connection": "keep-alive", "x-forwarded-for": "10.9.9.9"},
    )
    assert r.status_code == 200
    assert r.text == hashlib.sha256(body).hexdigest()
    assert r.headers["x-backend"] == "yes"
    assert r.headers["x-amzn-requestid"]
    seen = recorder.seen[-1]
    assert seen["method"] == "POST"
    assert seen["path"] == "/a/b%20c"
    assert seen["query"] == "x=1&x=2"
    assert seen["size"] == len(body)
    headers = {k.lower(): v for k, v in seen["headers"]}
    assert headers["x-custom"] == "v"
    assert headers["x-forwarded-for"] == "10.9.9.9, 127.0.0.1"
    assert headers["x-forwarded-proto"] == "http"


def test_chunked_request_body_is_streamed_through(setup: tuple[str, Recorder]) -> None:
    url, recorder = setup

    def gen() -> Any:
        for _ in range(20):
            yield b"y" * 10_000

    r = httpx.put(f"{url}/prod/svc/upload", content=gen())
    assert r.status_code == 200
    assert r.text == hashlib.sha256(b"y" * 200_000).hexdigest()
    assert recorder.seen[-1]["size"] == 200_000


def test_large_response_is_streamed(setup: tuple[str, Recorder]) -> None:
    url, _ = setup
    with httpx.stream("GET", f"{url}/prod/svc/big") as r:
        total = sum(len(chunk) for chunk in r.iter_bytes())
    assert r.status_code == 200
    assert total == 64 * 65_536


def test_backend_timeout_is_504(setup: tuple[str, Recorder]) -> None:
    url, _ = setup
    r = httpx.get(f"{url}/prod/slow", timeout=5)
    assert r.status_code == 504
    assert r.json() == {"message": "Endpoint request timed out"}


def test_backend_down_is_aws_integration_failure(setup: tuple[str, Recorder]) -> None:
    url, _ = setup
    r = httpx.get(f"{url}/prod/dead", timeout=5)
    assert r.status_code == 504
    assert r.json() == {"message": "Internal server error"}
    assert r.headers["x-amzn-errortype"] == "InternalServerErrorException"
