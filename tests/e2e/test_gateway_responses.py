"""The gateway's own answers: unknown routes and methods, oversized bodies, customisations."""

from __future__ import annotations

import base64
import hashlib
import socket
from pathlib import Path

import httpx
import pytest

from tests.support import GatewayFactory, free_port, http_proxy, openapi, proxy_to

ERROR_TEMPLATE = '{"error": $context.error.messageString, "type": "$context.error.responseType"}'
MOCK = {
    "x-amazon-apigateway-integration": {
        "type": "mock",
        "requestTemplates": {"application/json": '{"statusCode": 200}'},
        "responses": {
            "default": {
                "statusCode": "200",
                "responseTemplates": {
                    "application/json": '{"ok": true, "id": "$context.requestId"}'
                },
            }
        },
    }
}


@pytest.fixture
def url(gateway: GatewayFactory) -> str:
    api = openapi(
        {
            "/things": {"get": MOCK},
            "/dead": {"get": http_proxy(f"http://127.0.0.1:{free_port()}/")},
        },
        **{
            "x-amazon-apigateway-gateway-responses": {
                "DEFAULT_5XX": {
                    "statusCode": 502,
                    "responseParameters": {
                        "gatewayresponse.header.Access-Control-Allow-Origin": "'*'",
                    },
                },
                "MISSING_AUTHENTICATION_TOKEN": {
                    "statusCode": 404,
                    "responseParameters": {
                        "gatewayresponse.header.x-stage": "stageVariables.tier",
                        "gatewayresponse.header.x-asked": "method.request.header.x-ask",
                    },
                    "responseTemplates": {"application/json": ERROR_TEMPLATE},
                },
            }
        },
    )
    plain = openapi({"/ok": {"get": MOCK}, "/upload": {"post": proxy_to("Echo")}})
    handler = Path(__file__).parent / "handlers" / "behaviours.py"
    running = gateway(
        {
            "functions": {"Echo": {"handler": f"{handler}:echo_event"}},
            "apis": [
                {
                    "id": "custom01",
                    "definition": "custom.yaml",
                    "stages": [{"name": "prod", "variables": {"tier": "gold"}}],
                },
                {"id": "plain01", "definition": "plain.yaml", "stages": [{"name": "prod"}]},
            ],
        },
        {"custom.yaml": api, "plain.yaml": plain},
    )
    return running.url


def test_mock_integration_answers(url: str) -> None:
    r = httpx.get(f"{url}/restapis/plain01/prod/_user_request_/ok")
    assert r.status_code == 200
    assert r.json() == {"ok": True, "id": r.headers["x-amzn-requestid"]}


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/nothing"), ("DELETE", "/ok"), ("GET", "/ok/extra"), ("GET", "")],
)
def test_unknown_route_or_method_is_missing_authentication_token(
    url: str, method: str, path: str
) -> None:
    r = httpx.request(method, f"{url}/restapis/plain01/prod/_user_request_{path}")
    assert r.status_code == 403
    assert r.json() == {"message": "Missing Authentication Token"}
    assert r.headers["x-amzn-errortype"] == "MissingAuthenticationTokenException"
    assert r.headers["content-type"] == "application/json"
    assert r.headers["x-amzn-requestid"]


def test_unknown_api_or_stage(url: str) -> None:
    for path in (
        "/restapis/nope/prod/_user_request_/ok",
        "/restapis/plain01/dev/_user_request_/ok",
        "/prod/ok",
    ):
        r = httpx.get(f"{url}{path}")
        assert r.status_code == 403, path
        assert r.json() == {"message": "Missing Authentication Token"}


def test_non_sigv4_authorization_on_unknown_route_gets_aws_hint(url: str) -> None:
    token = "Bearer abc.def"
    r = httpx.get(
        f"{url}/restapis/plain01/prod/_user_request_/nothing", headers={"authorization": token}
    )
    digest = base64.b64encode(hashlib.sha256(token.encode()).digest()).decode()
    assert r.status_code == 403
    assert r.json() == {
        "message": "Invalid key=value pair (missing equal-sign) in Authorization "
        f"header (hashed with SHA-256 and encoded with Base64): '{digest}'."
    }


def test_customised_gateway_responses(url: str) -> None:
    r = httpx.get(f"{url}/restapis/custom01/prod/_user_request_/missing", headers={"x-ask": "q"})
    assert r.status_code == 404
    assert r.json() == {
        "error": "Missing Authentication Token",
        "type": "MISSING_AUTHENTICATION_TOKEN",
    }
    assert r.headers["x-stage"] == "gold"
    assert r.headers["x-asked"] == "q"
    assert "access-control-allow-origin" not in r.headers  # the type's own entry wins whole
    dead = httpx.get(f"{url}/restapis/custom01/prod/_user_request_/dead")
    assert dead.status_code == 502  # DEFAULT_5XX applies to INTEGRATION_FAILURE
    assert dead.headers["access-control-allow-origin"] == "*"
    assert dead.json() == {"message": "Internal server error"}
    metrics = httpx.get(f"{url}/metrics").text
    assert 'authgate_integration_errors_total{api="custom01",kind="unreachable"} 1.0' in metrics


def test_body_over_10_mb_is_413(url: str) -> None:
    declared = 10_485_761
    with socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1])), timeout=5) as s:
        s.sendall(
            b"POST /restapis/plain01/prod/_user_request_/ok HTTP/1.1\r\nHost: x\r\n"
            + f"Content-Length: {declared}\r\n\r\n".encode()
        )
        data = b""
        while b"\r\n\r\n" not in data or not data.endswith(b"bytes."):
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    assert data.startswith(b"HTTP/1.1 413")
    assert data.endswith(b"HTTP content length exceeded 10485760 bytes.")


def test_chunked_body_over_10_mb_is_413(url: str) -> None:
    def gen():  # type: ignore[no-untyped-def]
        for _ in range(11):
            yield b"z" * 1_048_576

    r = httpx.post(f"{url}/restapis/plain01/prod/_user_request_/upload", content=gen(), timeout=10)
    assert r.status_code == 413
    assert r.text == "HTTP content length exceeded 10485760 bytes."


def test_healthz_and_metrics(url: str) -> None:
    assert httpx.get(f"{url}/healthz").json() == {"status": "ok"}
    httpx.get(f"{url}/restapis/plain01/prod/_user_request_/ok")
    metrics = httpx.get(f"{url}/metrics").text
    assert 'authgate_requests_total{api="plain01",stage="prod",status="2xx"}' in metrics
    assert "authgate_request_duration_seconds_bucket" in metrics
