"""Claims as backends receive them: REST user-pool strings, HTTP API JWT strings."""

from __future__ import annotations

import calendar
from types import MappingProxyType

import pytest

from authgate.authorizers.claims import (
    go_text,
    http_claims,
    http_context,
    java_date,
    rest_claims,
    rest_context,
    token_scopes,
)

APRIL_4 = calendar.timegm((2023, 4, 4, 18, 39, 39, 0, 0, 0))


@pytest.mark.parametrize(
    ("epoch", "text"),
    [
        (APRIL_4, "Tue Apr 04 18:39:39 UTC 2023"),  # the Developer Guide's sample claims
        (0, "Thu Jan 01 00:00:00 UTC 1970"),
        (calendar.timegm((2024, 2, 29, 23, 59, 59, 0, 0, 0)), "Thu Feb 29 23:59:59 UTC 2024"),
    ],
)
def test_java_date(epoch: int, text: str) -> None:
    assert java_date(epoch) == text


def test_rest_claims_are_all_strings_as_a_user_pool_authorizer_passes_them() -> None:
    claims = MappingProxyType(
        {
            "sub": "aaaa",
            "email_verified": True,
            "phone_number_verified": False,
            "auth_time": 1680629979,
            "exp": APRIL_4,
            "iat": APRIL_4 - 3600,
            "cognito:groups": ("team_manager",),
            "custom:level": "3",
            "identities": ({"userId": "1", "providerName": "Idp"},),
        }
    )
    assert rest_claims(claims) == {
        "sub": "aaaa",
        "email_verified": "true",
        "phone_number_verified": "false",
        "auth_time": "1680629979",
        "exp": "Tue Apr 04 18:39:39 UTC 2023",
        "iat": "Tue Apr 04 17:39:39 UTC 2023",
        "cognito:groups": "team_manager",
        "custom:level": "3",
        "identities": '[{"userId":"1","providerName":"Idp"}]',
    }
    assert rest_claims({"cognito:groups": ["a", "b"]}) == {"cognito:groups": "a,b"}
    assert rest_context({"sub": "x"}) == {"claims": {"sub": "x"}}


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("s", "s"),
        (1675021635, "1675021635"),
        (1675021635.0, "1675021635"),
        (1.5, "1.5"),
        (True, "true"),
        (None, "<nil>"),
        (("admin", "users"), "[admin users]"),
        ({"b": 1, "a": ["x", 2]}, "map[a:[x 2] b:1]"),
    ],
)
def test_http_claim_values_print_as_api_gateway_prints_them(value: object, text: str) -> None:
    assert go_text(value) == text


def test_http_context_by_payload_version_and_route_scopes() -> None:
    claims = {"sub": "u", "scope": "read write", "exp": 1675021635}
    strings = {"sub": "u", "scope": "read write", "exp": "1675021635"}
    assert http_claims(claims) == strings
    assert http_context(claims, "2.0", route_has_scopes=True) == {
        "jwt": {"claims": strings, "scopes": ["read", "write"]}
    }
    assert http_context(claims, "2.0", route_has_scopes=False) == {
        "jwt": {"claims": strings, "scopes": None}
    }
    assert http_context(claims, "1.0", route_has_scopes=True) == {
        "claims": strings,
        "scopes": ["read", "write"],
    }


def test_token_scopes_from_scope_or_scp() -> None:
    assert token_scopes({"scope": "a  b"}) == ["a", "b"]
    assert token_scopes({"scp": ("a", 3, "b")}) == ["a", "b"]
    assert token_scopes({}) == []
