"""TestInvokeAuthorizer through boto3, and `authgate authorizers test` through the command line."""

from __future__ import annotations

import configparser
import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.e2e.test_cli_iam import clean_env, run_all
from tests.support import GatewayFactory, RunningGateway, lambda_uri, openapi, proxy_to

HANDLERS = Path(__file__).parent / "handlers"
ARN = "arn:aws:execute-api:us-east-1:123456789012:pt/prod"


def scheme(kind: str, function: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": "apiKey",
        "name": "Authorization",
        "in": "header",
        "x-amazon-apigateway-authorizer": {
            "type": kind,
            "authorizerUri": lambda_uri(function),
            **extra,
        },
    }


API = openapi(
    {
        "/pets/{id}": {"get": {**proxy_to("Echo"), "security": [{"pt": []}]}},
        "/tenant": {"get": {**proxy_to("Echo"), "security": [{"tenant": []}]}},
        "/open": {"get": proxy_to("Echo")},
    },
    components={
        "securitySchemes": {
            "pt": scheme("token", "PtToken"),
            "tenant": scheme(
                "request",
                "PtRequest",
                identitySource="method.request.header.X-Tenant, method.request.querystring.key",
            ),
        }
    },
)


@pytest.fixture
def running(gateway: GatewayFactory) -> RunningGateway:
    functions = {
        "Echo": {"handler": f"{HANDLERS}/behaviours.py:echo_event"},
        "PtToken": {"handler": f"{HANDLERS}/authorizer_powertools.py:token_handler"},
        "PtRequest": {"handler": f"{HANDLERS}/authorizer_powertools.py:request_handler"},
    }
    return gateway(
        {
            "functions": functions,
            "apis": [{"id": "pt", "definition": "api.json", "stages": [{"name": "prod"}]}],
        },
        {"api.json": json.dumps(API)},
    )


def data_dir(running: RunningGateway) -> Path:
    return running.app.settings.data_dir


def client(running: RunningGateway) -> Any:
    profile = configparser.ConfigParser()
    profile.read(data_dir(running) / "credentials")
    return boto3.client(
        "apigateway",
        endpoint_url=running.url,
        region_name="us-east-1",
        aws_access_key_id=profile["default"]["aws_access_key_id"],
        aws_secret_access_key=profile["default"]["aws_secret_access_key"],
        config=Config(retries={"total_max_attempts": 1}),
    )


def test_boto3_test_invoke_authorizer_reports_an_allowed_token(running: RunningGateway) -> None:
    reply = client(running).test_invoke_authorizer(
        restApiId="pt",
        authorizerId="pt",
        headers={"Authorization": "Bearer reader"},
        pathWithQueryString="/pets/7",
    )
    assert reply["clientStatus"] == 0
    assert reply["principalId"] == "user-reader"
    assert json.loads(reply["policy"])["Statement"][0]["Resource"] == [f"{ARN}/GET/pets/*"]
    assert reply["authorization"]["tenant"] == ["acme"]
    assert reply["latency"] >= 0
    log = reply["log"]
    assert f"Method ARN: {ARN}/GET/pets/7" in log
    assert '"authorizationToken": "Bearer reader"' in log
    assert '"principalId": "user-reader"' in log
    assert "Decision: Allow" in log


def test_boto3_test_invoke_reports_denials_and_requests_without_identity(
    running: RunningGateway,
) -> None:
    apigw = client(running)
    denied = apigw.test_invoke_authorizer(
        restApiId="pt", authorizerId="pt", headers={"Authorization": "Bearer stranger"}
    )
    assert denied["clientStatus"] == 403
    assert "Decision: Deny" in denied["log"]
    missing = apigw.test_invoke_authorizer(restApiId="pt", authorizerId="tenant")
    assert missing["clientStatus"] == 401
    assert "Function not called: identity source absent or empty" in missing["log"]
    request = apigw.test_invoke_authorizer(
        restApiId="pt",
        authorizerId="tenant",
        headers={"X-Tenant": "acme"},
        pathWithQueryString="/tenant?key=acme-key",
    )
    assert (request["clientStatus"], request["principalId"]) == (0, "tenant-acme")
    assert '"queryStringParameters": {\n    "key": "acme-key"\n  }' in request["log"]
    with pytest.raises(ClientError) as caught:
        apigw.test_invoke_authorizer(restApiId="pt", authorizerId="nope")
    assert caught.value.response["Error"]["Code"] == "NotFoundException"


def test_cli_prints_event_answer_decision_and_latency(running: RunningGateway) -> None:
    target = ["--endpoint-url", running.url, "--data-dir", str(data_dir(running))]
    command = ["authorizers", "test", "pt"]
    allowed, denied = run_all(
        [
            [*command, "--token", "Bearer allow", *target],
            [*command, "--token", "Bearer who", "--path", "/pets/1", *target],
        ],
        env=clean_env(),
    )
    assert allowed.returncode == 0, allowed.stderr
    out = allowed.stdout
    assert "Event sent:" in out
    assert '"type": "TOKEN"' in out
    assert "Function answer:" in out
    assert "Decision: Allow" in out
    assert "Latency: " in out
    assert denied.returncode == 1
    assert "Decision: Deny" in denied.stdout
