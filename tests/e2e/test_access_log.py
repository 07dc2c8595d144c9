"""The access log: one JSON line per request in AWS's vocabulary, and never a credential."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from tests.support import GatewayFactory, openapi, wait_for

CLF = "$context.requestId $context.httpMethod $context.path $context.status "
CLF += "$context.responseLength"
MOCK = {
    "x-amazon-apigateway-integration": {
        "type": "mock",
        "requestTemplates": {"application/json": '{"statusCode": 200}'},
        "responses": {
            "default": {"statusCode": "200", "responseTemplates": {"application/json": "{}"}}
        },
    }
}


def test_json_lines_with_context_fields_and_no_credentials(
    gateway: GatewayFactory, tmp_path: Path
) -> None:
    running = gateway(
        {
            "apis": [
                {"id": "log01", "definition": "api.yaml", "stages": [{"name": "prod"}]},
                {
                    "id": "log02",
                    "definition": "api.yaml",
                    "stages": [
                        {
                            "name": "clf",
                            "access_log_format": CLF,
                        }
                    ],
                },
            ]
        },
        {"api.yaml": openapi({"/items/{id}": {"get": MOCK}})},
    )
    secrets = {
        "authorization": "Bearer s3cr3t-token",
        "x-api-key": "key-s3cr3t-value",
        "cookie": "session=s3cr3t-cookie",
    }
    ok = httpx.get(f"{running.url}/restapis/log01/prod/_user_request_/items/9", headers=secrets)
    missing = httpx.get(f"{running.url}/restapis/log01/prod/_user_request_/nope")
    clf = httpx.get(f"{running.url}/restapis/log02/clf/_user_request_/items/1")
    log = tmp_path / "access.log"
    assert wait_for(lambda: log.exists() and len(log.read_text().splitlines()) >= 3)
    lines = log.read_text().splitlines()
    assert "s3cr3t" not in log.read_text()
    records = [json.loads(line) for line in lines if line.startswith("{")]
    first = next(r for r in records if r["requestId"] == ok.headers["x-amzn-requestid"])
    assert first["httpMethod"] == "GET"
    assert first["resourcePath"] == "/items/{id}"
    assert first["path"] == "/prod/items/9"
    assert first["status"] == 200
    assert first["protocol"] == "HTTP/1.1"
    assert first["ip"] == "127.0.0.1"
    assert first["responseLength"] == 2
    assert first["apiId"] == "log01"
    assert isinstance(first["responseLatency"], int | float)
    assert first["requestTime"].endswith("+0000")
    second = next(r for r in records if r["requestId"] == missing.headers["x-amzn-requestid"])
    assert second["status"] == 403
    assert second["errorType"] == "MISSING_AUTHENTICATION_TOKEN"
    assert f"{clf.headers['x-amzn-requestid']} GET /clf/items/1 200 2" in lines
