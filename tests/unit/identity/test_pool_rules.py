"""Pure user-pool rules: settings defaults and refusals, attributes, filters, SECRET_HASH,
lockout timing."""

from __future__ import annotations

from dataclasses import replace

import pytest

from authgate.identity import lockout
from authgate.identity.attributes import (
    aliases_of,
    check_values,
    lookup_aliases,
    mask,
    parse_filter,
)
from authgate.identity.errors import InvalidParameter, NotAuthorized
from authgate.identity.model import Alias, UserRecord, UserStatus
from authgate.identity.pool_config import (
    client_config,
    client_settings,
    mfa_config,
    pool_config,
    pool_settings,
)
from authgate.identity.secret_hash import check_secret_hash, secret_hash


def settings(**request: object):  # type: ignore[no-untyped-def]
    return pool_settings(pool_config(request))


def user(**changes: object) -> UserRecord:
    base = UserRecord(
        pool_id="us-east-1_Pool",
        username="ann",
        username_key="ann",
        sub="11111111-2222-3333-4444-555555555555",
        status=UserStatus.CONFIRMED,
        enabled=True,
        created=1.0,
        updated=1.0,
        attributes={"email": "Ann@Example.com", "given_name": "Ann"},
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_pool_defaults_are_cognitos() -> None:
    config = pool_config({"PoolName": "p"})
    assert config["Policies"]["PasswordPolicy"] == {
        "MinimumLength": 8,
        "RequireUppercase": True,
        "RequireLowercase": True,
        "RequireNumbers": True,
        "RequireSymbols": True,
        "TemporaryPasswordValidityDays": 7,
    }
    assert config["MfaConfiguration"] == "OFF"
    assert "PoolName" not in config
    pool = pool_settings(config)
    assert pool.case_sensitive is True
    assert pool.totp_usable is False


@pytest.mark.parametrize(
    "request_",
    [
        {"LambdaConfig": {"PreSignUp": "arn"}},
        {"UsernameAttributes": ["email"], "AliasAttributes": ["email"]},
        {"UsernameAttributes": ["preferred_username"]},
        {"Policies": {"PasswordPolicy": {"MinimumLength": 5}}},
        {"Policies": {"PasswordPolicy": {"PasswordHistorySize": 3}}},
        {"MfaConfiguration": "SOMETIMES"},
        {"Schema": [{"Name": "x" * 21}]},
        {"Schema": [{"Name": "tier", "Required": True}]},
    ],
)
def test_pool_settings_refused(request_: dict[str, object]) -> None:
    with pytest.raises(InvalidParameter):
        pool_config(request_)


def test_update_keeps_what_update_user_pool_cannot_change() -> None:
    created = pool_config({"UsernameAttributes": ["email"], "MfaConfiguration": "OPTIONAL"})
    updated = pool_config({"UsernameAttributes": ["phone_number"]}, created)
    assert updated["UsernameAttributes"] == ["email"]
    assert updated["MfaConfiguration"] == "OFF"


def test_mfa_on_needs_a_method() -> None:
    config = pool_config({})
    with pytest.raises(InvalidParameter):
        mfa_config(config, {"MfaConfiguration": "ON"})
    on = mfa_config(
        config, {"MfaConfiguration": "ON", "SoftwareTokenMfaConfiguration": {"Enabled": True}}
    )
    assert pool_settings(on).totp_usable


def test_client_flows_legacy_and_defaults() -> None:
    default = client_settings(client_config({}))
    assert default.allows("USER_SRP_AUTH")
    assert default.allows("REFRESH_TOKEN")
    assert not default.allows("USER_PASSWORD_AUTH")
    legacy = client_settings(client_config({"ExplicitAuthFlows": ["ADMIN_NO_SRP_AUTH"]}))
    assert legacy.allows("ADMIN_USER_PASSWORD_AUTH")
    assert legacy.allows("ADMIN_NO_SRP_AUTH")
    assert legacy.allows("USER_SRP_AUTH")
    with pytest.raises(InvalidParameter):
        client_config({"ExplicitAuthFlows": ["ADMIN_NO_SRP_AUTH", "ALLOW_USER_SRP_AUTH"]})
    with pytest.raises(InvalidParameter):
        client_config({"AccessTokenValidity": 2, "TokenValidityUnits": {"AccessToken": "days"}})
    with pytest.raises(InvalidParameter):
        client_config({"RefreshTokenRotation": {"Feature": "ENABLED"}})
    short = client_settings(
        client_config({"IdTokenValidity": 10, "TokenValidityUnits": {"IdToken": "minutes"}})
    )
    assert short.lifetimes.id_token == 600


def test_attribute_values_checked_against_the_schema() -> None:
    pool = settings(
        Schema=[
            {
                "Name": "level",
                "AttributeDataType": "Number",
                "NumberAttributeConstraints": {"MaxValue": "9"},
            },
            {"Name": "badge", "Mutable": False},
        ]
    )
    check_values(pool, {"custom:level": "3", "email": "a@b.c", "email_verified": "true"})
    for bad in (
        {"custom:level": "10"},
        {"custom:level": "x"},
        {"custom:nope": "1"},
        {"email": "not-an-email"},
        {"phone_number": "555-1234"},
        {"sub": "mine"},
        {"email_verified": "yes"},
    ):
        with pytest.raises(InvalidParameter):
            check_values(pool, bad)
    with pytest.raises(InvalidParameter):
        check_values(pool, {"custom:badge": "new"}, current={"custom:badge": "old"})
    with pytest.raises(InvalidParameter):
        check_values(pool, {"given_name": "x"}, allowed=frozenset({"email"}))


def test_aliases_with_username_attributes_and_alias_attributes() -> None:
    by_email = settings(
        UsernameAttributes=["email"], UsernameConfiguration={"CaseSensitive": False}
    )
    assert aliases_of(by_email, "uuid", {"email": "Ann@Example.com"}) == (
        Alias("email", "ann@example.com"),
    )
    aliased = settings(AliasAttributes=["email", "preferred_username"])
    unverified = {"email": "a@b.c", "preferred_username": "annie"}
    assert aliases_of(aliased, "ann", unverified) == (Alias("preferred_username", "annie"),)
    verified = {**unverified, "email_verified": "true"}
    assert Alias("email", "a@b.c") in aliases_of(aliased, "ann", verified)
    assert lookup_aliases(aliased, "a@b.c")[0] == Alias("email", "a@b.c")


def test_masks() -> None:
    assert mask("EMAIL", "jane@example.com") == "j***@e***"
    assert mask("SMS", "+15551234567") == "+*******4567"


@pytest.mark.parametrize(
    ("text", "matches"),
    [
        ("", True),
        ('email = "Ann@Example.com"', True),
        ('email = "ann@example.com"', False),
        ('given_name ^= "An"', True),
        ('username = "ann"', True),
        ('cognito:user_status = "Confirmed"', True),
        ('status = "Enabled"', True),
        ('status = "Disabled"', False),
        ('given_name = "A\\"nn"', False),
    ],
)
def test_list_users_filters(text: str, matches: bool) -> None:
    assert parse_filter(text)(user()) is matches


@pytest.mark.parametrize("text", ["email", 'custom:tier = "x"', 'email == "x"', "email = x"])
def test_malformed_filters(text: str) -> None:
    with pytest.raises(InvalidParameter):
        parse_filter(text)


def test_secret_hash_vector_and_check() -> None:
    # userpool-auth-flows.md §3.2
    assert secret_hash("s3cr3tvalue", "alice", "1example23456789") == (
        "C0IXjUaA+J90MZWdJpO/GtvIZDTKk2vIqBa09JirlXs="
    )
    good = secret_hash("s3cr3tvalue", "uuid", "c1")
    check_secret_hash("s3cr3tvalue", "c1", good, ["alice", "uuid"])
    check_secret_hash(None, "c1", None, [])
    with pytest.raises(NotAuthorized, match="SECRET_HASH was not received"):
        check_secret_hash("s3cr3tvalue", "c1", None, ["alice"])
    with pytest.raises(NotAuthorized, match="Unable to verify secret hash"):
        check_secret_hash("s3cr3tvalue", "c1", good, ["alice"])


def test_lockout_doubles_from_the_fifth_failure_and_is_forgotten() -> None:
    record = user()
    for n in range(4):
        record = lockout.after_failure(record, 100.0 + n)
        assert not lockout.locked(record, 100.0 + n)
    record = lockout.after_failure(record, 110.0)
    assert lockout.locked(record, 110.5)
    assert not lockout.locked(record, 111.0)
    record = lockout.after_failure(record, 111.0)
    assert record.locked_until == 113.0
    many = replace(record, failed_attempts=40)
    assert lockout.after_failure(many, 200.0).locked_until == 200.0 + lockout.MAX_LOCK_SECONDS
    forgotten = lockout.after_failure(record, 111.0 + lockout.FORGET_AFTER + 1)
    assert forgotten.failed_attempts == 1
    assert lockout.after_success(record).failed_attempts == 0
