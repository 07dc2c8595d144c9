"""Account flows through boto3 `cognito-idp`: password recovery and change, attributes, groups in
tokens, sign-out and revocation, lockout, and what unknown users are told."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.e2e.test_userpools_signup import claims, error_of
from tests.e2e.userpools import PASSWORD, PoolsGateway, pools

__all__ = ["pools"]

NEW_PASSWORD = "Battery-staple-9"


def test_forgot_password_then_confirm_with_the_emailed_code(pools: PoolsGateway) -> None:
    pool_id = pools.pool()
    client_id = pools.app_client(pool_id)["ClientId"]
    pools.confirmed_user(pool_id, client_id, "fay@example.com")
    sent = pools.public.forgot_password(ClientId=client_id, Username="fay@example.com")
    assert sent["CodeDeliveryDetails"]["Destination"] == "f***@e***"
    code = pools.last_code("fay@example.com", "forgot_password")
    with pytest.raises(ClientError) as raised:
        pools.public.confirm_forgot_password(
            ClientId=client_id,
            Username="fay@example.com",
            ConfirmationCode=code,
            Password="short",
        )
    assert error_of(raised) == (
        "InvalidPasswordException",
        "Password did not conform with policy: Password not long enough",
    )
    pools.public.confirm_forgot_password(
        ClientId=client_id, Username="fay@example.com", ConfirmationCode=code, Password=NEW_PASSWORD
    )
    with pytest.raises(ClientError) as raised:
        pools.sign_in(client_id, "fay@example.com")
    assert error_of(raised) == ("NotAuthorizedException", "Incorrect username or password.")
    assert "AuthenticationResult" in pools.sign_in(client_id, "fay@example.com", NEW_PASSWORD)


def test_forgot_password_codes_expire_after_an_hour(pools: PoolsGateway) -> None:
    pool_id = pools.pool()
    client_id = pools.app_client(pool_id)["ClientId"]
    pools.confirmed_user(pool_id, client_id, "gil@example.com")
    pools.public.forgot_password(ClientId=client_id, Username="gil@example.com")
    code = pools.last_code("gil@example.com", "forgot_password")
    pools.clock.advance(3601)
    with pytest.raises(ClientError) as raised:
        pools.public.confirm_forgot_password(
            ClientId=client_id,
            Username="gil@example.com",
            ConfirmationCode=code,
            Password=NEW_PASSWORD,
        )
    assert error_of(raised)[0] == "ExpiredCodeException"


def test_change_password_needs_the_previous_one(pools: PoolsGateway) -> None:
    pool_id = pools.pool()
    client_id = pools.app_client(pool_id)["ClientId"]
    pools.confirmed_user(pool_id, client_id, "hal@example.com")
    token = pools.sign_in(client_id, "hal@example.com")["AuthenticationResult"]["AccessToken"]
    with pytest.raises(ClientError) as raised:
        pools.public.change_password(
            AccessToken=token, PreviousPassword="Wrong-pass-1", ProposedPassword=NEW_PASSWORD
        )
    assert error_of(raised) == ("NotAuthorizedException", "Incorrect username or password.")
    pools.public.change_password(
        AccessToken=token, PreviousPassword=PASSWORD, ProposedPassword=NEW_PASSWORD
    )
    assert "AuthenticationResult" in pools.sign_in(client_id, "hal@example.com", NEW_PASSWORD)


def test_attributes_update_and_reach_the_next_id_token(pools: PoolsGateway) -> None:
    pool_id = pools.pool(Schema=[{"Name": "tier", "AttributeDataType": "String"}])
    client_id = pools.app_client(pool_id)["ClientId"]
    pools.confirmed_user(pool_id, client_id, "ivy@example.com")
    token = pools.sign_in(client_id, "ivy@example.com")["AuthenticationResult"]["AccessToken"]
    pools.public.update_user_attributes(
        AccessToken=token,
        UserAttributes=[
            {"Name": "given_name", "Value": "Ivy"},
            {"Name": "custom:tier", "Value": "gold"},
        ],
    )
    with pytest.raises(ClientError) as raised:
        pools.public.update_user_attributes(
            AccessToken=token, UserAttributes=[{"Name": "custom:unknown", "Value": "x"}]
        )
    assert error_of(raised)[0] == "InvalidParameterException"
    id_token = pools.sign_in(client_id, "ivy@example.com")["AuthenticationResult"]["IdToken"]
    assert claims(id_token)["given_name"] == "Ivy"
    assert claims(id_token)["custom:tier"] == "gold"


def test_groups_appear_in_both_tokens(pools: PoolsGateway) -> None:
    pool_id = pools.pool()
    client_id = pools.app_client(pool_id)["ClientId"]
    sub = pools.confirmed_user(pool_id, client_id, "jo@example.com")
    role = "arn:aws:iam::123456789012:role/readers"
    pools.admin.create_group(UserPoolId=pool_id, GroupName="readers", Precedence=1, RoleArn=role)
    pools.admin.create_group(UserPoolId=pool_id, GroupName="writers", Precedence=2)
    for group in ("readers", "writers"):
        pools.admin.admin_add_user_to_group(
            UserPoolId=pool_id, Username="jo@example.com", GroupName=group
        )
    result = pools.sign_in(client_id, "jo@example.com")["AuthenticationResult"]
    id_claims, access_claims = claims(result["IdToken"]), claims(result["AccessToken"])
    assert id_claims["cognito:groups"] == ["readers", "writers"]
    assert id_claims["cognito:preferred_role"] == role
    assert id_claims["cognito:roles"] == [role]
    assert access_claims["cognito:groups"] == ["readers", "writers"]
    listed = pools.admin.admin_list_groups_for_user(UserPoolId=pool_id, Username=sub)
    assert [g["GroupName"] for g in listed["Groups"]] == ["readers", "writers"]
    assert "NextToken" not in listed
    members = pools.admin.list_users_in_group(UserPoolId=pool_id, GroupName="readers")
    assert [u["Username"] for u in members["Users"]] == [sub]
    pools.admin.admin_remove_user_from_group(UserPoolId=pool_id, Username=sub, GroupName="readers")
    again = pools.sign_in(client_id, "jo@example.com")["AuthenticationResult"]["IdToken"]
    assert claims(again)["cognito:groups"] == ["writers"]
    assert "cognito:roles" not in claims(again)


def test_global_sign_out_revokes_refresh_and_access_tokens(pools: PoolsGateway) -> None:
    pool_id = pools.pool()
    client_id = pools.app_client(pool_id)["ClientId"]
    pools.confirmed_user(pool_id, client_id, "kim@example.com")
    first = pools.sign_in(client_id, "kim@example.com")["AuthenticationResult"]
    second = pools.sign_in(client_id, "kim@example.com")["AuthenticationResult"]
    pools.public.global_sign_out(AccessToken=first["AccessToken"])
    for result in (first, second):
        with pytest.raises(ClientError) as raised:
            pools.public.initiate_auth(
                ClientId=client_id,
                AuthFlow="REFRESH_TOKEN_AUTH",
                AuthParameters={"REFRESH_TOKEN": result["RefreshToken"]},
            )
        assert error_of(raised) == ("NotAuthorizedException", "Refresh Token has been revoked")
        with pytest.raises(ClientError) as raised:
            pools.public.get_user(AccessToken=result["AccessToken"])
        assert error_of(raised) == ("NotAuthorizedException", "Access Token has been revoked")
    fresh = pools.sign_in(client_id, "kim@example.com")["AuthenticationResult"]
    assert pools.public.get_user(AccessToken=fresh["AccessToken"])["Username"]


def test_revoke_token_ends_one_session_only(pools: PoolsGateway) -> None:
    pool_id = pools.pool()
    client_id = pools.app_client(pool_id)["ClientId"]
    pools.confirmed_user(pool_id, client_id, "lee@example.com")
    kept = pools.sign_in(client_id, "lee@example.com")["AuthenticationResult"]
    revoked = pools.sign_in(client_id, "lee@example.com")["AuthenticationResult"]
    with pytest.raises(ClientError) as raised:
        pools.public.revoke_token(Token=revoked["AccessToken"], ClientId=client_id)
    assert error_of(raised)[0] == "UnsupportedTokenTypeException"
    pools.public.revoke_token(Token=revoked["RefreshToken"], ClientId=client_id)
    with pytest.raises(ClientError) as raised:
        pools.public.initiate_auth(
            ClientId=client_id,
            AuthFlow="REFRESH_TOKEN_AUTH",
            AuthParameters={"REFRESH_TOKEN": revoked["RefreshToken"]},
        )
    assert error_of(raised) == ("NotAuthorizedException", "Refresh Token has been revoked")
    with pytest.raises(ClientError) as raised:
        pools.public.get_user(AccessToken=revoked["AccessToken"])
    assert error_of(raised)[1] == "Access Token has been revoked"
    assert pools.public.get_user(AccessToken=kept["AccessToken"])["Username"]


def test_five_failures_lock_the_user_out_for_a_while(pools: PoolsGateway) -> None:
    pool_id = pools.pool()
    client_id = pools.app_client(pool_id)["ClientId"]
    pools.confirmed_user(pool_id, client_id, "max@example.com")
    for _ in range(5):
        with pytest.raises(ClientError) as raised:
            pools.sign_in(client_id, "max@example.com", "Wrong-pass-1")
        assert error_of(raised)[1] == "Incorrect username or password."
    with pytest.raises(ClientError) as raised:
        pools.sign_in(client_id, "max@example.com")
    assert error_of(raised) == ("NotAuthorizedException", "Password attempts exceeded")
    pools.clock.advance(1.5)
    with pytest.raises(ClientError) as raised:
        pools.sign_in(client_id, "max@example.com", "Wrong-pass-1")
    assert error_of(raised)[1] == "Incorrect username or password."
    pools.clock.advance(1.5)
    with pytest.raises(ClientError) as raised:
        pools.sign_in(client_id, "max@example.com")
    assert error_of(raised)[1] == "Password attempts exceeded"
    pools.clock.advance(1.0)
    assert "AuthenticationResult" in pools.sign_in(client_id, "max@example.com")


@pytest.mark.parametrize(
    ("mode", "initiate", "forgot"),
    [
        ("LEGACY", ("UserNotFoundException", "User does not exist."), "UserNotFoundException"),
        ("ENABLED", ("NotAuthorizedException", "Incorrect username or password."), None),
    ],
)
def test_unknown_users_as_prevent_user_existence_errors_says(
    pools: PoolsGateway, mode: str, initiate: tuple[str, str], forgot: str | None
) -> None:
    pool_id = pools.pool()
    client_id = pools.app_client(pool_id, PreventUserExistenceErrors=mode)["ClientId"]
    with pytest.raises(ClientError) as raised:
        pools.sign_in(client_id, "nobody@example.com")
    assert error_of(raised) == initiate
    srp = (
        pools.public.initiate_auth(
            ClientId=client_id,
            AuthFlow="USER_SRP_AUTH",
            AuthParameters={"USERNAME": "nobody@example.com", "SRP_A": "ab" * 64},
        )
        if mode == "ENABLED"
        else None
    )
    if srp is not None:
        again = pools.public.initiate_auth(
            ClientId=client_id,
            AuthFlow="USER_SRP_AUTH",
            AuthParameters={"USERNAME": "nobody@example.com", "SRP_A": "cd" * 64},
        )
        assert srp["ChallengeName"] == "PASSWORD_VERIFIER"
        assert srp["ChallengeParameters"]["SALT"] == again["ChallengeParameters"]["SALT"]
        assert (
            srp["ChallengeParameters"]["USER_ID_FOR_SRP"]
            == again["ChallengeParameters"]["USER_ID_FOR_SRP"]
        )
    if forgot is None:
        sent = pools.public.forgot_password(ClientId=client_id, Username="nobody@example.com")
        assert sent["CodeDeliveryDetails"]["DeliveryMedium"] == "EMAIL"
        assert pools.outbox() == []
    else:
        with pytest.raises(ClientError) as raised:
            pools.public.forgot_password(ClientId=client_id, Username="nobody@example.com")
        assert error_of(raised) == (forgot, "Username/client id combination not found.")


def test_delete_user_ends_its_tokens(pools: PoolsGateway) -> None:
    pool_id = pools.pool()
    client_id = pools.app_client(pool_id)["ClientId"]
    pools.confirmed_user(pool_id, client_id, "ned@example.com")
    result = pools.sign_in(client_id, "ned@example.com")["AuthenticationResult"]
    pools.public.delete_user(AccessToken=result["AccessToken"])
    with pytest.raises(ClientError) as raised:
        pools.public.get_user(AccessToken=result["AccessToken"])
    assert error_of(raised)[0] == "NotAuthorizedException"
    with pytest.raises(ClientError) as raised:
        pools.sign_in(client_id, "ned@example.com")
    assert error_of(raised)[0] == "UserNotFoundException"


def attributes_of(pools: PoolsGateway, token: str) -> dict[str, str]:
    user = pools.public.get_user(AccessToken=token)
    return {a["Name"]: a["Value"] for a in user["UserAttributes"]}


def test_a_changed_email_is_verified_with_the_code_sent_to_it(pools: PoolsGateway) -> None:
    pool_id = pools.pool()
    client_id = pools.app_client(pool_id)["ClientId"]
    pools.confirmed_user(pool_id, client_id, "kim@example.com")
    token = pools.sign_in(client_id, "kim@example.com")["AuthenticationResult"]["AccessToken"]
    changed = pools.public.update_user_attributes(
        AccessToken=token, UserAttributes=[{"Name": "email", "Value": "kim@example.org"}]
    )
    assert changed["CodeDeliveryDetailsList"] == [
        {"Destination": "k***@e***", "DeliveryMedium": "EMAIL", "AttributeName": "email"}
    ]
    assert attributes_of(pools, token)["email"] == "kim@example.org"
    assert attributes_of(pools, token)["email_verified"] == "false"
    first = pools.last_code("kim@example.org", "verify_email")
    again = pools.public.get_user_attribute_verification_code(
        AccessToken=token, AttributeName="email"
    )
    assert again["CodeDeliveryDetails"]["AttributeName"] == "email"
    code = pools.last_code("kim@example.org", "verify_email")
    replaced = [first] if first != code else []
    for wrong in [*replaced, "000000" if code != "000000" else "111111"]:
        with pytest.raises(ClientError) as raised:
            pools.public.verify_user_attribute(AccessToken=token, AttributeName="email", Code=wrong)
        assert error_of(raised)[0] == "CodeMismatchException"
    pools.public.verify_user_attribute(AccessToken=token, AttributeName="email", Code=code)
    assert attributes_of(pools, token)["email_verified"] == "true"
    with pytest.raises(ClientError) as raised:  # good once
        pools.public.verify_user_attribute(AccessToken=token, AttributeName="email", Code=code)
    assert error_of(raised)[0] == "ExpiredCodeException"
    id_token = pools.sign_in(client_id, "kim@example.org")["AuthenticationResult"]["IdToken"]
    assert claims(id_token)["email_verified"] is True


def test_an_attribute_code_verifies_only_the_address_it_went_to(pools: PoolsGateway) -> None:
    pool_id = pools.pool()
    client_id = pools.app_client(pool_id)["ClientId"]
    pools.confirmed_user(pool_id, client_id, "lou@example.com")
    token = pools.sign_in(client_id, "lou@example.com")["AuthenticationResult"]["AccessToken"]
    pools.public.update_user_attributes(
        AccessToken=token, UserAttributes=[{"Name": "email", "Value": "lou@example.org"}]
    )
    code = pools.last_code("lou@example.org", "verify_email")
    pools.admin.admin_update_user_attributes(
        UserPoolId=pool_id,
        Username="lou@example.org",
        UserAttributes=[{"Name": "email", "Value": "lou@example.net"}],
    )
    with pytest.raises(ClientError) as raised:
        pools.public.verify_user_attribute(AccessToken=token, AttributeName="email", Code=code)
    assert error_of(raised)[0] == "CodeMismatchException"
    assert attributes_of(pools, token)["email_verified"] == "false"


def test_attribute_verification_refuses_what_cannot_be_verified(pools: PoolsGateway) -> None:
    pool_id = pools.pool()
    client_id = pools.app_client(pool_id)["ClientId"]
    pools.confirmed_user(pool_id, client_id, "max@example.com")
    token = pools.sign_in(client_id, "max@example.com")["AuthenticationResult"]["AccessToken"]
    for name in ("given_name", "phone_number"):  # not verifiable; no value
        with pytest.raises(ClientError) as raised:
            pools.public.get_user_attribute_verification_code(AccessToken=token, AttributeName=name)
        assert error_of(raised)[0] == "InvalidParameterException"
    with pytest.raises(ClientError) as raised:
        pools.public.verify_user_attribute(
            AccessToken="not-a-token", AttributeName="email", Code="123456"
        )
    assert error_of(raised)[0] == "NotAuthorizedException"
