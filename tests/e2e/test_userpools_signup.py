"""Sign-up, confirmation, password sign-in, refresh, recovery and self-service through boto3's
`cognito-idp` client against a real gateway; codes are read from the outbox."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import time
from typing import Any
from urllib.parse import urlsplit

import jwt
import pytest
from botocore.exceptions import ClientError

from tests.e2e.userpools import PASSWORD, PoolsGateway, pools

__all__ = ["pools"]


def error_of(raised: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    error = raised.value.response["Error"]
    return error["Code"], error["Message"]


def claims(token: str) -> dict[str, Any]:
    decoded: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return decoded


def secret_hash(secret: str, username: str, client_id: str) -> str:
    mac = hmac.new(secret.encode(), (username + client_id).encode(), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


def test_sign_up_confirm_with_the_outbox_code_and_sign_in(pools: PoolsGateway) -> None:
    pool_id = pools.pool()
    client_id = pools.app_client(pool_id)["ClientId"]
    signed_up = pools.public.sign_up(
        ClientId=client_id,
        Username="ada@example.com",
        Password=PASSWORD,
        UserAttributes=[{"Name": "name", "Value": "Ada"}],
    )
    assert signed_up["UserConfirmed"] is False
    assert signed_up["CodeDeliveryDetails"] == {
        "Destination": "a***@e***",
        "DeliveryMedium": "EMAIL",
        "AttributeName": "email",
    }
    with pytest.raises(ClientError) as raised:
        pools.sign_in(client_id, "ada@example.com")
    assert error_of(raised) == ("UserNotConfirmedException", "User is not confirmed.")

    code = pools.last_code("ada@example.com")
    assert len(code) == 6
    assert code.isdigit()
    pools.public.confirm_sign_up(
        ClientId=client_id, Username="ada@example.com", ConfirmationCode=code
    )
    result = pools.sign_in(client_id, "ada@example.com")["AuthenticationResult"]
    assert result["TokenType"] == "Bearer"
    assert result["ExpiresIn"] == 3600
    id_claims, access_claims = claims(result["IdToken"]), claims(result["AccessToken"])
    assert id_claims["sub"] == signed_up["UserSub"]
    assert id_claims["cognito:username"] == signed_up["UserSub"]
    assert id_claims["email"] == "ada@example.com"
    assert id_claims["email_verified"] is True
    assert id_claims["name"] == "Ada"
    assert id_claims["iss"] == f"{pools.url}/{pool_id}"
    assert id_claims["aud"] == client_id
    assert access_claims["scope"] == "aws.cognito.signin.user.admin"
    assert access_claims["client_id"] == client_id
    assert id_claims["origin_jti"] == access_claims["origin_jti"]

    user = pools.public.get_user(AccessToken=result["AccessToken"])
    attributes = {a["Name"]: a["Value"] for a in user["UserAttributes"]}
    assert user["Username"] == signed_up["UserSub"]
    assert attributes["email_verified"] == "true"


def test_a_wrong_code_and_a_second_confirmation_are_refused(pools: PoolsGateway) -> None:
    pool_id = pools.pool()
    client_id = pools.app_client(pool_id)["ClientId"]
    pools.public.sign_up(ClientId=client_id, Username="bo@example.com", Password=PASSWORD)
    code = pools.last_code("bo@example.com")
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    with pytest.raises(ClientError) as raised:
        pools.public.confirm_sign_up(
            ClientId=client_id, Username="bo@example.com", ConfirmationCode=wrong
        )
    assert error_of(raised)[0] == "CodeMismatchException"
    pools.public.confirm_sign_up(
        ClientId=client_id, Username="bo@example.com", ConfirmationCode=code
    )
    with pytest.raises(ClientError) as raised:
        pools.public.confirm_sign_up(
            ClientId=client_id, Username="bo@example.com", ConfirmationCode=code
        )
    assert error_of(raised) == (
        "NotAuthorizedException",
        "User cannot be confirmed. Current status is CONFIRMED",
    )


def test_codes_expire_after_a_day(pools: PoolsGateway) -> None:
    pool_id = pools.pool()
    client_id = pools.app_client(pool_id)["ClientId"]
    pools.public.sign_up(ClientId=client_id, Username="cy@example.com", Password=PASSWORD)
    code = pools.last_code("cy@example.com")
    pools.clock.advance(24 * 3600 + 1)
    with pytest.raises(ClientError) as raised:
        pools.public.confirm_sign_up(
            ClientId=client_id, Username="cy@example.com", ConfirmationCode=code
        )
    assert error_of(raised) == (
        "ExpiredCodeException",
        "Invalid code provided, please request a code again.",
    )
    pools.public.resend_confirmation_code(ClientId=client_id, Username="cy@example.com")
    fresh = pools.last_code("cy@example.com")
    pools.public.confirm_sign_up(
        ClientId=client_id, Username="cy@example.com", ConfirmationCode=fresh
    )


def test_refresh_token_auth_keeps_the_session(pools: PoolsGateway) -> None:
    pool_id = pools.pool()
    client_id = pools.app_client(pool_id)["ClientId"]
    pools.confirmed_user(pool_id, client_id, "di@example.com")
    first = pools.sign_in(client_id, "di@example.com")["AuthenticationResult"]
    pools.clock.advance(60)
    refreshed = pools.public.initiate_auth(
        ClientId=client_id,
        AuthFlow="REFRESH_TOKEN_AUTH",
        AuthParameters={"REFRESH_TOKEN": first["RefreshToken"]},
    )
    assert refreshed["ChallengeParameters"] == {}
    result = refreshed["AuthenticationResult"]
    assert "RefreshToken" not in result
    old, new = claims(first["IdToken"]), claims(result["IdToken"])
    assert new["origin_jti"] == old["origin_jti"]
    assert new["auth_time"] == old["auth_time"]
    assert new["iat"] == old["iat"] + 60
    assert new["jti"] != old["jti"]
    with pytest.raises(ClientError) as raised:
        pools.public.initiate_auth(
            ClientId=client_id,
            AuthFlow="REFRESH_TOKEN_AUTH",
            AuthParameters={"REFRESH_TOKEN": first["RefreshToken"][:-4] + "AAAA"},
        )
    assert error_of(raised) == ("NotAuthorizedException", "Invalid Refresh Token.")


def test_a_client_with_a_secret_checks_secret_hash(pools: PoolsGateway) -> None:
    pool_id = pools.pool()
    client = pools.app_client(pool_id, GenerateSecret=True)
    client_id, secret = client["ClientId"], client["ClientSecret"]
    email = "ed@example.com"
    with pytest.raises(ClientError) as raised:
        pools.public.sign_up(ClientId=client_id, Username=email, Password=PASSWORD)
    assert error_of(raised) == (
        "NotAuthorizedException",
        f"Client {client_id} is configured with secret but SECRET_HASH was not received",
    )
    with pytest.raises(ClientError) as raised:
        pools.public.sign_up(
            ClientId=client_id,
            Username=email,
            Password=PASSWORD,
            SecretHash=secret_hash(secret, "someone@example.com", client_id),
        )
    assert error_of(raised) == (
        "NotAuthorizedException",
        f"Unable to verify secret hash for client {client_id}",
    )
    good = secret_hash(secret, email, client_id)
    pools.confirmed_user(pool_id, client_id, email, SecretHash=good)
    result = pools.sign_in(client_id, email, SECRET_HASH=good)["AuthenticationResult"]
    sub = claims(result["IdToken"])["sub"]
    refreshed = pools.public.initiate_auth(
        ClientId=client_id,
        AuthFlow="REFRESH_TOKEN_AUTH",
        AuthParameters={
            "REFRESH_TOKEN": result["RefreshToken"],
            "SECRET_HASH": secret_hash(secret, sub, client_id),
        },
    )
    assert "AccessToken" in refreshed["AuthenticationResult"]


def test_a_sign_up_whose_client_hangs_up_still_completes(pools: PoolsGateway) -> None:
    """A client gone mid-request must not cut the work short halfway through a transaction:
    the sign-up lands whole (and no database connection is left for the collector)."""
    pool_id = pools.pool()
    client_id = pools.app_client(pool_id)["ClientId"]
    body = json.dumps({"ClientId": client_id, "Username": "gone@example.com", "Password": PASSWORD})
    address = urlsplit(pools.url)
    request = (
        f"POST / HTTP/1.1\r\nHost: {address.netloc}\r\n"
        "X-Amz-Target: AWSCognitoIdentityProviderService.SignUp\r\n"
        "Content-Type: application/x-amz-json-1.1\r\n"
        f"Content-Length: {len(body)}\r\n\r\n{body}"
    )
    assert address.hostname is not None
    assert address.port is not None
    with socket.create_connection((address.hostname, address.port), timeout=5) as conn:
        conn.sendall(request.encode())
        conn.shutdown(socket.SHUT_WR)  # gone before any answer
    deadline = time.monotonic() + 10
    while True:
        try:
            user = pools.admin.admin_get_user(UserPoolId=pool_id, Username="gone@example.com")
            break
        except ClientError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    assert user["UserStatus"] == "UNCONFIRMED"
