"""Every refusal of the OAuth endpoints over real HTTP, with RFC 6749's error codes: what the
authorization endpoint shows or redirects, what the token, userInfo and revocation endpoints
answer, and the client_credentials grant with resource-server scopes."""

from __future__ import annotations

from collections.abc import Iterator

import jwt
import pytest
from botocore.exceptions import ClientError

from tests.e2e.oauth import CALLBACK, FormClient, OAuthPool, query_of
from tests.e2e.userpools import PASSWORD, PoolsGateway, pools

__all__ = ["pools"]


@pytest.fixture
def setup(pools: PoolsGateway) -> OAuthPool:
    made = OAuthPool.make(pools)
    pools.confirmed_user(made.pool_id, made.public, "bo@example.com")
    return made


@pytest.fixture
def http(pools: PoolsGateway) -> Iterator[FormClient]:
    client = FormClient(pools.url)
    yield client
    client.close()


def test_requests_that_cannot_be_redirected_get_an_error_page(
    setup: OAuthPool, http: FormClient
) -> None:
    good = setup.authorize_query()
    cases = [
        {**good, "client_id": "no-such-client"},
        {k: v for k, v in good.items() if k != "client_id"},
        {**good, "redirect_uri": "https://evil.example.com/cb"},
        {**good, "redirect_uri": CALLBACK + "/"},  # exact match only
        {k: v for k, v in good.items() if k != "redirect_uri"},
    ]
    for query in cases:
        answer = http.get("/oauth2/authorize", **query)
        assert answer.status_code == 400, query
        assert "location" not in answer.headers
        assert answer.headers["content-type"] == "text/html; charset=utf-8"
        assert 'role="alert"' in answer.text
    duplicated = http.http.get("/oauth2/authorize?client_id=a&client_id=b&redirect_uri=" + CALLBACK)
    assert duplicated.status_code == 400
    login = http.get("/login", **{**good, "redirect_uri": "https://evil.example.com/cb"})
    assert login.status_code == 400


def test_other_authorization_errors_go_back_to_the_callback_with_the_state(
    pools: PoolsGateway, setup: OAuthPool, http: FormClient
) -> None:
    good = setup.authorize_query()
    cases = {
        "invalid_request": [
            {**good, "response_type": ""},
            {k: v for k, v in good.items() if not k.startswith("code_challenge")},  # public
            {**good, "code_challenge_method": "plain"},
            {k: v for k, v in good.items() if k != "code_challenge_method"},
            {k: v for k, v in good.items() if k != "code_challenge"},
            {**good, "code_challenge": "too-short"},
            {**good, "identity_provider": "Nobody"},
        ],
        "unsupported_response_type": [{**good, "response_type": "id_token"}],
        "unauthorized_client": [{**good, "response_type": "token"}],
        "invalid_scope": [{**good, "scope": "openid orders/write"}, {**good, "scope": "phone"}],
    }
    for error, queries in cases.items():
        for query in queries:
            answer = http.get("/oauth2/authorize", **query)
            assert answer.status_code == 302, (error, query)
            returned = query_of(answer.headers["location"])
            assert answer.headers["location"].startswith(CALLBACK + "?")
            assert (returned["error"], returned["state"]) == (error, good["state"]), query
    no_oauth = pools.app_client(setup.pool_id, CallbackURLs=[CALLBACK])["ClientId"]
    answer = http.get("/oauth2/authorize", **{**good, "client_id": no_oauth})
    assert query_of(answer.headers["location"])["error"] == "unauthorized_client"
    # a confidential client may leave PKCE out; its code then takes no verifier
    plain = {k: v for k, v in good.items() if not k.startswith("code_challenge")}
    code = query_of(
        http.sign_in({**plain, "client_id": setup.confidential}, "bo@example.com", PASSWORD)
    )["code"]
    answer = http.token(
        {"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK},
        auth=(setup.confidential, setup.confidential_secret),
    )
    assert answer.status_code == 200, answer.text


def exchange_of(setup: OAuthPool, http: FormClient) -> tuple[dict[str, str], str]:
    query = setup.authorize_query()
    code = query_of(http.sign_in(query, "bo@example.com", PASSWORD))["code"]
    return (
        {
            "grant_type": "authorization_code",
            "client_id": setup.public,
            "code": code,
            "redirect_uri": CALLBACK,
            "code_verifier": query["_verifier"],
        },
        query["_verifier"],
    )


def test_token_endpoint_errors(pools: PoolsGateway, setup: OAuthPool, http: FormClient) -> None:
    exchange, verifier = exchange_of(setup, http)

    def refused(data: dict[str, str], status: int, error: str) -> None:
        answer = http.token(data)
        assert (answer.status_code, answer.json()["error"]) == (status, error), data
        assert answer.headers["cache-control"] == "no-store"

    refused({k: v for k, v in exchange.items() if k != "grant_type"}, 400, "invalid_request")
    refused({**exchange, "grant_type": "password"}, 400, "unsupported_grant_type")
    refused({**exchange, "client_id": "nobody"}, 400, "invalid_client")
    refused({**exchange, "client_secret": "a secret it does not have"}, 400, "invalid_client")
    refused({k: v for k, v in exchange.items() if k != "code"}, 400, "invalid_request")
    # each refusal below spends the code, as RFC 6749 §4.1.2 allows: take a new one each time
    refused({**exchange, "redirect_uri": CALLBACK + "?x=1"}, 400, "invalid_grant")
    exchange, _ = exchange_of(setup, http)
    refused({**exchange, "code_verifier": verifier}, 400, "invalid_grant")  # another's verifier
    exchange, _ = exchange_of(setup, http)
    refused({k: v for k, v in exchange.items() if k != "code_verifier"}, 400, "invalid_grant")
    exchange, _ = exchange_of(setup, http)
    answer = http.token(
        {**{k: v for k, v in exchange.items() if k != "client_id"}},
        auth=(setup.confidential, setup.confidential_secret),
    )
    assert (answer.status_code, answer.json()["error"]) == (400, "invalid_grant")  # not its code
    exchange, _ = exchange_of(setup, http)
    pools.clock.advance(301)  # codes live five minutes
    refused(exchange, 400, "invalid_grant")
    refused({"grant_type": "refresh_token", "client_id": setup.public}, 400, "invalid_request")
    refused(
        {"grant_type": "refresh_token", "client_id": setup.public, "refresh_token": "nope"},
        400,
        "invalid_grant",
    )
    refused(
        {"grant_type": "client_credentials", "client_id": setup.public}, 400, "unauthorized_client"
    )
    wrong_type = http.http.post(
        "/oauth2/token", content=b'{"grant_type":"x"}', headers={"content-type": "application/json"}
    )
    assert (wrong_type.status_code, wrong_type.json()["error"]) == (400, "invalid_request")
    assert http.http.get("/oauth2/token").status_code == 405


def test_client_credentials_grant_with_resource_server_scopes(
    pools: PoolsGateway, setup: OAuthPool, http: FormClient
) -> None:
    auth = (setup.machine, setup.machine_secret)
    answer = http.token({"grant_type": "client_credentials"}, auth=auth)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert set(body) == {"access_token", "token_type", "expires_in"}
    issuer = f"{pools.url}/{setup.pool_id}"
    key = jwt.PyJWKClient(f"{issuer}/.well-known/jwks.json").get_signing_key_from_jwt(
        body["access_token"]
    )
    claims = jwt.decode(body["access_token"], key, algorithms=["RS256"], issuer=issuer)
    assert claims["sub"] == claims["client_id"] == setup.machine
    assert claims["scope"] == "orders/read orders/write"
    assert claims["token_use"] == "access"
    assert "username" not in claims
    narrowed = http.token({"grant_type": "client_credentials", "scope": "orders/write"}, auth=auth)
    assert (
        jwt.decode(narrowed.json()["access_token"], options={"verify_signature": False})["scope"]
        == "orders/write"
    )
    for scope in ("orders/delete", "openid"):
        refused = http.token({"grant_type": "client_credentials", "scope": scope}, auth=auth)
        assert (refused.status_code, refused.json()["error"]) == (400, "invalid_scope")
    code_grant = http.token({"grant_type": "authorization_code", "code": "x"}, auth=auth)
    assert code_grant.json()["error"] == "unauthorized_client"


def test_client_settings_are_checked_when_written(pools: PoolsGateway, setup: OAuthPool) -> None:
    bad = [
        {"CallbackURLs": ["http://app.example.com/cb"]},  # http only for loopback
        {"CallbackURLs": ["https://app.example.com/cb#frag"]},
        {"CallbackURLs": ["/relative"]},
        {"AllowedOAuthFlowsUserPoolClient": True, "AllowedOAuthFlows": ["code"]},
        {
            "AllowedOAuthFlowsUserPoolClient": True,
            "AllowedOAuthFlows": ["code", "client_credentials"],
            "AllowedOAuthScopes": ["orders/read"],
            "CallbackURLs": [CALLBACK],
        },
        {
            "AllowedOAuthFlowsUserPoolClient": True,
            "AllowedOAuthFlows": ["client_credentials"],
            "AllowedOAuthScopes": ["orders/read"],
        },  # no secret
        {"AllowedOAuthScopes": ["orders/delete"]},
        {"SupportedIdentityProviders": ["Nobody"]},
        {"CallbackURLs": [CALLBACK], "DefaultRedirectURI": "https://other.example.com/cb"},
    ]
    for settings in bad:
        with pytest.raises(ClientError) as raised:
            pools.app_client(setup.pool_id, **settings)
        assert raised.value.response["Error"]["Code"] in (
            "InvalidParameterException",
            "ScopeDoesNotExistException",
        ), settings
    pools.app_client(setup.pool_id, CallbackURLs=["myapp://cb", "https://app.example.com/cb"])


def test_user_info_errors(pools: PoolsGateway, setup: OAuthPool, http: FormClient) -> None:
    missing = http.http.get("/oauth2/userInfo")
    assert missing.status_code == 400
    assert 'error="invalid_request"' in missing.headers["www-authenticate"]
    native = pools.sign_in(setup.public, "bo@example.com")["AuthenticationResult"]["AccessToken"]
    for token in (native, "not.a.token", native[:-4] + "AAAA"):
        answer = http.http.get("/oauth2/userInfo", headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 401, token
        assert 'error="invalid_token"' in answer.headers["www-authenticate"]
    machine = http.token(
        {"grant_type": "client_credentials"}, auth=(setup.machine, setup.machine_secret)
    ).json()["access_token"]
    answer = http.http.post("/oauth2/userInfo", headers={"Authorization": f"Bearer {machine}"})
    assert answer.status_code == 401


def test_revocation_errors(pools: PoolsGateway, setup: OAuthPool, http: FormClient) -> None:
    exchange, _ = exchange_of(setup, http)
    tokens = http.token(exchange).json()
    no_token = http.http.post("/oauth2/revoke", data={"client_id": setup.public})
    assert (no_token.status_code, no_token.json()["error"]) == (400, "invalid_request")
    access = http.http.post(
        "/oauth2/revoke", data={"client_id": setup.public, "token": tokens["access_token"]}
    )
    assert (access.status_code, access.json()["error"]) == (400, "unsupported_token_type")
    bad_secret = http.http.post(
        "/oauth2/revoke",
        data={"token": tokens["refresh_token"]},
        auth=(setup.confidential, "wrong"),
    )
    assert (bad_secret.status_code, bad_secret.json()["error"]) == (401, "invalid_client")
    other_client = http.http.post(
        "/oauth2/revoke",
        data={"token": tokens["refresh_token"]},
        auth=(setup.confidential, setup.confidential_secret),
    )
    assert other_client.status_code == 200  # answered alike, revokes nothing of another client
    still = http.token(
        {
            "grant_type": "refresh_token",
            "client_id": setup.public,
            "refresh_token": tokens["refresh_token"],
        }
    )
    assert still.status_code == 200
    unknown = http.http.post("/oauth2/revoke", data={"client_id": setup.public, "token": "abc"})
    assert unknown.status_code == 200
