"""ID, access and refresh tokens as the user-pool spec lists them; lifetimes."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import uuid

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from authgate.identity.keys import SigningKey, generate_signing_key
from authgate.identity.tokens import (
    NATIVE_SCOPE,
    REFRESH_TOKEN_HEADER,
    GroupMembership,
    Lifetimes,
    SignIn,
    access_token,
    access_token_claims,
    at_hash,
    group_claims,
    id_token,
    id_token_claims,
    lifetimes,
    new_refresh_token,
    refresh_token_digest,
    validity_seconds,
)

ISSUER = "http://127.0.0.1:9229/us-east-1_Example1"
CLIENT = "57cbishk4j24pabc1234567890"
SUB = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
NOW = 1_700_000_000.7


def b64decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def parts(token: str) -> tuple[dict[str, object], dict[str, object]]:
    header, payload, _ = token.split(".")
    return json.loads(b64decode(header)), json.loads(b64decode(payload))


@pytest.fixture(scope="module")
def key() -> SigningKey:
    return generate_signing_key()


def sign_in(**changes: object) -> SignIn:
    fields: dict[str, object] = {
        "issuer": ISSUER,
        "client_id": CLIENT,
        "sub": SUB,
        "username": "janedoe",
        "auth_time": 1_699_999_000,
        "origin_jti": "11111111-1111-4111-8111-111111111111",
        "event_id": "22222222-2222-4222-8222-222222222222",
    }
    fields.update(changes)
    return SignIn(**fields)  # type: ignore[arg-type]


def test_header_is_kid_and_alg_only_in_that_order(key: SigningKey) -> None:
    token = id_token(key, sign_in(), now=NOW, lifetime=3600)
    header, _ = parts(token)
    assert list(header.items()) == [("kid", key.kid), ("alg", "RS256")]


def test_signature_is_rs256_over_the_first_two_parts(key: SigningKey) -> None:
    token = access_token(key, sign_in(), now=NOW, lifetime=3600)
    signing_input, _, signature = token.rpartition(".")
    key.private_key.public_key().verify(
        b64decode(signature), signing_input.encode(), padding.PKCS1v15(), hashes.SHA256()
    )


def test_id_token_claims_for_native_sign_in() -> None:
    claims = id_token_claims(
        sign_in(),
        now=NOW,
        lifetime=3600,
        attributes={"email": "jane@example.com", "email_verified": "true", "given_name": "Jane"},
        jti="33333333-3333-4333-8333-333333333333",
    )
    assert claims == {
        "sub": SUB,
        "iss": ISSUER,
        "cognito:username": "janedoe",
        "origin_jti": "11111111-1111-4111-8111-111111111111",
        "aud": CLIENT,
        "event_id": "22222222-2222-4222-8222-222222222222",
        "token_use": "id",
        "auth_time": 1_699_999_000,
        "exp": 1_700_003_600,
        "iat": 1_700_000_000,
        "jti": "33333333-3333-4333-8333-333333333333",
        "email": "jane@example.com",
        "email_verified": True,
        "given_name": "Jane",
    }
    assert "at_hash" not in claims  # pycognito would check it against the access token
    assert "client_id" not in claims


def test_access_token_claims_for_native_sign_in() -> None:
    claims = access_token_claims(
        sign_in(device_key="us-east-1_dev"), now=NOW, lifetime=600, jti="j-1"
    )
    assert claims == {
        "sub": SUB,
        "device_key": "us-east-1_dev",
        "iss": ISSUER,
        "client_id": CLIENT,
        "origin_jti": "11111111-1111-4111-8111-111111111111",
        "event_id": "22222222-2222-4222-8222-222222222222",
        "token_use": "access",
        "scope": NATIVE_SCOPE,
        "auth_time": 1_699_999_000,
        "exp": 1_700_000_600,
        "iat": 1_700_000_000,
        "jti": "j-1",
        "username": "janedoe",
    }
    assert "aud" not in claims


def test_oauth_access_token_has_version_2_and_granted_scopes() -> None:
    claims = access_token_claims(
        sign_in(), now=NOW, lifetime=3600, scopes=("openid", "email", NATIVE_SCOPE), version=2
    )
    assert claims["version"] == 2
    assert claims["scope"] == "openid email aws.cognito.signin.user.admin"


def test_client_credentials_access_token_has_no_username_or_event_ids() -> None:
    machine = SignIn(issuer=ISSUER, client_id=CLIENT, sub=CLIENT, username=None, auth_time=1)
    claims = access_token_claims(machine, now=NOW, lifetime=3600, scopes=("rs/read",))
    assert claims["sub"] == CLIENT
    assert not {"username", "origin_jti", "event_id", "cognito:groups"} & set(claims)
    with pytest.raises(ValueError, match="need a user"):
        id_token_claims(machine, now=NOW, lifetime=3600)


def test_scopes_must_be_names() -> None:
    with pytest.raises(ValueError, match="scopes"):
        access_token_claims(sign_in(), now=NOW, lifetime=3600, scopes=("a b",))
    with pytest.raises(ValueError, match="scopes"):
        access_token_claims(sign_in(), now=NOW, lifetime=3600, scopes=())


def test_jti_is_a_fresh_uuid_per_token() -> None:
    one = access_token_claims(sign_in(), now=NOW, lifetime=3600)["jti"]
    two = access_token_claims(sign_in(), now=NOW, lifetime=3600)["jti"]
    assert one != two
    assert uuid.UUID(str(one)).version == 4


def test_attribute_types_follow_cognito() -> None:
    claims = id_token_claims(
        sign_in(),
        now=NOW,
        lifetime=3600,
        attributes={
            "phone_number_verified": "false",
            "updated_at": "1700000000",
            "custom:level": "7",
            "sub": SUB,
        },
    )
    assert claims["phone_number_verified"] is False
    assert claims["updated_at"] == 1_700_000_000
    assert claims["custom:level"] == "7"  # custom attributes stay strings, Number type too


@pytest.mark.parametrize(
    ("attributes", "message"),
    [
        ({"iss": "https://evil"}, "overwrite"),
        ({"cognito:groups": "admin"}, "overwrite"),
        ({"sub": "someone-else"}, "differs"),
        ({"email_verified": "yes"}, "'true' or 'false'"),
    ],
)
def test_attributes_cannot_forge_claims(attributes: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        id_token_claims(sign_in(), now=NOW, lifetime=3600, attributes=attributes)


def test_groups_and_preferred_role_by_lowest_precedence() -> None:
    groups = (
        GroupMembership("readers", precedence=5, role_arn="arn:aws:iam::1:role/R"),
        GroupMembership("admins", precedence=1, role_arn="arn:aws:iam::1:role/A"),
        GroupMembership("plain"),
    )
    claims = id_token_claims(sign_in(groups=groups), now=NOW, lifetime=3600)
    assert claims["cognito:groups"] == ["readers", "admins", "plain"]
    assert claims["cognito:roles"] == ["arn:aws:iam::1:role/R", "arn:aws:iam::1:role/A"]
    assert claims["cognito:preferred_role"] == "arn:aws:iam::1:role/A"
    access = access_token_claims(sign_in(groups=groups), now=NOW, lifetime=3600)
    assert access["cognito:groups"] == ["readers", "admins", "plain"]
    assert "cognito:roles" not in access


def test_tied_precedence_with_different_roles_prefers_none() -> None:
    claims = group_claims(
        [
            GroupMembership("a", precedence=2, role_arn="arn:aws:iam::1:role/A"),
            GroupMembership("b", precedence=2, role_arn="arn:aws:iam::1:role/B"),
        ]
    )
    assert "cognito:preferred_role" not in claims
    assert claims["cognito:roles"] == ["arn:aws:iam::1:role/A", "arn:aws:iam::1:role/B"]


def test_group_without_precedence_ranks_last() -> None:
    claims = group_claims(
        [
            GroupMembership("a", role_arn="arn:aws:iam::1:role/A"),
            GroupMembership("b", precedence=9, role_arn="arn:aws:iam::1:role/B"),
        ]
    )
    assert claims["cognito:preferred_role"] == "arn:aws:iam::1:role/B"


def test_no_groups_no_group_claims() -> None:
    claims = id_token_claims(sign_in(), now=NOW, lifetime=3600)
    assert not {"cognito:groups", "cognito:roles", "cognito:preferred_role"} & set(claims)


def test_oauth_id_token_carries_nonce_and_a_correct_at_hash(key: SigningKey) -> None:
    access = access_token(key, sign_in(), now=NOW, lifetime=3600, version=2)
    token = id_token(key, sign_in(), now=NOW, lifetime=3600, nonce="n-0S6", access_token=access)
    _, claims = parts(token)
    digest = hashlib.sha256(access.encode()).digest()
    expected = base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()
    assert claims["at_hash"] == expected == at_hash(access)
    assert claims["nonce"] == "n-0S6"


def test_non_ascii_attribute_values_survive(key: SigningKey) -> None:
    token = id_token(key, sign_in(), now=NOW, lifetime=3600, attributes={"name": "Zoë Ångström"})
    _, claims = parts(token)
    assert claims["name"] == "Zoë Ångström"


# Refresh tokens -------------------------------------------------------------------------------


def test_refresh_token_looks_like_aws_and_is_looked_up_by_digest() -> None:
    issued = new_refresh_token()
    token = issued.token
    assert token.startswith(REFRESH_TOKEN_HEADER + ".")
    assert token.count(".") == 4
    assert re.fullmatch(r"[A-Za-z0-9_=.-]+", token)
    assert 1700 <= len(token) <= 1850
    assert refresh_token_digest(token) == issued.digest
    assert issued.digest == hashlib.sha256(token.encode()).hexdigest()
    assert token not in repr(issued)


def test_refresh_tokens_are_unique() -> None:
    assert len({new_refresh_token().token for _ in range(20)}) == 20


@pytest.mark.parametrize("presented", ["", "has space", "x" * 5000, "ü.a.b.c.d"])
def test_presented_refresh_token_of_the_wrong_shape_has_no_digest(presented: str) -> None:
    assert refresh_token_digest(presented) is None


# Lifetimes ------------------------------------------------------------------------------------


def test_default_lifetimes() -> None:
    assert lifetimes() == Lifetimes(3600, 3600, 30 * 86400)


def test_units_default_to_hours_and_days() -> None:
    got = lifetimes(id_token=2, access_token=24, refresh_token=3650)
    assert got == Lifetimes(7200, 86400, 3650 * 86400)


def test_explicit_units() -> None:
    got = lifetimes(
        id_token=5,
        access_token=90,
        refresh_token=60,
        units={"IdToken": "minutes", "AccessToken": "minutes", "RefreshToken": "minutes"},
    )
    assert got == Lifetimes(300, 5400, 3600)


def test_refresh_zero_means_default() -> None:
    assert validity_seconds("refresh", 0) == 30 * 86400


@pytest.mark.parametrize(
    ("kind", "value", "unit"),
    [
        ("id", 4, "minutes"),
        ("access", 25, "hours"),
        ("id", 86401, "seconds"),
        ("refresh", 59, "minutes"),
        ("refresh", 3651, "days"),
        ("access", 1, "weeks"),
    ],
)
def test_lifetimes_outside_cognitos_ranges_are_refused(kind: str, value: int, unit: str) -> None:
    with pytest.raises(ValueError, match=r"validity|unit"):
        validity_seconds(kind, value, unit)  # type: ignore[arg-type]
