"""HTTP APIs' JWT authorizer, over real HTTP: an issuer on 127.0.0.1 serving OpenID discovery and
a JWKS, tokens made (and forged) with PyJWT, the gateway answering as AWS does; and the
attack battery, one test per attack."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
import yaml
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2
from cryptography.hazmat.primitives import serialization
from jwt.algorithms import HMACAlgorithm
from jwt.utils import base64url_encode

from authgate.app import Application
from authgate.http1.server import HttpServer
from authgate.identity.keys import SigningKey, generate_signing_key
from authgate.settings import load_settings
from tests.issuer_server import Issuer
from tests.support import LoopThread, RunningGateway, openapi, proxy_to

HANDLERS = Path(__file__).parent / "handlers"
AUDIENCE = "orders-api"


def jwt_scheme(issuer: str) -> dict[str, Any]:
    return {
        "type": "oauth2",
        "flows": {},
        "x-amazon-apigateway-authorizer": {
            "type": "jwt",
            "jwtConfiguration": {"issuer": issuer, "audience": [AUDIENCE, "other-api"]},
            "identitySource": "$request.header.Authorization",
        },
    }


def route(scopes: list[str], version: str = "2.0") -> dict[str, Any]:
    return {"security": [{"issuer": scopes}], **proxy_to("Echo", payloadFormatVersion=version)}


@pytest.fixture(scope="module")
def keys() -> tuple[SigningKey, SigningKey]:
    """The issuer's key, and a key it never published."""
    return generate_signing_key(), generate_signing_key()


@pytest.fixture(scope="module")
def stack(
    tmp_path_factory: pytest.TempPathFactory, keys: tuple[SigningKey, SigningKey]
) -> Iterator[tuple[str, Issuer]]:
    """One issuer and one gateway for the module (every test reads, none changes them)."""
    loop = LoopThread()
    issuer = Issuer(keys=[keys[0]])
    issuer_server = HttpServer(issuer)
    host, port = loop.run(issuer_server.start("127.0.0.1", 0))
    issuer.base = f"http://{host}:{port}"
    work = tmp_path_factory.mktemp("jwt")
    definition = openapi(
        {
            "/orders": {"get": route([])},
            "/orders/write": {"post": route(["orders/write", "orders/admin"])},
            "/v1/orders": {"get": route(["orders/read"], version="1.0")},
        },
        components={"securitySchemes": {"issuer": jwt_scheme(issuer.issuer)}},
        **{"x-amazon-apigateway-importexport-version": "1.0"},
    )
    (work / "http.yaml").write_text(yaml.safe_dump(definition))
    settings = {
        "data_dir": "data",
        "access_log": "access.log",
        "functions": {"Echo": {"handler": f"{HANDLERS / 'behaviours.py'}:echo_event"}},
        "apis": [{"id": "jwt01", "definition": "http.yaml", "stages": [{"name": "$default"}]}],
    }
    (work / "authgate.yaml").write_text(yaml.safe_dump(settings))
    gateway = RunningGateway(Application(load_settings(work / "authgate.yaml")), loop)
    yield gateway.url, issuer
    gateway.stop()
    loop.run(issuer_server.shutdown(1.0))
    loop.close()


@pytest.fixture(scope="module")
def base(stack: tuple[str, Issuer]) -> str:
    return stack[0]


@pytest.fixture(scope="module")
def issuer(stack: tuple[str, Issuer]) -> Issuer:
    return stack[1]


@pytest.fixture(scope="module")
def key(keys: tuple[SigningKey, SigningKey]) -> SigningKey:
    return keys[0]


def claims(issuer: Issuer, **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    values: dict[str, Any] = {
        "iss": issuer.issuer,
        "sub": "user-1",
        "aud": AUDIENCE,
        "scope": "orders/read orders/write",
        "iat": now,
        "exp": now + 300,
        "groups": ["admin", "users"],
        "email_verified": True,
    }
    values.update(changes)
    return {k: v for k, v in values.items() if v is not None}


def sign(key: SigningKey, payload: dict[str, Any], **header: Any) -> str:
    return jwt.encode(
        payload, key.private_key, algorithm="RS256", headers={"kid": key.kid, **header}
    )


def call(
    base: str, token: str | None, path: str = "/orders", method: str = "GET"
) -> httpx.Response:
    headers = [(b"host", b"jwt01.execute-api.localhost")]
    if token is not None:
        headers.append((b"authorization", f"Bearer {token}".encode("latin-1")))
    return httpx.request(method, f"{base}{path}", headers=headers)


def event_of(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    event: dict[str, Any] = json.loads(response.text)["event"]
    return event


def assert_unauthorized(response: httpx.Response, description: str | None = None) -> None:
    assert (response.status_code, response.json()) == (401, {"message": "Unauthorized"})
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith("Bearer")
    if description is not None:
        assert challenge == (
            f'Bearer scope="" error="invalid_token" error_description="{description}"'
        )


# -- what a valid token gets ------------------------------------------------------------------


def test_claims_reach_the_backend_as_strings_in_payload_2(
    base: str, issuer: Issuer, key: SigningKey
) -> None:
    payload = claims(issuer)
    event = event_of(call(base, sign(key, payload)))
    assert event["requestContext"]["authorizer"] == {
        "jwt": {
            "claims": {
                "iss": issuer.issuer,
                "sub": "user-1",
                "aud": AUDIENCE,
                "scope": "orders/read orders/write",
                "iat": str(payload["iat"]),
                "exp": str(payload["exp"]),
                "groups": "[admin users]",
                "email_verified": "true",
            },
            "scopes": None,
        }
    }
    parsed = APIGatewayProxyEventV2(event)
    assert parsed.request_context.authorizer.jwt_claim["sub"] == "user-1"


def test_a_scoped_route_passes_the_token_scopes_and_needs_one_of_its_own(
    base: str, issuer: Issuer, key: SigningKey
) -> None:
    token = sign(key, claims(issuer, scope="orders/write"))
    event = event_of(call(base, token, "/orders/write", "POST"))
    assert APIGatewayProxyEventV2(event).request_context.authorizer.jwt_scopes == ["orders/write"]


def test_payload_1_puts_claims_and_scopes_at_the_top(
    base: str, issuer: Issuer, key: SigningKey
) -> None:
    event = event_of(call(base, sign(key, claims(issuer)), "/v1/orders"))
    authorizer = event["requestContext"]["authorizer"]
    assert authorizer["claims"]["sub"] == "user-1"
    assert authorizer["scopes"] == ["orders/read", "orders/write"]


def test_client_id_stands_for_a_missing_aud(base: str, issuer: Issuer, key: SigningKey) -> None:
    token = sign(key, claims(issuer, aud=None, client_id="other-api"))
    assert call(base, token).status_code == 200
    wrong = sign(key, claims(issuer, aud=None, client_id="stranger"))
    assert_unauthorized(call(base, wrong), "the token does not have a valid audience")


def test_the_bare_token_works_without_the_bearer_prefix(
    base: str, issuer: Issuer, key: SigningKey
) -> None:
    headers = {"host": "jwt01.execute-api.localhost", "authorization": sign(key, claims(issuer))}
    assert httpx.get(f"{base}/orders", headers=headers).status_code == 200


def test_token_use_is_not_checked_because_a_jwt_authorizer_cannot_tell(
    base: str, issuer: Issuer, key: SigningKey
) -> None:
    """AWS: JWT authorizers cannot tell ID from access tokens; use scopes or audiences."""
    assert call(base, sign(key, claims(issuer, token_use="id"))).status_code == 200


# -- the attack battery -----------------------------------------------------------------------


def test_alg_none(base: str, issuer: Issuer) -> None:
    token = jwt.encode(claims(issuer), key="", algorithm="none")
    assert_unauthorized(call(base, token), "the token is invalid")


class _AnyKeyHMAC(HMACAlgorithm):
    """PyJWT refuses a PEM public key as an HMAC secret; an attacker's copy would not."""

    def prepare_key(self, key: str | bytes) -> bytes:
        return key.encode() if isinstance(key, str) else key


def test_hs256_signed_with_the_rsa_public_key(base: str, issuer: Issuer, key: SigningKey) -> None:
    public_pem = key.private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    forger = jwt.PyJWS()
    forger.unregister_algorithm("HS256")
    forger.register_algorithm("HS256", _AnyKeyHMAC(HMACAlgorithm.SHA256))
    payload = json.dumps(claims(issuer)).encode()
    token = forger.encode(payload, public_pem, algorithm="HS256", headers={"kid": key.kid})
    assert_unauthorized(call(base, token), "the token is invalid")


def test_unknown_kid_refetches_the_jwks_at_most_once_per_interval(
    base: str, issuer: Issuer, keys: tuple[SigningKey, SigningKey]
) -> None:
    own, stranger = keys
    assert call(base, sign(own, claims(issuer))).status_code == 200  # keys fetched by now
    before = issuer.jwks_hits
    for n in range(10):
        token = sign(stranger, claims(issuer, sub=f"u{n}"), kid=f"made-up-{n}")
        assert_unauthorized(call(base, token), "the token is invalid")
    assert issuer.jwks_hits - before <= 1


def test_expired(base: str, issuer: Issuer, key: SigningKey) -> None:
    now = int(time.time())
    token = sign(key, claims(issuer, iat=now - 600, exp=now - 60))
    assert_unauthorized(call(base, token), "the token has expired")


def test_not_yet_valid(base: str, issuer: Issuer, key: SigningKey) -> None:
    token = sign(key, claims(issuer, nbf=int(time.time()) + 600))
    assert_unauthorized(call(base, token), "the token is not valid yet")


def test_issued_in_the_future(base: str, issuer: Issuer, key: SigningKey) -> None:
    token = sign(key, claims(issuer, iat=int(time.time()) + 600))
    assert_unauthorized(call(base, token), "the token is not valid yet")


def test_wrong_issuer(base: str, issuer: Issuer, key: SigningKey) -> None:
    token = sign(key, claims(issuer, iss="https://issuer.example"))
    assert_unauthorized(call(base, token), "the token does not have a valid issuer")


def test_wrong_audience(base: str, issuer: Issuer, key: SigningKey) -> None:
    token = sign(key, claims(issuer, aud="someone-else"))
    assert_unauthorized(call(base, token), "the token does not have a valid audience")


def test_tampered_payload(base: str, issuer: Issuer, key: SigningKey) -> None:
    header, _, signature = sign(key, claims(issuer)).split(".")
    forged = base64url_encode(json.dumps(claims(issuer, sub="admin")).encode())
    token = f"{header}.{forged.decode()}.{signature}"
    assert_unauthorized(call(base, token), "the token is invalid")


def test_missing_token(base: str) -> None:
    response = call(base, None)
    assert (response.status_code, response.json()) == (401, {"message": "Unauthorized"})
    assert response.headers["www-authenticate"] == "Bearer"
    empty = httpx.get(
        f"{base}/orders", headers={"host": "jwt01.execute-api.localhost", "authorization": ""}
    )
    assert empty.status_code == 401


@pytest.mark.parametrize(
    "token",
    ["not-a-jwt", "a.b", "a.b.c.d", "eyJhbGciOiJSUzI1NiJ9.e30.", "....", "é.é.é"],
)
def test_malformed_token(base: str, token: str) -> None:
    assert_unauthorized(call(base, token), "the token is invalid")


def test_scope_missing(base: str, issuer: Issuer, key: SigningKey) -> None:
    token = sign(key, claims(issuer, scope="orders/read"))
    response = call(base, token, "/orders/write", "POST")
    assert (response.status_code, response.json()) == (403, {"message": "Forbidden"})
    assert response.headers["www-authenticate"] == (
        'Bearer scope="orders/write orders/admin" error="insufficient_scope" '
        'error_description="the token does not have the required scope"'
    )
    no_scope = sign(key, claims(issuer, scope=None))
    assert call(base, no_scope, "/orders/write", "POST").status_code == 403
