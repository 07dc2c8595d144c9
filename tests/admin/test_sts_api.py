"""The STS operations, driven by boto3's real `sts` client over HTTP, on real services."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.admin.conftest import ACCOUNT, ADMIN_ARN, AdminApi


def trust(principal: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sts:AssumeRole"}
            ],
        }
    )


def error_of(caught: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, int]:
    response: Any = caught.value.response
    return (
        response["Error"]["Code"],
        response["Error"]["Message"],
        response["ResponseMetadata"]["HTTPStatusCode"],
    )


def make_role(
    api: AdminApi, name: str = "deployer", principal: str = ADMIN_ARN, **extra: Any
) -> str:
    role = api.client("iam").create_role(
        RoleName=name, AssumeRolePolicyDocument=trust(principal), **extra
    )["Role"]
    return str(role["Arn"])


def test_get_caller_identity_is_never_authorized(admin_api: AdminApi) -> None:
    identity = admin_api.client("sts").get_caller_identity()
    assert identity["Arn"] == ADMIN_ARN
    assert identity["Account"] == ACCOUNT
    assert re.fullmatch(r"AIDA[A-Z2-7]{17}", identity["UserId"])
    assert admin_api.checks == []


def test_assume_role_returns_credentials_and_the_assumed_role_user(admin_api: AdminApi) -> None:
    role_arn = make_role(admin_api)
    sts = admin_api.client("sts")
    before = datetime.now(UTC)
    answer = sts.assume_role(RoleArn=role_arn, RoleSessionName="ci-run", DurationSeconds=900)
    credentials = answer["Credentials"]
    assert re.fullmatch(r"ASIA[A-Z0-9]{16}", credentials["AccessKeyId"])
    assert len(credentials["SecretAccessKey"]) == 40
    assert credentials["SessionToken"].startswith("IQoJb3JpZ2luX2Vj")
    expiration = credentials["Expiration"]
    assert before + timedelta(seconds=895) <= expiration <= before + timedelta(seconds=905)
    user = answer["AssumedRoleUser"]
    assert user["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/deployer/ci-run"
    assert re.fullmatch(r"AROA[A-Z2-7]{17}:ci-run", user["AssumedRoleId"])
    # The service decides AssumeRole in full (trust and identity policies together).
    assert all(action != "sts:AssumeRole" for _, action, _ in admin_api.checks)

    as_role = admin_api.client(
        "sts",
        credentials["AccessKeyId"],
        credentials["SecretAccessKey"],
        credentials["SessionToken"],
    )
    identity = as_role.get_caller_identity()
    assert identity["Arn"] == user["Arn"]
    assert identity["UserId"] == user["AssumedRoleId"]


def test_assume_role_refused_by_the_trust_policy(admin_api: AdminApi) -> None:
    role_arn = make_role(admin_api, principal=f"arn:aws:iam::{ACCOUNT}:user/someone-else")
    sts = admin_api.client("sts")
    with pytest.raises(ClientError) as caught:
        sts.assume_role(RoleArn=role_arn, RoleSessionName="s1")
    assert error_of(caught) == (
        "AccessDenied",
        f"User: {ADMIN_ARN} is not authorized to perform: sts:AssumeRole on resource: {role_arn}",
        403,
    )


def test_assume_role_of_a_missing_role_is_access_denied(admin_api: AdminApi) -> None:
    sts = admin_api.client("sts")
    with pytest.raises(ClientError) as caught:
        sts.assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT}:role/none", RoleSessionName="s1")
    assert error_of(caught)[0::2] == ("AccessDenied", 403)


def test_assume_role_longer_than_the_role_allows(admin_api: AdminApi) -> None:
    role_arn = make_role(admin_api)
    sts = admin_api.client("sts")
    with pytest.raises(ClientError) as caught:
        sts.assume_role(RoleArn=role_arn, RoleSessionName="s1", DurationSeconds=7200)
    assert error_of(caught) == (
        "ValidationError",
        "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
        400,
    )


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"RoleSessionName": "bad name"},
            "1 validation error detected: Value at 'roleSessionName' failed to satisfy "
            "constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*",
        ),
        (
            {"RoleSessionName": "ok", "DurationSeconds": 60},
            "1 validation error detected: Value '60' at 'durationSeconds' failed to satisfy "
            "constraint: Member must have value greater than or equal to 900",
        ),
    ],
)
def test_invalid_assume_role_parameters(
    admin_api: AdminApi, params: dict[str, Any], message: str
) -> None:
    sts = admin_api.client("sts", validate=False)
    with pytest.raises(ClientError) as caught:
        sts.assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT}:role/r", **params)
    assert error_of(caught) == ("ValidationError", message, 400)


def test_session_tags_are_refused_not_ignored(admin_api: AdminApi) -> None:
    role_arn = make_role(admin_api)
    sts = admin_api.client("sts")
    with pytest.raises(ClientError) as caught:
        sts.assume_role(
            RoleArn=role_arn, RoleSessionName="s1", Tags=[{"Key": "team", "Value": "blue"}]
        )
    assert error_of(caught)[0::2] == ("InvalidInput", 400)


def test_get_session_token_for_a_user_not_for_a_session(admin_api: AdminApi) -> None:
    sts = admin_api.client("sts")
    credentials = sts.get_session_token(DurationSeconds=900)["Credentials"]
    assert re.fullmatch(r"ASIA[A-Z0-9]{16}", credentials["AccessKeyId"])
    assert credentials["Expiration"] > datetime.now(UTC)
    assert admin_api.checks == []
    with_session = admin_api.client(
        "sts",
        credentials["AccessKeyId"],
        credentials["SecretAccessKey"],
        credentials["SessionToken"],
    )
    with pytest.raises(ClientError) as caught:
        with_session.get_session_token()
    assert error_of(caught) == (
        "AccessDenied",
        "Cannot call GetSessionToken with session credentials",
        403,
    )


def test_sts_errors_use_the_sts_envelope(admin_api: AdminApi) -> None:
    admin_api.fail.add("sts:AssumeRole")  # not consulted: AssumeRole is not pre-authorized
    sts = admin_api.client("sts")
    with pytest.raises(ClientError) as caught:
        sts.assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT}:role/none", RoleSessionName="s1")
    assert error_of(caught)[0] == "AccessDenied"
    raw = caught.value.response
    assert (
        raw["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"]
        == raw["ResponseMetadata"]["RequestId"]
    )
