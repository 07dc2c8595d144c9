"""The signed side of cognito-idp through boto3: pools, clients, resource servers, groups and
Admin* operations, each SigV4-verified and authorized by the gateway's IAM."""

from __future__ import annotations

import configparser
import json
from typing import Any

import boto3
import httpx
import pytest
from botocore.exceptions import ClientError

from tests.e2e.test_userpools_signup import claims, error_of
from tests.e2e.userpools import NO_RETRIES, PASSWORD, PoolsGateway, pools

__all__ = ["pools"]


def test_pool_crud(pools: PoolsGateway) -> None:
    created = pools.admin.create_user_pool(
        PoolName="shop",
        Policies={"PasswordPolicy": {"MinimumLength": 10, "RequireSymbols": False}},
        UsernameAttributes=["email"],
        AutoVerifiedAttributes=["email"],
        UserPoolTags={"team": "a"},
    )["UserPool"]
    pool_id = created["Id"]
    assert pool_id.startswith("us-east-1_")
    assert len(pool_id.split("_")[1]) == 9
    assert created["Arn"] == f"arn:aws:cognito-idp:us-east-1:123456789012:userpool/{pool_id}"
    policy = created["Policies"]["PasswordPolicy"]
    assert policy["MinimumLength"] == 10
    assert policy["RequireSymbols"] is False
    assert policy["RequireUppercase"] is True
    assert created["MfaConfiguration"] == "OFF"
    assert {"Name": "email", "AttributeDataType": "String"}.items() <= next(
        a for a in created["SchemaAttributes"] if a["Name"] == "email"
    ).items()
    described = pools.admin.describe_user_pool(UserPoolId=pool_id)["UserPool"]
    assert described["Name"] == "shop"
    assert described["UserPoolTags"] == {"team": "a"}
    assert described["EstimatedNumberOfUsers"] == 0

    pools.admin.update_user_pool(UserPoolId=pool_id, MfaConfiguration="OPTIONAL")
    updated = pools.admin.describe_user_pool(UserPoolId=pool_id)["UserPool"]
    assert updated["MfaConfiguration"] == "OPTIONAL"
    assert updated["UsernameAttributes"] == ["email"]
    assert updated["Policies"]["PasswordPolicy"]["MinimumLength"] == 8  # reset to the default

    second = pools.pool()
    first_page = pools.admin.list_user_pools(MaxResults=1)
    rest = pools.admin.list_user_pools(MaxResults=60, NextToken=first_page["NextToken"])
    listed = [p["Id"] for p in first_page["UserPools"] + rest["UserPools"]]
    assert sorted(listed) == sorted([pool_id, second])
    assert "NextToken" not in rest

    pools.admin.delete_user_pool(UserPoolId=pool_id)
    with pytest.raises(ClientError) as raised:
        pools.admin.describe_user_pool(UserPoolId=pool_id)
    assert error_of(raised) == ("ResourceNotFoundException", f"User pool {pool_id} does not exist.")


def test_deletion_protection_and_refused_settings(pools: PoolsGateway) -> None:
    pool_id = pools.pool(DeletionProtection="ACTIVE")
    with pytest.raises(ClientError) as raised:
        pools.admin.delete_user_pool(UserPoolId=pool_id)
    assert error_of(raised)[0] == "InvalidParameterException"
    with pytest.raises(ClientError) as raised:
        pools.admin.create_user_pool(
            PoolName="x", LambdaConfig={"PreSignUp": "arn:aws:lambda:us-east-1:1:function:f"}
        )
    assert "LambdaConfig" in error_of(raised)[1]
    with pytest.raises(ClientError) as raised:
        pools.admin.create_user_pool(
            PoolName="x", UsernameAttributes=["email"], AliasAttributes=["email"]
        )
    assert error_of(raised)[0] == "InvalidParameterException"


def test_clients_with_and_without_secret(pools: PoolsGateway) -> None:
    pool_id = pools.pool()
    public = pools.admin.create_user_pool_client(UserPoolId=pool_id, ClientName="web")
    client = public["UserPoolClient"]
    assert len(client["ClientId"]) == 26
    assert "ClientSecret" not in client
    assert client["ExplicitAuthFlows"] == [
        "ALLOW_REFRESH_TOKEN_AUTH",
        "ALLOW_USER_SRP_AUTH",
        "ALLOW_CUSTOM_AUTH",
    ]
    assert client["RefreshTokenValidity"] == 30
    assert client["EnableTokenRevocation"] is True
    confidential = pools.admin.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName="server",
        GenerateSecret=True,
        AccessTokenValidity=15,
        TokenValidityUnits={"AccessToken": "minutes"},
        AllowedOAuthFlows=["code"],
        AllowedOAuthScopes=["openid", "email"],
        CallbackURLs=["https://app.example.com/callback"],
        AllowedOAuthFlowsUserPoolClient=True,
    )["UserPoolClient"]
    assert len(confidential["ClientSecret"]) >= 24
    described = pools.admin.describe_user_pool_client(
        UserPoolId=pool_id, ClientId=confidential["ClientId"]
    )["UserPoolClient"]
    assert described["ClientSecret"] == confidential["ClientSecret"]
    assert described["CallbackURLs"] == ["https://app.example.com/callback"]
    listed = pools.admin.list_user_pool_clients(UserPoolId=pool_id, MaxResults=60)
    assert {c["ClientName"] for c in listed["UserPoolClients"]} == {"web", "server"}
    pools.admin.update_user_pool_client(
        UserPoolId=pool_id,
        ClientId=client["ClientId"],
        ClientName="web2",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"],
    )
    updated = pools.admin.describe_user_pool_client(
        UserPoolId=pool_id, ClientId=client["ClientId"]
    )["UserPoolClient"]
    assert updated["ClientName"] == "web2"
    assert updated["ExplicitAuthFlows"] == ["ALLOW_USER_PASSWORD_AUTH"]
    with pytest.raises(ClientError) as raised:
        pools.public.initiate_auth(
            ClientId=client["ClientId"],
            AuthFlow="REFRESH_TOKEN_AUTH",
            AuthParameters={"REFRESH_TOKEN": "x"},
        )
    assert error_of(raised) == (
        "InvalidParameterException",
        "REFRESH_TOKEN_AUTH flow not enabled for this client",
    )
    pools.admin.delete_user_pool_client(UserPoolId=pool_id, ClientId=client["ClientId"])
    with pytest.raises(ClientError) as raised:
        pools.admin.describe_user_pool_client(UserPoolId=pool_id, ClientId=client["ClientId"])
    assert error_of(raised)[0] == "ResourceNotFoundException"


def test_access_token_lifetime_follows_the_client(pools: PoolsGateway) -> None:
    pool_id = pools.pool()
    client_id = pools.app_client(
        pool_id, AccessTokenValidity=15, TokenValidityUnits={"AccessToken": "minutes"}
    )["ClientId"]
    pools.confirmed_user(pool_id, client_id, "t@example.com")
    result = pools.sign_in(client_id, "t@example.com")["AuthenticationResult"]
    assert result["ExpiresIn"] == 900
    access = claims(result["AccessToken"])
    assert access["exp"] - access["iat"] == 900


def test_resource_servers_and_mfa_config(pools: PoolsGateway) -> None:
    pool_id = pools.pool()
    server = pools.admin.create_resource_server(
        UserPoolId=pool_id,
        Identifier="https://api.example.com",
        Name="api",
        Scopes=[{"ScopeName": "read", "ScopeDescription": "Read things"}],
    )["ResourceServer"]
    assert server["Scopes"] == [{"ScopeName": "read", "ScopeDescription": "Read things"}]
    with pytest.raises(ClientError) as raised:
        pools.admin.create_resource_server(
            UserPoolId=pool_id, Identifier="https://api.example.com", Name="again"
        )
    assert error_of(raised)[0] == "InvalidParameterException"
    answered = pools.admin.set_user_pool_mfa_config(
        UserPoolId=pool_id,
        SoftwareTokenMfaConfiguration={"Enabled": True},
        MfaConfiguration="ON",
    )
    assert answered["MfaConfiguration"] == "ON"
    assert answered["SoftwareTokenMfaConfiguration"] == {"Enabled": True}
    with pytest.raises(ClientError) as raised:
        pools.admin.set_user_pool_mfa_config(
            UserPoolId=pool_id, SmsMfaConfiguration={"SmsAuthenticationMessage": "{####}"}
        )
    assert error_of(raised)[0] == "InvalidParameterException"


def test_admin_create_user_then_new_password_required(pools: PoolsGateway) -> None:
    pool_id = pools.pool()
    client_id = pools.app_client(pool_id)["ClientId"]
    user = pools.admin.admin_create_user(
        UserPoolId=pool_id,
        Username="olga@example.com",
        UserAttributes=[{"Name": "email_verified", "Value": "true"}],
        DesiredDeliveryMediums=["EMAIL"],
    )["User"]
    assert user["UserStatus"] == "FORCE_CHANGE_PASSWORD"
    assert user["Enabled"] is True
    invitation = pools.outbox()[-1]
    assert invitation["purpose"] == "invitation"
    assert "olga@example.com" in invitation["message"]
    temporary = invitation["code"]
    challenge = pools.sign_in(client_id, "olga@example.com", temporary)
    assert challenge["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
    assert challenge["ChallengeParameters"]["USER_ID_FOR_SRP"] == user["Username"]
    assert json.loads(challenge["ChallengeParameters"]["requiredAttributes"]) == []
    with pytest.raises(ClientError) as raised:
        pools.public.respond_to_auth_challenge(
            ClientId=client_id,
            ChallengeName="NEW_PASSWORD_REQUIRED",
            Session=challenge["Session"],
            ChallengeResponses={"USERNAME": "olga@example.com", "NEW_PASSWORD": "weak"},
        )
    assert error_of(raised)[0] == "InvalidPasswordException"
    second = pools.sign_in(client_id, "olga@example.com", temporary)
    done = pools.public.respond_to_auth_challenge(
        ClientId=client_id,
        ChallengeName="NEW_PASSWORD_REQUIRED",
        Session=second["Session"],
        ChallengeResponses={
            "USERNAME": "olga@example.com",
            "NEW_PASSWORD": PASSWORD,
            "userAttributes.name": "Olga",
        },
    )
    assert claims(done["AuthenticationResult"]["IdToken"])["name"] == "Olga"
    with pytest.raises(ClientError) as raised:  # a Session is good once
        pools.public.respond_to_auth_challenge(
            ClientId=client_id,
            ChallengeName="NEW_PASSWORD_REQUIRED",
            Session=second["Session"],
            ChallengeResponses={"USERNAME": "olga@example.com", "NEW_PASSWORD": PASSWORD},
        )
    assert error_of(raised)[0] == "NotAuthorizedException"
    got = pools.admin.admin_get_user(UserPoolId=pool_id, Username="olga@example.com")
    assert got["UserStatus"] == "CONFIRMED"


def test_temporary_passwords_expire(pools: PoolsGateway) -> None:
    pool_id = pools.pool(Policies={"PasswordPolicy": {"TemporaryPasswordValidityDays": 1}})
    client_id = pools.app_client(pool_id)["ClientId"]
    pools.admin.admin_create_user(
        UserPoolId=pool_id,
        Username="pat@example.com",
        TemporaryPassword="Temp-pass-123",
        MessageAction="SUPPRESS",
    )
    assert pools.outbox() == []
    pools.clock.advance(86400 + 1)
    with pytest.raises(ClientError) as raised:
        pools.sign_in(client_id, "pat@example.com", "Temp-pass-123")
    assert error_of(raised) == (
        "NotAuthorizedException",
        "Temporary password has expired and must be reset by an administrator.",
    )


def test_admin_user_operations(pools: PoolsGateway) -> None:
    pool_id = pools.pool()
    client_id = pools.app_client(pool_id)["ClientId"]
    sub = pools.confirmed_user(pool_id, client_id, "quinn@example.com")
    tokens = pools.sign_in(client_id, "quinn@example.com")["AuthenticationResult"]

    pools.admin.admin_update_user_attributes(
        UserPoolId=pool_id,
        Username="quinn@example.com",
        UserAttributes=[{"Name": "family_name", "Value": "Q"}],
    )
    got = pools.admin.admin_get_user(UserPoolId=pool_id, Username=sub)
    attributes = {a["Name"]: a["Value"] for a in got["UserAttributes"]}
    assert attributes["family_name"] == "Q"
    assert attributes["sub"] == sub
    assert got["Enabled"] is True

    pools.admin.admin_disable_user(UserPoolId=pool_id, Username=sub)
    with pytest.raises(ClientError) as raised:
        pools.sign_in(client_id, "quinn@example.com")
    assert error_of(raised) == ("NotAuthorizedException", "User is disabled.")
    with pytest.raises(ClientError) as raised:
        pools.public.get_user(AccessToken=tokens["AccessToken"])
    assert error_of(raised) == ("NotAuthorizedException", "User is disabled.")
    pools.admin.admin_enable_user(UserPoolId=pool_id, Username=sub)
    assert pools.public.get_user(AccessToken=tokens["AccessToken"])["Username"] == sub

    pools.admin.admin_set_user_password(
        UserPoolId=pool_id, Username=sub, Password="Another-pass-8", Permanent=True
    )
    admin_auth = pools.admin.admin_initiate_auth(
        UserPoolId=pool_id,
        ClientId=client_id,
        AuthFlow="ADMIN_NO_SRP_AUTH",
        AuthParameters={"USERNAME": "quinn@example.com", "PASSWORD": "Another-pass-8"},
    )
    assert claims(admin_auth["AuthenticationResult"]["AccessToken"])["username"] == sub

    pools.admin.admin_user_global_sign_out(UserPoolId=pool_id, Username=sub)
    with pytest.raises(ClientError) as raised:
        pools.public.get_user(AccessToken=admin_auth["AuthenticationResult"]["AccessToken"])
    assert error_of(raised)[1] == "Access Token has been revoked"

    pools.admin.admin_reset_user_password(UserPoolId=pool_id, Username=sub)
    with pytest.raises(ClientError) as raised:
        pools.sign_in(client_id, "quinn@example.com", "Another-pass-8")
    assert error_of(raised)[0] == "PasswordResetRequiredException"
    code = pools.last_code("quinn@example.com", "forgot_password")
    pools.public.confirm_forgot_password(
        ClientId=client_id, Username="quinn@example.com", ConfirmationCode=code, Password=PASSWORD
    )
    assert "AuthenticationResult" in pools.sign_in(client_id, "quinn@example.com")

    pools.admin.admin_delete_user(UserPoolId=pool_id, Username=sub)
    with pytest.raises(ClientError) as raised:
        pools.admin.admin_get_user(UserPoolId=pool_id, Username=sub)
    assert error_of(raised) == ("UserNotFoundException", "User does not exist.")


def test_admin_confirm_sign_up(pools: PoolsGateway) -> None:
    pool_id = pools.pool()
    client_id = pools.app_client(pool_id)["ClientId"]
    pools.public.sign_up(ClientId=client_id, Username="ray@example.com", Password=PASSWORD)
    pools.admin.admin_confirm_sign_up(UserPoolId=pool_id, Username="ray@example.com")
    assert "AuthenticationResult" in pools.sign_in(client_id, "ray@example.com")


def test_list_users_with_a_filter_and_pages(pools: PoolsGateway) -> None:
    pool_id = pools.pool()
    for name in ("sam", "sue", "tom"):
        pools.admin.admin_create_user(
            UserPoolId=pool_id,
            Username=f"{name}@example.com",
            TemporaryPassword="Temp-pass-123",
            MessageAction="SUPPRESS",
            UserAttributes=[{"Name": "given_name", "Value": name.title()}],
        )
    exact = pools.admin.list_users(UserPoolId=pool_id, Filter='email = "sue@example.com"')
    assert exact["Users"][0]["Attributes"][0]["Name"] == "sub"
    assert len(exact["Users"]) == 1
    prefix = pools.admin.list_users(UserPoolId=pool_id, Filter='given_name ^= "S"')
    assert len(prefix["Users"]) == 2
    status = pools.admin.list_users(
        UserPoolId=pool_id, Filter='cognito:user_status = "force_change_password"'
    )
    assert len(status["Users"]) == 3
    first = pools.admin.list_users(UserPoolId=pool_id, Limit=2, AttributesToGet=["email"])
    assert len(first["Users"]) == 2
    assert all([a["Name"] for a in u["Attributes"]] == ["email"] for u in first["Users"])
    rest = pools.admin.list_users(
        UserPoolId=pool_id, Limit=2, PaginationToken=first["PaginationToken"]
    )
    assert len(rest["Users"]) == 1
    assert "PaginationToken" not in rest
    with pytest.raises(ClientError) as raised:
        pools.admin.list_users(UserPoolId=pool_id, Filter="custom:x = 1")
    assert error_of(raised)[0] == "InvalidParameterException"


def test_signed_operations_need_a_signature_and_a_permission(pools: PoolsGateway) -> None:
    pool_id = pools.pool()
    response = httpx.post(
        pools.url,
        headers={
            "x-amz-target": "AWSCognitoIdentityProviderService.ListUsers",
            "content-type": "application/x-amz-json-1.1",
        },
        content=json.dumps({"UserPoolId": pool_id}),
    )
    assert response.status_code == 400
    assert response.json()["__type"] == "MissingAuthenticationTokenException"

    profile = configparser.ConfigParser()
    profile.read(pools.data_dir / "credentials")
    iam = boto3.client(
        "iam",
        endpoint_url=pools.url,
        region_name="us-east-1",
        aws_access_key_id=profile["default"]["aws_access_key_id"],
        aws_secret_access_key=profile["default"]["aws_secret_access_key"],
        config=NO_RETRIES,
    )
    iam.create_user(UserName="reader")
    key = iam.create_access_key(UserName="reader")["AccessKey"]
    reader = pools.client(key["AccessKeyId"], key["SecretAccessKey"])
    arn = f"arn:aws:cognito-idp:us-east-1:123456789012:userpool/{pool_id}"
    with pytest.raises(ClientError) as raised:
        reader.describe_user_pool(UserPoolId=pool_id)
    assert error_of(raised) == (
        "AccessDeniedException",
        "User: arn:aws:iam::123456789012:user/reader is not authorized to perform: "
        f"cognito-idp:DescribeUserPool on resource: {arn}",
    )
    policy: dict[str, Any] = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "cognito-idp:Describe*", "Resource": arn}],
    }
    iam.put_user_policy(UserName="reader", PolicyName="describe", PolicyDocument=json.dumps(policy))
    assert reader.describe_user_pool(UserPoolId=pool_id)["UserPool"]["Id"] == pool_id
    with pytest.raises(ClientError) as raised:
        reader.list_users(UserPoolId=pool_id)
    assert error_of(raised)[0] == "AccessDeniedException"
    with pytest.raises(ClientError) as raised:
        reader.create_user_pool(PoolName="x")
    assert error_of(raised)[1].endswith("cognito-idp:CreateUserPool on resource: *")
