"""Real client libraries against the gateway's user pools: pycognito's SRP sign-in and token
checks, PyJWT's PyJWKClient from the discovery document, and pyotp codes for TOTP MFA."""

from __future__ import annotations

import json
from typing import Any

import httpx
import jwt
import pyotp
import pytest
from botocore.exceptions import ClientError
from pycognito import Cognito
from pycognito.exceptions import SoftwareTokenMFAChallengeException

from tests.e2e.test_userpools_signup import claims, error_of, secret_hash
from tests.e2e.userpools import PASSWORD, PoolsGateway, pools

__all__ = ["pools"]


def cognito(
    pools: PoolsGateway, pool_id: str, client_id: str, username: str, **extra: Any
) -> Cognito:
    return Cognito(
        pool_id,
        client_id,
        username=username,
        boto3_client_kwargs={"endpoint_url": pools.url},
        **extra,
    )


def test_pycognito_srp_sign_in_verifies_our_tokens_against_our_jwks(pools: PoolsGateway) -> None:
    pool_id = pools.pool()
    client_id = pools.app_client(pool_id)["ClientId"]
    sub = pools.confirmed_user(pool_id, client_id, "una@example.com")
    user = cognito(pools, pool_id, client_id, "una@example.com")
    user.authenticate(password=PASSWORD)  # SRP, then verify_token on both tokens
    assert user.id_claims["sub"] == sub
    assert user.access_claims["username"] == sub
    user.check_token(renew=False)
    user.renew_access_token()
    assert user.access_claims["origin_jti"] == user.id_claims["origin_jti"]
    wrong = cognito(pools, pool_id, client_id, "una@example.com")
    with pytest.raises(ClientError) as raised:
        wrong.authenticate(password="Not-her-pass-1")
    assert error_of(raised) == ("NotAuthorizedException", "Incorrect username or password.")


def test_pycognito_with_a_client_secret_and_a_new_password(pools: PoolsGateway) -> None:
    pool_id = pools.pool()
    client = pools.app_client(pool_id, GenerateSecret=True)
    client_id, secret = client["ClientId"], client["ClientSecret"]
    pools.admin.admin_create_user(
        UserPoolId=pool_id,
        Username="vic@example.com",
        TemporaryPassword="Temp-pass-123",
        MessageAction="SUPPRESS",
    )
    user = cognito(pools, pool_id, client_id, "vic@example.com", client_secret=secret)
    user.new_password_challenge("Temp-pass-123", PASSWORD)
    assert user.id_claims["email"] == "vic@example.com"
    again = cognito(pools, pool_id, client_id, "vic@example.com", client_secret=secret)
    again.authenticate(password=PASSWORD)
    again.renew_access_token()  # SECRET_HASH of the typed name, token of the UUID user
    assert again.access_claims["client_id"] == client_id
    assert secret_hash(secret, "vic@example.com", client_id)


def test_pyjwt_verifies_tokens_from_the_discovery_document(pools: PoolsGateway) -> None:
    pool_id = pools.pool()
    client_id = pools.app_client(pool_id)["ClientId"]
    pools.confirmed_user(pool_id, client_id, "wes@example.com")
    tokens = pools.sign_in(client_id, "wes@example.com")["AuthenticationResult"]
    issuer = f"{pools.url}/{pool_id}"
    document = httpx.get(f"{issuer}/.well-known/openid-configuration").json()
    assert document["issuer"] == issuer
    assert document["jwks_uri"] == f"{issuer}/.well-known/jwks.json"
    assert document["id_token_signing_alg_values_supported"] == ["RS256"]
    keys = jwt.PyJWKClient(document["jwks_uri"])
    id_key = keys.get_signing_key_from_jwt(tokens["IdToken"])
    access_key = keys.get_signing_key_from_jwt(tokens["AccessToken"])
    assert id_key.key_id != access_key.key_id  # Cognito signs the two with different keys
    decoded = jwt.decode(
        tokens["IdToken"], id_key.key, algorithms=["RS256"], audience=client_id, issuer=issuer
    )
    assert decoded["token_use"] == "id"
    access = jwt.decode(tokens["AccessToken"], access_key.key, algorithms=["RS256"], issuer=issuer)
    assert access["token_use"] == "access"
    jwks = httpx.get(document["jwks_uri"]).json()
    assert sorted(k["kid"] for k in jwks["keys"]) == sorted([id_key.key_id, access_key.key_id])
    assert all(k["alg"] == "RS256" and k["use"] == "sig" for k in jwks["keys"])
    assert httpx.get(f"{pools.url}/us-east-1_NoSuchPool/.well-known/jwks.json").status_code == 403


def test_rotated_keys_stay_published_until_their_tokens_expire(pools: PoolsGateway) -> None:
    pool_id = pools.pool()
    client_id = pools.app_client(pool_id)["ClientId"]
    pools.confirmed_user(pool_id, client_id, "xia@example.com")
    old = pools.sign_in(client_id, "xia@example.com")["AuthenticationResult"]["IdToken"]
    app = pools.gateway.app
    pools.run(app.user_pools.pools.rotate_keys(pool_id))
    new = pools.sign_in(client_id, "xia@example.com")["AuthenticationResult"]["IdToken"]
    old_kid, new_kid = (jwt.get_unverified_header(t)["kid"] for t in (old, new))
    assert old_kid != new_kid
    url = f"{pools.url}/{pool_id}/.well-known/jwks.json"
    assert {old_kid, new_kid} <= {k["kid"] for k in httpx.get(url).json()["keys"]}
    pools.clock.advance(86400 + 301)
    pools.run(app.user_pools.keys.load(pool_id))
    published = {k["kid"] for k in httpx.get(url).json()["keys"]}
    assert old_kid not in published
    assert new_kid in published


def totp_setup(pools: PoolsGateway, client_id: str, email: str) -> tuple[pyotp.TOTP, str]:
    """Enrol a signed-in user; returns their authenticator and the code that verified it."""
    access = pools.sign_in(client_id, email)["AuthenticationResult"]["AccessToken"]
    secret = pools.public.associate_software_token(AccessToken=access)["SecretCode"]
    assert len(secret) >= 16
    authenticator = pyotp.TOTP(secret)
    code = authenticator.at(pools.clock.now())
    verified = pools.public.verify_software_token(
        AccessToken=access, UserCode=code, FriendlyDeviceName=""
    )
    assert verified["Status"] == "SUCCESS"
    pools.public.set_user_mfa_preference(
        AccessToken=access,
        SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True},
    )
    user = pools.public.get_user(AccessToken=access)
    assert user["UserMFASettingList"] == ["SOFTWARE_TOKEN_MFA"]
    assert user["PreferredMfaSetting"] == "SOFTWARE_TOKEN_MFA"
    return authenticator, code


def test_software_token_mfa_with_pyotp_and_no_code_twice(pools: PoolsGateway) -> None:
    pool_id = pools.pool(MfaConfiguration="OPTIONAL")
    client_id = pools.app_client(pool_id)["ClientId"]
    pools.confirmed_user(pool_id, client_id, "yan@example.com")
    authenticator, used = totp_setup(pools, client_id, "yan@example.com")

    challenge = pools.sign_in(client_id, "yan@example.com")
    assert challenge["ChallengeName"] == "SOFTWARE_TOKEN_MFA"
    assert "AuthenticationResult" not in challenge
    with pytest.raises(ClientError) as raised:  # the code that verified the seed is spent
        pools.public.respond_to_auth_challenge(
            ClientId=client_id,
            ChallengeName="SOFTWARE_TOKEN_MFA",
            Session=challenge["Session"],
            ChallengeResponses={"USERNAME": "yan@example.com", "SOFTWARE_TOKEN_MFA_CODE": used},
        )
    assert error_of(raised) == ("CodeMismatchException", "Invalid code received for user")

    pools.clock.advance(30)
    code = authenticator.at(pools.clock.now())
    challenge = pools.sign_in(client_id, "yan@example.com")
    done = pools.public.respond_to_auth_challenge(
        ClientId=client_id,
        ChallengeName="SOFTWARE_TOKEN_MFA",
        Session=challenge["Session"],
        ChallengeResponses={"USERNAME": "yan@example.com", "SOFTWARE_TOKEN_MFA_CODE": code},
    )
    assert claims(done["AuthenticationResult"]["IdToken"])["email"] == "yan@example.com"
    replay = pools.sign_in(client_id, "yan@example.com")
    with pytest.raises(ClientError) as raised:
        pools.public.respond_to_auth_challenge(
            ClientId=client_id,
            ChallengeName="SOFTWARE_TOKEN_MFA",
            Session=replay["Session"],
            ChallengeResponses={"USERNAME": "yan@example.com", "SOFTWARE_TOKEN_MFA_CODE": code},
        )
    assert error_of(raised)[0] == "CodeMismatchException"


def test_pycognito_meets_the_mfa_challenge_after_srp(pools: PoolsGateway) -> None:
    pool_id = pools.pool(MfaConfiguration="OPTIONAL")
    client_id = pools.app_client(pool_id)["ClientId"]
    pools.confirmed_user(pool_id, client_id, "zed@example.com")
    authenticator, _ = totp_setup(pools, client_id, "zed@example.com")
    pools.clock.advance(30)
    user = cognito(pools, pool_id, client_id, "zed@example.com")
    with pytest.raises(SoftwareTokenMFAChallengeException) as raised:
        user.authenticate(password=PASSWORD)
    user.respond_to_software_token_mfa_challenge(
        authenticator.at(pools.clock.now()), raised.value.get_tokens()
    )
    assert user.id_claims["email"] == "zed@example.com"


def test_mfa_setup_when_the_pool_requires_mfa(pools: PoolsGateway) -> None:
    pool_id = pools.pool(MfaConfiguration="ON")
    client_id = pools.app_client(pool_id)["ClientId"]
    pools.confirmed_user(pool_id, client_id, "amy@example.com")
    challenge = pools.sign_in(client_id, "amy@example.com")
    assert challenge["ChallengeName"] == "MFA_SETUP"
    assert json.loads(challenge["ChallengeParameters"]["MFAS_CAN_SETUP"]) == ["SOFTWARE_TOKEN_MFA"]
    associated = pools.public.associate_software_token(Session=challenge["Session"])
    code = pyotp.TOTP(associated["SecretCode"]).at(pools.clock.now())
    with pytest.raises(ClientError) as raised:  # an unverified seed does not finish the setup
        pools.public.respond_to_auth_challenge(
            ClientId=client_id,
            ChallengeName="MFA_SETUP",
            Session=associated["Session"],
            ChallengeResponses={"USERNAME": "amy@example.com"},
        )
    assert error_of(raised)[0] == "NotAuthorizedException"
    again = pools.sign_in(client_id, "amy@example.com")
    associated = pools.public.associate_software_token(Session=again["Session"])
    authenticator = pyotp.TOTP(associated["SecretCode"])
    code = authenticator.at(pools.clock.now())
    verified = pools.public.verify_software_token(
        Session=associated["Session"], UserCode=code, FriendlyDeviceName="phone"
    )
    assert verified["Status"] == "SUCCESS"
    done = pools.public.respond_to_auth_challenge(
        ClientId=client_id,
        ChallengeName="MFA_SETUP",
        Session=verified["Session"],
        ChallengeResponses={"USERNAME": "amy@example.com"},
    )
    assert "AccessToken" in done["AuthenticationResult"]
    pools.clock.advance(30)
    challenge = pools.sign_in(client_id, "amy@example.com")
    assert challenge["ChallengeName"] == "SOFTWARE_TOKEN_MFA"
    finished = pools.public.respond_to_auth_challenge(
        ClientId=client_id,
        ChallengeName="SOFTWARE_TOKEN_MFA",
        Session=challenge["Session"],
        ChallengeResponses={
            "USERNAME": "amy@example.com",
            "SOFTWARE_TOKEN_MFA_CODE": authenticator.at(pools.clock.now()),
        },
    )
    assert "IdToken" in finished["AuthenticationResult"]
