"""COGNITO_USER_POOLS methods over real HTTP: a seeded pool, users signed in with boto3
`cognito-idp`, the backend reading the claims with powertools; revocation on the next request;
and the attack battery, one test per attack, with tokens forged by PyJWT (some with the pool's
own keys, to reach the checks behind the signature)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent
from cryptography.hazmat.primitives import serialization
from jwt.algorithms import HMACAlgorithm
from jwt.utils import base64url_encode

from authgate.identity.keys import SigningKey, TokenUse, generate_signing_key
from tests.e2e.userpools import PoolsGateway, start_pools_gateway
from tests.support import LoopThread, openapi, proxy_to

HANDLERS = Path(__file__).parent / "handlers"
POOL = "us-east-1_Battery1"
OTHER_POOL = "us-east-1_Battery2"
CLIENT = "batteryapp0000000000000001"
OTHER_CLIENT = "batteryother00000000000002"
ADMIN_SCOPE = "aws.cognito.signin.user.admin"
ALICE = "alice@example.com"


def pool_arn(pool: str) -> str:
    return f"arn:aws:cognito-idp:us-east-1:123456789012:userpool/{pool}"


def scheme(**extra: Any) -> dict[str, Any]:
    return {
        "type": "apiKey",
        "name": "Authorization",
        "in": "header",
        "x-amazon-apigateway-authtype": "cognito_user_pools",
        "x-amazon-apigateway-authorizer": {
            "type": "cognito_user_pools",
            "providerARNs": [pool_arn(POOL)],
            **extra,
        },
    }


def method(authorizer: str, scopes: list[str]) -> dict[str, Any]:
    return {"security": [{authorizer: scopes}], **proxy_to("Echo")}


DEFINITION = openapi(
    {
        "/profile": {"get": method("pool", [])},
        "/account": {"get": method("pool", [ADMIN_SCOPE])},
        "/orders": {"get": method("pool", ["orders/read"])},
        "/app-only": {"get": method("app_only", [])},
    },
    components={
        "securitySchemes": {
            "pool": scheme(),
            "app_only": scheme(identityValidationExpression=CLIENT),
        }
    },
)

FLOWS = {"ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]}
SETTINGS = {
    "functions": {"Echo": {"handler": f"{HANDLERS / 'behaviours.py'}:echo_event"}},
    "apis": [{"id": "cog01", "definition": "api.json", "stages": [{"name": "prod"}]}],
    "user_pools": [
        {
            "id": POOL,
            "name": "battery",
            "settings": {"UsernameAttributes": ["email"], "AutoVerifiedAttributes": ["email"]},
            "clients": [
                {"id": CLIENT, "name": "app", "settings": FLOWS},
                {"id": OTHER_CLIENT, "name": "other", "settings": FLOWS},
            ],
        },
        {"id": OTHER_POOL, "name": "elsewhere"},
    ],
}


@pytest.fixture(scope="module")
def pools(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PoolsGateway]:
    work = tmp_path_factory.mktemp("cognito")
    (work / "api.json").write_text(json.dumps(DEFINITION))
    loop = LoopThread()
    setup, running = start_pools_gateway(work, loop, SETTINGS)
    setup.confirmed_user(POOL, CLIENT, ALICE)
    yield setup
    running.stop()
    loop.close()


@pytest.fixture(scope="module")
def tokens(pools: PoolsGateway) -> dict[str, str]:
    result: dict[str, str] = pools.sign_in(CLIENT, ALICE)["AuthenticationResult"]
    return result


def signer(pools: PoolsGateway, pool: str, use: TokenUse) -> SigningKey:
    key: SigningKey = pools.run(pools.gateway.app.user_pools.keys.signer(pool, use))
    return key


def get(pools: PoolsGateway, path: str, token: str | None) -> httpx.Response:
    headers = [] if token is None else [(b"authorization", token.encode("latin-1"))]
    return httpx.get(f"{pools.url}/restapis/cog01/prod/_user_request_{path}", headers=headers)


def assert_unauthorized(response: httpx.Response) -> None:
    assert (response.status_code, response.json()) == (401, {"message": "Unauthorized"})
    assert response.headers["x-amzn-ErrorType"] == "UnauthorizedException"


def id_claims(pools: PoolsGateway, tokens: dict[str, str], **changes: Any) -> dict[str, Any]:
    """The claims of the user's real ID token, changed: what a forger would start from."""
    claims: dict[str, Any] = jwt.decode(tokens["IdToken"], options={"verify_signature": False})
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def forge(key: SigningKey, claims: dict[str, Any], **header: Any) -> str:
    return jwt.encode(
        claims, key.private_key, algorithm="RS256", headers={"kid": key.kid, **header}
    )


# -- what the user's tokens get ---------------------------------------------------------------


def test_the_id_token_opens_a_method_without_scopes_and_its_claims_reach_the_backend(
    pools: PoolsGateway, tokens: dict[str, str]
) -> None:
    response = get(pools, "/profile", tokens["IdToken"])
    assert response.status_code == 200, response.text
    event = APIGatewayProxyEvent(json.loads(response.text)["event"])
    claims = event.request_context.authorizer.claims
    assert claims is not None
    assert claims["email"] == ALICE
    assert claims["email_verified"] == "true"
    assert claims["token_use"] == "id"
    assert claims["aud"] == CLIENT
    assert claims["iss"] == f"{pools.url}/{POOL}"
    decoded = jwt.decode(tokens["IdToken"], options={"verify_signature": False})
    assert claims["auth_time"] == str(decoded["auth_time"])
    expected = time.strftime("%a %b %d %H:%M:%S UTC %Y", time.gmtime(decoded["exp"]))
    assert claims["exp"] == expected
    assert all(isinstance(value, str) for value in claims.values())


def test_the_bearer_prefix_is_accepted(pools: PoolsGateway, tokens: dict[str, str]) -> None:
    assert get(pools, "/profile", f"Bearer {tokens['IdToken']}").status_code == 200


def test_a_method_with_scopes_takes_the_access_token(
    pools: PoolsGateway, tokens: dict[str, str]
) -> None:
    response = get(pools, "/account", tokens["AccessToken"])
    assert response.status_code == 200, response.text
    claims = json.loads(response.text)["event"]["requestContext"]["authorizer"]["claims"]
    assert (claims["token_use"], claims["scope"]) == ("access", ADMIN_SCOPE)


def test_the_validation_expression_admits_the_named_app_client_only(
    pools: PoolsGateway, tokens: dict[str, str]
) -> None:
    assert get(pools, "/app-only", tokens["IdToken"]).status_code == 200
    pools.confirmed_user(POOL, OTHER_CLIENT, "bob@example.com")
    other = pools.sign_in(OTHER_CLIENT, "bob@example.com")["AuthenticationResult"]
    assert get(pools, "/profile", other["IdToken"]).status_code == 200
    assert_unauthorized(get(pools, "/app-only", other["IdToken"]))


# -- the attack battery -----------------------------------------------------------------------


def test_alg_none(pools: PoolsGateway, tokens: dict[str, str]) -> None:
    token = jwt.encode(id_claims(pools, tokens), "", algorithm="none")
    assert_unauthorized(get(pools, "/profile", token))


class _AnyKeyHMAC(HMACAlgorithm):
    """PyJWT refuses a PEM public key as an HMAC secret; an attacker's copy would not."""

    def prepare_key(self, key: str | bytes) -> bytes:
        return key.encode() if isinstance(key, str) else key


def test_hs256_signed_with_the_pools_public_key(
    pools: PoolsGateway, tokens: dict[str, str]
) -> None:
    key = signer(pools, POOL, TokenUse.ID)
    public_pem = key.private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    forger = jwt.PyJWS()
    forger.unregister_algorithm("HS256")
    forger.register_algorithm("HS256", _AnyKeyHMAC(HMACAlgorithm.SHA256))
    payload = json.dumps(id_claims(pools, tokens)).encode()
    token = forger.encode(payload, public_pem, algorithm="HS256", headers={"kid": key.kid})
    assert_unauthorized(get(pools, "/profile", token))


def test_unknown_kid(pools: PoolsGateway, tokens: dict[str, str]) -> None:
    stranger = generate_signing_key()
    assert_unauthorized(get(pools, "/profile", forge(stranger, id_claims(pools, tokens))))
    own = signer(pools, POOL, TokenUse.ID)
    made_up = forge(own, id_claims(pools, tokens), kid="not-a-kid-of-this-pool")
    assert_unauthorized(get(pools, "/profile", made_up))


def test_expired(pools: PoolsGateway, tokens: dict[str, str]) -> None:
    now = int(pools.clock.now())
    claims = id_claims(pools, tokens, iat=now - 7200, exp=now - 60)
    assert_unauthorized(get(pools, "/profile", forge(signer(pools, POOL, TokenUse.ID), claims)))


def test_not_yet_valid(pools: PoolsGateway, tokens: dict[str, str]) -> None:
    now = int(pools.clock.now())
    key = signer(pools, POOL, TokenUse.ID)
    assert_unauthorized(get(pools, "/profile", forge(key, id_claims(pools, tokens, nbf=now + 600))))
    assert_unauthorized(get(pools, "/profile", forge(key, id_claims(pools, tokens, iat=now + 600))))


def test_wrong_issuer(pools: PoolsGateway, tokens: dict[str, str]) -> None:
    key = signer(pools, POOL, TokenUse.ID)
    for issuer in (
        f"{pools.url}/{OTHER_POOL}",
        f"https://cognito-idp.us-east-1.amazonaws.com/{POOL}",
    ):
        assert_unauthorized(
            get(pools, "/profile", forge(key, id_claims(pools, tokens, iss=issuer)))
        )


def test_a_token_of_a_pool_the_method_does_not_list(
    pools: PoolsGateway, tokens: dict[str, str]
) -> None:
    other = signer(pools, OTHER_POOL, TokenUse.ID)
    claims = id_claims(pools, tokens, iss=f"{pools.url}/{OTHER_POOL}")
    assert_unauthorized(get(pools, "/profile", forge(other, claims)))


def test_wrong_audience(pools: PoolsGateway, tokens: dict[str, str]) -> None:
    key = signer(pools, POOL, TokenUse.ID)
    assert_unauthorized(get(pools, "/app-only", forge(key, id_claims(pools, tokens, aud="x"))))


def test_wrong_token_use(pools: PoolsGateway, tokens: dict[str, str]) -> None:
    assert_unauthorized(get(pools, "/profile", tokens["AccessToken"]))
    assert_unauthorized(get(pools, "/account", tokens["IdToken"]))
    # An ID token relabelled as an access token, signed with the pool's own ID key.
    relabelled = id_claims(pools, tokens, token_use="access", scope=ADMIN_SCOPE)
    key = signer(pools, POOL, TokenUse.ID)
    assert_unauthorized(get(pools, "/profile", forge(key, relabelled)))


def test_tampered_payload(pools: PoolsGateway, tokens: dict[str, str]) -> None:
    header, _, signature = tokens["IdToken"].split(".")
    changed = id_claims(pools, tokens, email="admin@example.com")
    payload = base64url_encode(json.dumps(changed).encode()).decode()
    assert_unauthorized(get(pools, "/profile", f"{header}.{payload}.{signature}"))


def test_missing_token(pools: PoolsGateway) -> None:
    assert_unauthorized(get(pools, "/profile", None))
    assert_unauthorized(get(pools, "/profile", ""))
    assert_unauthorized(get(pools, "/profile", "Bearer"))


@pytest.mark.parametrize("token", ["garbage", "a.b", "a.b.c", "x" * 9000, "eyJ9.e30.e30"])
def test_malformed_token(pools: PoolsGateway, token: str) -> None:
    assert_unauthorized(get(pools, "/profile", token))


def test_scope_missing(pools: PoolsGateway, tokens: dict[str, str]) -> None:
    assert_unauthorized(get(pools, "/orders", tokens["AccessToken"]))


# -- revocation takes effect on the next request ----------------------------------------------


def user_tokens(pools: PoolsGateway, email: str) -> dict[str, str]:
    pools.confirmed_user(POOL, CLIENT, email)
    result: dict[str, str] = pools.sign_in(CLIENT, email)["AuthenticationResult"]
    assert get(pools, "/profile", result["IdToken"]).status_code == 200  # cached from here on
    return result


def test_global_sign_out(pools: PoolsGateway) -> None:
    signed_in = user_tokens(pools, "carol@example.com")
    pools.public.global_sign_out(AccessToken=signed_in["AccessToken"])
    assert_unauthorized(get(pools, "/profile", signed_in["IdToken"]))
    assert_unauthorized(get(pools, "/account", signed_in["AccessToken"]))


def test_revoke_token(pools: PoolsGateway) -> None:
    signed_in = user_tokens(pools, "dave@example.com")
    pools.public.revoke_token(Token=signed_in["RefreshToken"], ClientId=CLIENT)
    assert_unauthorized(get(pools, "/profile", signed_in["IdToken"]))


def test_disabled_user(pools: PoolsGateway) -> None:
    signed_in = user_tokens(pools, "erin@example.com")
    pools.admin.admin_disable_user(UserPoolId=POOL, Username="erin@example.com")
    assert_unauthorized(get(pools, "/profile", signed_in["IdToken"]))


def test_other_users_keep_their_access_after_a_revocation(
    pools: PoolsGateway, tokens: dict[str, str]
) -> None:
    signed_in = user_tokens(pools, "frank@example.com")
    pools.public.global_sign_out(AccessToken=signed_in["AccessToken"])
    assert get(pools, "/profile", tokens["IdToken"]).status_code == 200
