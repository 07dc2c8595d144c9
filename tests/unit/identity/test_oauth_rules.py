"""The pure OAuth rules: PKCE S256 (RFC 7636's own example), callback URLs as Cognito accepts
them, client OAuth settings, and scope requests."""

from __future__ import annotations

import pytest

from authgate.identity import pkce
from authgate.identity.errors import InvalidParameter
from authgate.identity.oauth_client import (
    check_oauth_config,
    check_redirect_url,
    oauth_settings,
    requested_scopes,
)

RFC_VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
RFC_CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_pkce_s256_matches_rfc_7636_appendix_b() -> None:
    assert pkce.s256(RFC_VERIFIER) == RFC_CHALLENGE
    assert pkce.verifier_matches(RFC_VERIFIER, RFC_CHALLENGE)
    assert pkce.valid_challenge(RFC_CHALLENGE)
    assert not pkce.verifier_matches(RFC_VERIFIER[:-1] + "l", RFC_CHALLENGE)
    assert not pkce.verifier_matches("short", pkce.s256("short"))  # under 43 characters
    assert not pkce.verifier_matches("a" * 129, pkce.s256("a" * 129))
    assert not pkce.valid_challenge(RFC_CHALLENGE + "=")


@pytest.mark.parametrize(
    "url",
    [
        "https://app.example.com/callback",
        "https://app.example.com/cb?tenant=1",
        "http://localhost:3000/cb",
        "http://127.0.0.1/cb",
        "http://[::1]:8080/cb",
        "myapp://callback",
    ],
)
def test_callback_urls_cognito_accepts(url: str) -> None:
    check_redirect_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "",
        "/relative/path",
        "app.example.com/cb",
        "http://app.example.com/cb",
        "https://app.example.com/cb#fragment",
        "https:///no-host",
        "javascript:alert(1)",
        "https://app.example.com/a b",
    ],
)
def test_callback_urls_refused(url: str) -> None:
    with pytest.raises(InvalidParameter):
        check_redirect_url(url)


def test_client_settings_rules() -> None:
    good = {
        "AllowedOAuthFlowsUserPoolClient": True,
        "AllowedOAuthFlows": ["code"],
        "AllowedOAuthScopes": ["openid", "orders/read"],
        "CallbackURLs": ["https://app.example.com/cb"],
        "DefaultRedirectURI": "https://app.example.com/cb",
    }
    check_oauth_config(good)
    settings = oauth_settings(good)
    assert settings.allows_flow("code")
    assert not settings.allows_flow("implicit")
    assert settings.custom_scopes == ("orders/read",)
    assert not oauth_settings({**good, "AllowedOAuthFlowsUserPoolClient": False}).allows_flow(
        "code"
    )
    bad = [
        {**good, "AllowedOAuthScopes": []},
        {**good, "CallbackURLs": []},
        {**good, "AllowedOAuthScopes": ["openid", "read"]},  # custom scopes name their server
        {**good, "AllowedOAuthScopes": ['bad"scope/x']},
        {**good, "AllowedOAuthFlows": ["code", "client_credentials"]},
        {**good, "AllowedOAuthFlows": ["client_credentials"]},  # with standard scopes
        {**good, "DefaultRedirectURI": "https://elsewhere.example.com/cb"},
        {**good, "LogoutURLs": ["http://app.example.com/out"]},
    ]
    for settings_ in bad:
        with pytest.raises(InvalidParameter):
            check_oauth_config(settings_)


def test_requested_scopes() -> None:
    allowed = ("openid", "email", "orders/read")
    assert requested_scopes(None, allowed) == allowed
    assert requested_scopes("  ", allowed) == allowed
    assert requested_scopes("email openid email", allowed) == ("email", "openid")
    assert requested_scopes("openid phone", allowed) is None
    assert requested_scopes("orders/write", allowed) is None
