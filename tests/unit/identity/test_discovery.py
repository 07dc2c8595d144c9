"""Issuer, JWKS address and the OIDC discovery document."""

from __future__ import annotations

import pytest

from authgate.identity.discovery import issuer, jwks_uri, openid_configuration

BASE = "http://127.0.0.1:9229"
POOL = "us-east-1_Example1"


def test_issuer_is_base_url_slash_pool_id() -> None:
    # pycognito: iss == endpoint_url + "/" + pool_id
    assert issuer(BASE, POOL) == "http://127.0.0.1:9229/us-east-1_Example1"


@pytest.mark.parametrize("base", ["", "http://127.0.0.1:9229/"])
def test_base_url_must_not_end_in_a_slash(base: str) -> None:
    with pytest.raises(ValueError, match="without '/'"):
        issuer(base, POOL)


def test_jwks_uri_sits_below_the_issuer() -> None:
    assert jwks_uri(issuer(BASE, POOL)) == f"{BASE}/{POOL}/.well-known/jwks.json"


def test_discovery_document_matches_cognitos() -> None:
    pool_issuer = issuer(BASE, POOL)
    document = openid_configuration(pool_issuer, "https://auth.example.com")
    assert list(document) == sorted(document)  # Cognito serves its keys sorted
    assert document == {
        "authorization_endpoint": "https://auth.example.com/oauth2/authorize",
        "end_session_endpoint": "https://auth.example.com/logout",
        "id_token_signing_alg_values_supported": ["RS256"],
        "issuer": pool_issuer,
        "jwks_uri": f"{pool_issuer}/.well-known/jwks.json",
        "response_types_supported": ["code", "token"],
        "revocation_endpoint": "https://auth.example.com/oauth2/revoke",
        "scopes_supported": ["openid", "email", "phone", "profile"],
        "subject_types_supported": ["public"],
        "token_endpoint": "https://auth.example.com/oauth2/token",
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "userinfo_endpoint": "https://auth.example.com/oauth2/userInfo",
    }


def test_documents_are_independent_copies() -> None:
    one = openid_configuration(issuer(BASE, POOL), BASE)
    scopes = one["scopes_supported"]
    assert isinstance(scopes, list)
    scopes.append("x")
    assert openid_configuration(issuer(BASE, POOL), BASE)["scopes_supported"] == [
        "openid",
        "email",
        "phone",
        "profile",
    ]
