"""Federation with an external OpenID Connect provider — a second authgate gateway, reached as
`localhost` so the two keep apart cookies — and the cognito-idp identity-provider operations
through boto3."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urljoin

import httpx
import jwt
import pytest
from botocore.exceptions import ClientError

from tests.e2e.oauth import CALLBACK, pkce_pair, query_of
from tests.e2e.test_userpools_signup import error_of, secret_hash
from tests.e2e.userpools import PASSWORD, PoolsGateway, pools, start_pools_gateway
from tests.support import LoopThread, free_port

__all__ = ["pools"]

_CSRF = 'name="csrf" value="'


@pytest.fixture
def provider(tmp_path: Path, loop_thread: LoopThread) -> Iterator[PoolsGateway]:
    """The external provider: another gateway, issuing as http://localhost:PORT/<pool>."""
    port = free_port()
    directory = tmp_path / "provider"
    directory.mkdir()
    settings = {"public_url": f"http://localhost:{port}"}
    setup, running = start_pools_gateway(directory, loop_thread, settings, port)
    yield setup
    running.stop()


def provider_details(provider: PoolsGateway, pools: PoolsGateway) -> tuple[str, dict[str, str]]:
    """A pool and app client at the provider for our gateway, and its ProviderDetails."""
    pool_id = provider.pool()
    client = provider.app_client(
        pool_id,
        GenerateSecret=True,
        AllowedOAuthFlowsUserPoolClient=True,
        AllowedOAuthFlows=["code"],
        AllowedOAuthScopes=["openid", "email"],
        CallbackURLs=[f"{pools.url}/oauth2/idpresponse"],
    )
    provider.confirmed_user(
        pool_id,
        client["ClientId"],
        "ivy@corp.example",
        SecretHash=secret_hash(client["ClientSecret"], "ivy@corp.example", client["ClientId"]),
    )
    base = provider.url.replace("127.0.0.1", "localhost")
    return pool_id, {
        "client_id": client["ClientId"],
        "client_secret": client["ClientSecret"],
        "authorize_scopes": "openid email",
        "oidc_issuer": f"{base}/{pool_id}",
        "attributes_request_method": "GET",
    }


def our_client(pools: PoolsGateway, pool_id: str) -> str:
    return str(
        pools.app_client(
            pool_id,
            AllowedOAuthFlowsUserPoolClient=True,
            AllowedOAuthFlows=["code"],
            AllowedOAuthScopes=["openid", "email"],
            CallbackURLs=[CALLBACK],
            SupportedIdentityProviders=["COGNITO", "Corp"],
        )["ClientId"]
    )


def federated_sign_in(
    pools: PoolsGateway, client_id: str, *, password: str = PASSWORD, **extra: str
) -> tuple[httpx.Client, str, str]:
    """Through both gateways in one cookie jar; returns the client, the last location reached
    and the PKCE verifier."""
    verifier, challenge = pkce_pair()
    browser = httpx.Client(follow_redirects=False, timeout=30)
    query = {
        "client_id": client_id,
        "redirect_uri": CALLBACK,
        "response_type": "code",
        "scope": "openid email",
        "state": "ours",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **({"identity_provider": "Corp"} if "idp_identifier" not in extra else {}),
        **extra,
    }
    there = browser.get(f"{pools.url}/oauth2/authorize", params=query)
    assert there.status_code == 302, there.text
    to_provider = there.headers["location"]
    assert to_provider.startswith("http://localhost:")
    asked = query_of(to_provider)
    assert asked["code_challenge_method"] == "S256"
    assert asked["redirect_uri"] == f"{pools.url}/oauth2/idpresponse"
    login = browser.get(to_provider)
    page_url = urljoin(to_provider, login.headers["location"])
    page = browser.get(page_url)
    csrf = page.text.split(_CSRF, 1)[1].split('"', 1)[0]
    back = browser.post(
        page_url, data={"csrf": csrf, "username": "ivy@corp.example", "password": password}
    )
    if back.status_code != 302:
        return browser, page_url, verifier
    returned = browser.get(back.headers["location"])
    assert returned.status_code == 302, returned.text
    return browser, returned.headers["location"], verifier


def test_sign_in_through_an_external_oidc_provider(
    pools: PoolsGateway, provider: PoolsGateway
) -> None:
    upstream_pool, details = provider_details(provider, pools)
    pool_id = pools.pool()
    pools.admin.create_identity_provider(
        UserPoolId=pool_id,
        ProviderName="Corp",
        ProviderType="OIDC",
        ProviderDetails=details,
        AttributeMapping={"email": "email", "email_verified": "email_verified"},
        IdpIdentifiers=["corp.example"],
    )
    client_id = our_client(pools, pool_id)
    browser, location, verifier = federated_sign_in(pools, client_id)
    browser.close()
    assert location.startswith(CALLBACK + "?")
    returned = query_of(location)
    assert returned["state"] == "ours"
    tokens = httpx.post(
        f"{pools.url}/oauth2/token",
        data={
            "grant_type": "authorization_code",
            "client_id": client_id,
            "code": returned["code"],
            "redirect_uri": CALLBACK,
            "code_verifier": verifier,
        },
    ).json()
    claims = jwt.decode(tokens["id_token"], options={"verify_signature": False})
    upstream_sub = provider.admin.admin_get_user(
        UserPoolId=upstream_pool, Username="ivy@corp.example"
    )["Username"]
    assert claims["cognito:username"] == f"Corp_{upstream_sub}"
    assert claims["iss"] == f"{pools.url}/{pool_id}"
    assert claims["email"] == "ivy@corp.example"
    assert claims["email_verified"] is True
    assert claims["identities"][0]["providerName"] == "Corp"
    assert claims["identities"][0]["userId"] == upstream_sub
    user = pools.admin.admin_get_user(UserPoolId=pool_id, Username=f"Corp_{upstream_sub}")
    assert user["UserStatus"] == "EXTERNAL_PROVIDER"
    attributes = {a["Name"]: a["Value"] for a in user["UserAttributes"]}
    identities = json.loads(attributes["identities"])
    assert identities[0]["providerName"] == "Corp"
    assert identities[0]["userId"] == upstream_sub
    assert attributes["sub"] == claims["sub"] != upstream_sub

    again, location, _ = federated_sign_in(pools, client_id, idp_identifier="corp.example")
    again.close()
    assert query_of(location)["code"]
    listed = pools.admin.list_users(UserPoolId=pool_id)["Users"]
    assert [u["Username"] for u in listed] == [f"Corp_{upstream_sub}"]  # linked, not created


def test_federation_refusals(pools: PoolsGateway, provider: PoolsGateway) -> None:
    _, details = provider_details(provider, pools)
    pool_id = pools.pool()
    pools.admin.create_identity_provider(
        UserPoolId=pool_id, ProviderName="Corp", ProviderType="OIDC", ProviderDetails=details
    )
    client_id = our_client(pools, pool_id)
    stray = httpx.get(f"{pools.url}/oauth2/idpresponse", params={"code": "x", "state": "y"})
    assert stray.status_code == 400  # no federation began in this browser
    assert "location" not in stray.headers

    browser = httpx.Client(follow_redirects=False, timeout=30)
    try:
        started = browser.get(
            f"{pools.url}/oauth2/authorize",
            params={
                "client_id": client_id,
                "redirect_uri": CALLBACK,
                "response_type": "code",
                "state": "ours",
                "identity_provider": "Corp",
                "code_challenge": pkce_pair()[1],
                "code_challenge_method": "S256",
            },
        )
        state = query_of(started.headers["location"])["state"]
        forged = browser.get(f"{pools.url}/oauth2/idpresponse", params={"code": "x", "state": "z"})
        assert forged.status_code == 400
        denied = browser.get(
            f"{pools.url}/oauth2/idpresponse", params={"error": "access_denied", "state": state}
        )
        assert denied.status_code == 302
        answer = query_of(denied.headers["location"])
        assert (answer["error"], answer["state"]) == ("access_denied", "ours")
    finally:
        browser.close()

    pools.admin.update_identity_provider(
        UserPoolId=pool_id,
        ProviderName="Corp",
        ProviderDetails={**details, "client_secret": "not-the-secret"},
    )
    failed, location, _ = federated_sign_in(pools, client_id)
    failed.close()
    assert query_of(location)["error"] == "access_denied"  # the code exchange was refused
    assert pools.admin.list_users(UserPoolId=pool_id)["Users"] == []


def test_identity_provider_operations(pools: PoolsGateway) -> None:
    pool_id = pools.pool()
    details = {
        "client_id": "upstream-client",
        "client_secret": "upstream-secret",
        "authorize_scopes": "openid email",
        "oidc_issuer": "https://idp.example.com",
    }
    made = pools.admin.create_identity_provider(
        UserPoolId=pool_id,
        ProviderName="Corp",
        ProviderType="OIDC",
        ProviderDetails=details,
        AttributeMapping={"email": "email"},
        IdpIdentifiers=["corp.example"],
    )["IdentityProvider"]
    assert made["ProviderDetails"] == {**details, "attributes_request_method": "GET"}
    assert made["AttributeMapping"] == {"username": "sub", "email": "email"}
    described = pools.admin.describe_identity_provider(UserPoolId=pool_id, ProviderName="Corp")
    assert described["IdentityProvider"]["ProviderDetails"]["client_secret"] == "upstream-secret"
    by_identifier = pools.admin.get_identity_provider_by_identifier(
        UserPoolId=pool_id, IdpIdentifier="corp.example"
    )
    assert by_identifier["IdentityProvider"]["ProviderName"] == "Corp"
    pools.admin.create_identity_provider(
        UserPoolId=pool_id, ProviderName="Alt", ProviderType="OIDC", ProviderDetails=details
    )
    first = pools.admin.list_identity_providers(UserPoolId=pool_id, MaxResults=1)
    assert [p["ProviderName"] for p in first["Providers"]] == ["Alt"]
    rest = pools.admin.list_identity_providers(
        UserPoolId=pool_id, MaxResults=1, NextToken=first["NextToken"]
    )
    assert [p["ProviderName"] for p in rest["Providers"]] == ["Corp"]
    updated = pools.admin.update_identity_provider(
        UserPoolId=pool_id, ProviderName="Corp", AttributeMapping={"name": "name"}
    )["IdentityProvider"]
    assert updated["AttributeMapping"] == {"username": "sub", "name": "name"}
    assert updated["ProviderDetails"]["client_secret"] == "upstream-secret"

    refusals = [
        ({"ProviderName": "Corp", "ProviderType": "OIDC", "ProviderDetails": details},
         "DuplicateProviderException"),
        ({"ProviderName": "Saml", "ProviderType": "SAML", "ProviderDetails": {"MetadataURL": "x"}},
         "InvalidParameterException"),
        ({"ProviderName": "Bad", "ProviderType": "OIDC",
          "ProviderDetails": {**details, "oidc_issuer": "ftp://idp"}},
         "InvalidParameterException"),
        ({"ProviderName": "NoOpenid", "ProviderType": "OIDC",
          "ProviderDetails": {**details, "authorize_scopes": "email"}},
         "InvalidParameterException"),
        ({"ProviderName": "COGNITO", "ProviderType": "OIDC", "ProviderDetails": details},
         "InvalidParameterException"),
    ]  # fmt: skip
    for request, code in refusals:
        with pytest.raises(ClientError) as raised:
            pools.admin.create_identity_provider(UserPoolId=pool_id, **request)
        assert error_of(raised)[0] == code, request
    pools.admin.delete_identity_provider(UserPoolId=pool_id, ProviderName="Alt")
    with pytest.raises(ClientError) as raised:
        pools.admin.describe_identity_provider(UserPoolId=pool_id, ProviderName="Alt")
    assert error_of(raised)[0] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as raised:
        pools.public.describe_identity_provider(UserPoolId=pool_id, ProviderName="Corp")
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] in (400, 403)
