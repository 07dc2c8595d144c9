"""COGNITO_USER_POOLS methods compiled from a definition, their authenticate step run on requests
carrying tokens of in-process pools: which token each method takes, scopes, the validation
expression, several pools, pools that appear later, and revocation."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from authgate.app import NoCredentials, method_steps
from authgate.authorizers.sigv4 import CredentialCache, SigV4Authenticator
from authgate.clock import ManualClock
from authgate.definition.compile import compile_stage
from authgate.definition.model import Stage
from authgate.definition.openapi import parse_definition
from authgate.definition.routes import StageRoutes
from authgate.gateway.exchange import Exchange
from authgate.gateway.responses import Rejection, ResponseType
from authgate.gateway.steps.authenticate import AuthenticateStep
from authgate.http1.message import EmptyBody, Request
from authgate.identity.keys import SigningKey, generate_signing_key
from authgate.identity.tokens import SignIn, access_token, id_token
from authgate.integrations.mock import build_mock_integration

BASE = "http://127.0.0.1:8080"
NOW = 1_700_000_000.0
CLIENT = "client0123456789abcdefghij"
POOL_A, POOL_B = "us-east-1_PoolAaaaa", "us-east-1_PoolBbbbb"


def arn(pool: str) -> str:
    return f"arn:aws:cognito-idp:us-east-1:123456789012:userpool/{pool}"


@dataclass
class Pools:
    """The user pools as a gateway process holds them: keys, issuers, revocations."""

    keys: dict[str, dict[str, rsa.RSAPublicKey]] = field(default_factory=dict)
    generation: int = 0
    revoked: set[str] = field(default_factory=set)
    """Subjects and sessions (origin_jti) that no longer stand."""

    def issuer(self, pool_id: str) -> str:
        return f"{BASE}/{pool_id}"

    def verification_keys(self, pool_id: str) -> dict[str, rsa.RSAPublicKey]:
        return self.keys.get(pool_id, {})

    async def is_active(
        self, pool_id: str, sub: str, origin_jti: str | None, issued_at: float
    ) -> bool:
        return sub not in self.revoked and origin_jti not in self.revoked

    def publish(self, pool_id: str, key: SigningKey) -> None:
        self.keys.setdefault(pool_id, {})[key.kid] = key.private_key.public_key()

    def revoke(self, what: str) -> None:
        self.revoked.add(what)
        self.generation += 1


@pytest.fixture(scope="module")
def key_a() -> SigningKey:
    return generate_signing_key()


@pytest.fixture(scope="module")
def key_b() -> SigningKey:
    return generate_signing_key()


@pytest.fixture
def pools(key_a: SigningKey) -> Pools:
    found = Pools()
    found.publish(POOL_A, key_a)
    return found


def sign_in(pool: str = POOL_A, sub: str = "user-1", session: str = "session-1") -> SignIn:
    return SignIn(f"{BASE}/{pool}", CLIENT, sub, sub, int(NOW) - 10, origin_jti=session)


def id_of(key: SigningKey, who: SignIn | None = None) -> str:
    attributes = {"email": "ada@example.com", "email_verified": "true"}
    return id_token(key, who or sign_in(), now=NOW, lifetime=3600, attributes=attributes)


def access_of(key: SigningKey, scopes: tuple[str, ...] = ("orders/read",)) -> str:
    return access_token(key, sign_in(), now=NOW, lifetime=3600, scopes=scopes)


def compile_api(pools: Pools, **authorizer: Any) -> StageRoutes:
    integration = {"x-amazon-apigateway-integration": {"type": "mock"}}
    scheme = {
        "type": "apiKey",
        "name": "Authorization",
        "in": "header",
        "x-amazon-apigateway-authtype": "cognito_user_pools",
        "x-amazon-apigateway-authorizer": {
            "type": "cognito_user_pools",
            "providerARNs": [arn(POOL_A), arn(POOL_B)],
            **authorizer,
        },
    }
    document = {
        "openapi": "3.0.1",
        "info": {"title": "t", "version": "1"},
        "paths": {
            "/profile": {"get": {"security": [{"pool": []}], **integration}},
            "/orders": {"get": {"security": [{"pool": ["orders/read"]}], **integration}},
        },
        "components": {"securitySchemes": {"pool": scheme}},
    }
    clock = ManualClock(NOW)
    steps = method_steps(
        SigV4Authenticator(CredentialCache(NoCredentials()), clock, region="us-east-1"),
        functions={},
        clock=clock,
        user_pools=pools,
    )
    return compile_stage(
        parse_definition(document, api_id="a1", source="api.yaml"),
        Stage("prod"),
        account_id="123456789012",
        region="us-east-1",
        deployment_id="d1",
        make_integration=lambda spec, uri, stage, where: build_mock_integration(spec, where),
        make_steps=steps,
        source="api.yaml",
    )


async def call(routes: StageRoutes, path: str, authorization: str | None) -> Exchange | Rejection:
    """Run the method's authenticate step: the Exchange when it passed, else its Rejection."""
    match = routes.match("GET", path)
    assert match is not None
    headers = [("Host", "x")] + ([("Authorization", authorization)] if authorization else [])
    request = Request("GET", path, "", headers, EmptyBody(), ("127.0.0.1", 1), ("127.0.0.1", 2))
    exchange = Exchange(request, "r", "e", "t", NOW, 0.0, "127.0.0.1")
    exchange.stage, exchange.method, exchange.path = routes.plan, match.method, path
    (step,) = (s for s in match.method.steps if isinstance(s, AuthenticateStep))
    rejection = await step(exchange)
    return exchange if rejection is None else rejection


def unauthorized(result: Exchange | Rejection) -> bool:
    return isinstance(result, Rejection) and result.type is ResponseType.UNAUTHORIZED


async def test_a_method_without_scopes_takes_the_id_token_and_passes_its_claims(
    pools: Pools, key_a: SigningKey
) -> None:
    routes = compile_api(pools)
    passed = await call(routes, "/profile", f"Bearer {id_of(key_a)}")
    assert isinstance(passed, Exchange)
    assert passed.principal is not None
    assert passed.principal.subject == "user-1"
    claims = (passed.authorizer_context or {})["claims"]
    assert isinstance(claims, dict)
    assert claims["email_verified"] == "true"
    assert claims["token_use"] == "id"
    assert claims["exp"] == "Tue Nov 14 23:13:20 UTC 2023"
    assert claims["aud"] == CLIENT
    assert unauthorized(await call(routes, "/profile", access_of(key_a)))


async def test_a_method_with_scopes_takes_an_access_token_holding_one(
    pools: Pools, key_a: SigningKey
) -> None:
    routes = compile_api(pools)
    passed = await call(routes, "/orders", access_of(key_a, ("orders/read", "other")))
    assert isinstance(passed, Exchange)
    assert unauthorized(await call(routes, "/orders", id_of(key_a)))
    assert unauthorized(await call(routes, "/orders", access_of(key_a, ("orders/write",))))


async def test_the_validation_expression_must_match_the_whole_audience(
    pools: Pools, key_a: SigningKey
) -> None:
    assert isinstance(
        await call(
            compile_api(pools, identityValidationExpression="client[0-9a-z]+"),
            "/profile",
            id_of(key_a),
        ),
        Exchange,
    )
    partial = compile_api(pools, identityValidationExpression="client")
    assert unauthorized(await call(partial, "/profile", id_of(key_a)))


async def test_tokens_of_every_listed_pool_and_of_a_pool_created_later(
    pools: Pools, key_a: SigningKey, key_b: SigningKey
) -> None:
    routes = compile_api(pools)
    theirs = id_of(key_b, sign_in(POOL_B, "user-b"))
    assert unauthorized(await call(routes, "/profile", theirs))  # pool B has no keys yet
    pools.publish(POOL_B, key_b)
    assert isinstance(await call(routes, "/profile", theirs), Exchange)
    # Pool B's key does not sign for pool A.
    assert unauthorized(await call(routes, "/profile", id_of(key_b, sign_in(POOL_A))))


async def test_revocation_refuses_a_cached_token_on_the_next_request(
    pools: Pools, key_a: SigningKey
) -> None:
    routes = compile_api(pools)
    token = id_of(key_a)
    assert isinstance(await call(routes, "/profile", token), Exchange)
    assert isinstance(await call(routes, "/profile", token), Exchange)
    pools.revoke("session-1")
    assert unauthorized(await call(routes, "/profile", token))


async def test_missing_or_empty_header(pools: Pools) -> None:
    routes = compile_api(pools)
    assert unauthorized(await call(routes, "/profile", None))
    assert unauthorized(await call(routes, "/profile", "Bearer "))
