"""The authorization code flow over real HTTP: /oauth2/authorize, the hosted sign-in page,
/oauth2/token (PKCE, client secrets, refresh), /oauth2/userInfo, /oauth2/revoke and /logout,
with tokens checked by PyJWT against the discovery document's JWKS."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import jwt
import pytest

from tests.e2e.oauth import CALLBACK, LOGOUT, FormClient, OAuthPool, query_of
from tests.e2e.userpools import PASSWORD, PoolsGateway, pools

__all__ = ["pools"]


@pytest.fixture
def setup(pools: PoolsGateway) -> OAuthPool:
    made = OAuthPool.make(pools)
    pools.confirmed_user(made.pool_id, made.public, "ada@example.com")
    return made


@pytest.fixture
def browser(pools: PoolsGateway) -> Iterator[FormClient]:
    client = FormClient(pools.url)
    yield client
    client.close()


def at_hash(access_token: str) -> str:
    """OIDC Core §3.1.3.6, computed with PyJWT's own RS256 hash."""
    digest = jwt.get_algorithm_by_name("RS256").compute_hash_digest(access_token.encode())
    return base64.urlsafe_b64encode(digest[: len(digest) // 2]).rstrip(b"=").decode()


def verified(pools: PoolsGateway, pool_id: str, token: str, **options: object) -> dict[str, object]:
    issuer = f"{pools.url}/{pool_id}"
    keys = jwt.PyJWKClient(f"{issuer}/.well-known/jwks.json")
    key = keys.get_signing_key_from_jwt(token)
    decoded: dict[str, object] = jwt.decode(
        token, key, algorithms=["RS256"], issuer=issuer, **options
    )
    return decoded


def test_code_flow_with_pkce_from_sign_in_to_refresh_and_revocation(
    pools: PoolsGateway, setup: OAuthPool, browser: FormClient
) -> None:
    query = setup.authorize_query(scope="openid email orders/read")
    location = browser.sign_in(query, "ada@example.com", PASSWORD)
    assert location.startswith(CALLBACK + "?")
    returned = query_of(location)
    assert returned["state"] == query["state"]
    exchange = {
        "grant_type": "authorization_code",
        "client_id": setup.public,
        "code": returned["code"],
        "redirect_uri": CALLBACK,
        "code_verifier": query["_verifier"],
    }
    answer = browser.token(exchange)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/json;charset=UTF-8"
    assert answer.headers["cache-control"] == "no-store"
    tokens = answer.json()
    assert set(tokens) == {"access_token", "id_token", "refresh_token", "token_type", "expires_in"}
    assert tokens["token_type"] == "Bearer"
    assert tokens["expires_in"] == 3600

    id_claims = verified(pools, setup.pool_id, tokens["id_token"], audience=setup.public)
    access = verified(pools, setup.pool_id, tokens["access_token"])
    assert id_claims["nonce"] == query["nonce"]
    assert id_claims["email"] == "ada@example.com"
    assert id_claims["token_use"] == "id"
    assert id_claims["at_hash"] == at_hash(tokens["access_token"])
    assert access["scope"] == "openid email orders/read"
    assert access["version"] == 2
    assert access["client_id"] == setup.public
    assert access["origin_jti"] == id_claims["origin_jti"]

    again = browser.token(exchange)  # a code is good once
    assert (again.status_code, again.json()["error"]) == (400, "invalid_grant")

    info = browser.http.get(
        "/oauth2/userInfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert info.status_code == 200
    assert info.json() == {
        "sub": id_claims["sub"],
        "email": "ada@example.com",
        "email_verified": "true",
        "username": id_claims["cognito:username"],
    }

    refreshed = browser.token(
        {
            "grant_type": "refresh_token",
            "client_id": setup.public,
            "refresh_token": tokens["refresh_token"],
        }
    )
    assert refreshed.status_code == 200, refreshed.text
    renewed = refreshed.json()
    assert "refresh_token" not in renewed
    renewed_access = verified(pools, setup.pool_id, renewed["access_token"])
    assert renewed_access["scope"] == "openid email orders/read"
    assert renewed_access["origin_jti"] == access["origin_jti"]

    revoked = browser.http.post(
        "/oauth2/revoke", data={"token": tokens["refresh_token"], "client_id": setup.public}
    )
    assert (revoked.status_code, revoked.content) == (200, b"")
    after = browser.token(
        {
            "grant_type": "refresh_token",
            "client_id": setup.public,
            "refresh_token": tokens["refresh_token"],
        }
    )
    assert (after.status_code, after.json()["error"]) == (400, "invalid_grant")
    gone = browser.http.get(
        "/oauth2/userInfo", headers={"Authorization": f"Bearer {renewed['access_token']}"}
    )
    assert gone.status_code == 401
    assert 'error="invalid_token"' in gone.headers["www-authenticate"]


def test_a_confidential_client_authenticates_by_basic_or_in_the_body(
    pools: PoolsGateway, setup: OAuthPool, browser: FormClient
) -> None:
    for how in ("basic", "body"):
        query = setup.authorize_query(setup.confidential)
        code = query_of(browser.sign_in(query, "ada@example.com", PASSWORD))["code"]
        exchange = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": CALLBACK,
            "code_verifier": query["_verifier"],
        }
        if how == "basic":
            answer = browser.token(exchange, auth=(setup.confidential, setup.confidential_secret))
        else:
            exchange.update(client_id=setup.confidential, client_secret=setup.confidential_secret)
            answer = browser.token(exchange)
        assert answer.status_code == 200, (how, answer.text)

    query = setup.authorize_query(setup.confidential)
    code = query_of(browser.sign_in(query, "ada@example.com", PASSWORD))["code"]
    exchange = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": CALLBACK,
        "code_verifier": query["_verifier"],
    }
    wrong = browser.token(exchange, auth=(setup.confidential, "not-the-secret"))
    assert (wrong.status_code, wrong.json()["error"]) == (401, "invalid_client")
    assert wrong.headers["www-authenticate"].startswith("Basic")
    missing = browser.token({**exchange, "client_id": setup.confidential})
    assert (missing.status_code, missing.json()["error"]) == (400, "invalid_client")
    both = browser.token(
        {**exchange, "client_secret": setup.confidential_secret},
        auth=(setup.confidential, setup.confidential_secret),
    )
    assert (both.status_code, both.json()["error"]) == (400, "invalid_request")


def test_a_standing_session_signs_in_again_without_a_form_until_logout(
    pools: PoolsGateway, setup: OAuthPool, browser: FormClient
) -> None:
    browser.sign_in(setup.authorize_query(), "ada@example.com", PASSWORD)
    again = browser.get("/oauth2/authorize", **setup.authorize_query(setup.confidential))
    assert again.status_code == 302
    assert again.headers["location"].startswith(CALLBACK + "?code=")

    out = browser.get("/logout", client_id=setup.public, logout_uri=LOGOUT)
    assert (out.status_code, out.headers["location"]) == (302, LOGOUT)
    assert "authgate-session=;" in out.headers["set-cookie"]
    after = browser.get("/oauth2/authorize", **setup.authorize_query())
    assert after.headers["location"].startswith("/login?")

    relogin = browser.get(
        "/logout", client_id=setup.confidential, redirect_uri=CALLBACK, response_type="code"
    )
    assert relogin.status_code == 302
    assert relogin.headers["location"].startswith("/login?")
    for bad in ({"logout_uri": "https://evil.example.com/"}, {}):
        refused = browser.get("/logout", client_id=setup.public, **bad)
        assert refused.status_code == 400
        assert "location" not in refused.headers


def test_global_sign_out_ends_the_hosted_session_and_unspent_codes(
    pools: PoolsGateway, setup: OAuthPool, browser: FormClient
) -> None:
    query = setup.authorize_query()
    code = query_of(browser.sign_in(query, "ada@example.com", PASSWORD))["code"]
    native = pools.sign_in(setup.public, "ada@example.com")  # needs ALLOW_USER_PASSWORD_AUTH
    pools.clock.advance(2)
    pools.public.global_sign_out(AccessToken=native["AuthenticationResult"]["AccessToken"])
    refused = browser.token(
        {
            "grant_type": "authorization_code",
            "client_id": setup.public,
            "code": code,
            "redirect_uri": CALLBACK,
            "code_verifier": query["_verifier"],
        }
    )
    assert (refused.status_code, refused.json()["error"]) == (400, "invalid_grant")
    again = browser.get("/oauth2/authorize", **setup.authorize_query())
    assert again.headers["location"].startswith("/login?")


def test_implicit_flow_puts_the_tokens_in_the_fragment(pools: PoolsGateway) -> None:
    pool_id = pools.pool()
    client_id = pools.app_client(
        pool_id,
        AllowedOAuthFlowsUserPoolClient=True,
        AllowedOAuthFlows=["implicit"],
        AllowedOAuthScopes=["openid", "email"],
        CallbackURLs=[CALLBACK],
    )["ClientId"]
    pools.confirmed_user(pool_id, client_id, "eve@example.com")
    browser = FormClient(pools.url)
    try:
        query = {
            "client_id": client_id,
            "redirect_uri": CALLBACK,
            "response_type": "token",
            "state": "s1",
        }
        location = browser.sign_in(query, "eve@example.com", PASSWORD)
    finally:
        browser.close()
    assert location.startswith(CALLBACK + "#")
    fragment = dict(part.split("=", 1) for part in location.split("#", 1)[1].split("&"))
    assert set(fragment) == {"access_token", "id_token", "token_type", "expires_in", "state"}
    assert fragment["state"] == "s1"
    assert verified(pools, pool_id, fragment["id_token"], audience=client_id)["email"] == (
        "eve@example.com"
    )
