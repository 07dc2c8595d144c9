"""The shared-secret JWT authorizer (`x-authgate-jwt`, an authgate extension) on a REST and an
HTTP API, over real HTTP, with tokens signed and forged by PyJWT."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
import yaml
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

from authgate.app import Application
from authgate.identity.keys import generate_signing_key
from authgate.settings import load_settings
from tests.support import LoopThread, RunningGateway, openapi, proxy_to

HANDLERS = Path(__file__).parent / "handlers"
SECRET = "orders-service-signing-secret-0123456789"
ISSUER = "https://orders.example.com"
AUDIENCE = "orders-api"
REST = "/restapis/rest01/prod/_user_request_"
HTTP = "/restapis/http01/$default/_user_request_"


def scheme(**extra: Any) -> dict[str, Any]:
    settings = {"issuer": ISSUER, "audience": [AUDIENCE], "secret": {"env": "ORDERS_SECRET"}}
    return {"type": "http", "scheme": "bearer", "x-authgate-jwt": {**settings, **extra}}


def definition(*, http: bool) -> dict[str, Any]:
    echo = proxy_to("Echo", payloadFormatVersion="2.0") if http else proxy_to("Echo")
    top: dict[str, Any] = {"components": {"securitySchemes": {"orders": scheme()}}}
    if http:
        top["x-amazon-apigateway-importexport-version"] = "1.0"
    return openapi(
        {
            "/orders": {"get": {"security": [{"orders": []}], **echo}},
            "/orders/admin": {"get": {"security": [{"orders": ["orders/admin"]}], **echo}},
        },
        **top,
    )


def write(work: Path, settings: dict[str, Any], files: dict[str, Any]) -> Path:
    for name, content in files.items():
        (work / name).write_text(yaml.safe_dump(content))
    config = work / "authgate.yaml"
    config.write_text(yaml.safe_dump({"data_dir": "data", "access_log": "access.log", **settings}))
    return config


FUNCTIONS = {"Echo": {"handler": f"{HANDLERS / 'behaviours.py'}:echo_event"}}
REST_API = {"id": "rest01", "definition": "rest.yaml", "stages": [{"name": "prod"}]}
HTTP_API = {"id": "http01", "definition": "http.yaml", "stages": [{"name": "$default"}]}
SETTINGS = {"functions": FUNCTIONS, "apis": [REST_API, HTTP_API]}


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    work = tmp_path_factory.mktemp("hs256")
    files = {"rest.yaml": definition(http=False), "http.yaml": definition(http=True)}
    config = write(work, SETTINGS, files)
    loop = LoopThread()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ORDERS_SECRET", SECRET)
        gateway = RunningGateway(Application(load_settings(config)), loop)
    yield gateway.url
    gateway.stop()
    loop.close()


def claims(**changes: Any) -> dict[str, Any]:
    now = int(time.time())
    values = {"iss": ISSUER, "aud": AUDIENCE, "sub": "svc-7", "iat": now, "exp": now + 300}
    values.update(changes)
    return {k: v for k, v in values.items() if v is not None}


def hs256(payload: dict[str, Any], secret: str = SECRET) -> str:
    return jwt.encode(payload, secret, algorithm="HS256")


def get(base: str, path: str, token: str | None) -> httpx.Response:
    headers = {} if token is None else {"authorization": f"Bearer {token}"}
    return httpx.get(f"{base}{path}", headers=headers)


def test_a_rest_method_gets_the_claims_as_a_user_pool_authorizer_passes_them(base: str) -> None:
    payload = claims(scope="orders/read", roles=["a", "b"])
    response = get(base, f"{REST}/orders", hs256(payload))
    assert response.status_code == 200, response.text
    event = APIGatewayProxyEvent(json.loads(response.text)["event"])
    assert event.request_context.authorizer.claims == {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "svc-7",
        "scope": "orders/read",
        "roles": "a,b",
        "iat": time.strftime("%a %b %d %H:%M:%S UTC %Y", time.gmtime(payload["iat"])),
        "exp": time.strftime("%a %b %d %H:%M:%S UTC %Y", time.gmtime(payload["exp"])),
    }


def test_an_http_route_gets_them_as_a_jwt_authorizer_passes_them(base: str) -> None:
    response = get(base, f"{HTTP}/orders/admin", hs256(claims(scope="orders/admin x")))
    assert response.status_code == 200, response.text
    authorizer = json.loads(response.text)["event"]["requestContext"]["authorizer"]
    assert authorizer["jwt"]["claims"]["sub"] == "svc-7"
    assert authorizer["jwt"]["scopes"] == ["orders/admin", "x"]


@pytest.mark.parametrize(
    ("case", "token"),
    [
        ("alg none", jwt.encode(claims(), "", algorithm="none")),
        ("wrong secret", hs256(claims(), "another-secret-of-the-right-length-0123456789")),
        ("expired", hs256(claims(exp=int(time.time()) - 60))),
        ("not yet valid", hs256(claims(nbf=int(time.time()) + 600))),
        ("wrong issuer", hs256(claims(iss="https://else.example"))),
        ("wrong audience", hs256(claims(aud="else"))),
        ("malformed", "abc.def"),
        ("RS256 on an HMAC route", "RS256"),
    ],
)
def test_bad_tokens_are_401_on_both_apis(base: str, case: str, token: str) -> None:
    if token == "RS256":
        key = generate_signing_key()
        token = jwt.encode(claims(), key.private_key, algorithm="RS256")
    rest, http = get(base, f"{REST}/orders", token), get(base, f"{HTTP}/orders", token)
    assert (rest.status_code, rest.json()) == (401, {"message": "Unauthorized"}), case
    assert rest.headers["x-amzn-ErrorType"] == "UnauthorizedException"
    assert (http.status_code, http.json()) == (401, {"message": "Unauthorized"}), case
    assert http.headers["www-authenticate"].startswith('Bearer scope="" error="invalid_token"')


def test_tampered_payload(base: str) -> None:
    header, _, signature = hs256(claims()).split(".")
    forged = jwt.utils.base64url_encode(json.dumps(claims(sub="root")).encode()).decode()
    assert get(base, f"{REST}/orders", f"{header}.{forged}.{signature}").status_code == 401


def test_missing_token_and_missing_scope(base: str) -> None:
    assert get(base, f"{REST}/orders", None).status_code == 401
    assert get(base, f"{HTTP}/orders", None).status_code == 401
    token = hs256(claims(scope="orders/read"))
    rest = get(base, f"{REST}/orders/admin", token)
    assert (rest.status_code, rest.json()) == (401, {"message": "Unauthorized"})
    http = get(base, f"{HTTP}/orders/admin", token)
    assert (http.status_code, http.json()) == (403, {"message": "Forbidden"})


def test_a_missing_or_short_secret_fails_validation_naming_the_variable(tmp_path: Path) -> None:
    settings = {"functions": FUNCTIONS, "apis": [REST_API]}
    config = write(tmp_path, settings, {"rest.yaml": definition(http=False)})
    environ = {k: v for k, v in os.environ.items() if k != "ORDERS_SECRET"}

    def validate(**extra: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "authgate", "validate", str(config)]
        return subprocess.run(
            command, env={**environ, **extra}, capture_output=True, text=True, timeout=60
        )

    missing = validate()
    assert missing.returncode != 0
    assert "the environment variable ORDERS_SECRET is not set" in missing.stderr + missing.stdout
    short = validate(ORDERS_SECRET="tiny-s3cret")
    assert short.returncode != 0
    output = short.stderr + short.stdout
    assert "the secret in ORDERS_SECRET is shorter than 32 bytes" in output
    assert "tiny-s3cret" not in output
    assert validate(ORDERS_SECRET=SECRET).returncode == 0
