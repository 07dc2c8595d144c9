"""The IAM operations, driven by boto3's real `iam` client over HTTP, on real services."""

from __future__ import annotations

import http.client
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from authgate.admin.context import AdminContext, Operation, Params
from authgate.wire.xml import Result
from tests.admin.conftest import ACCOUNT, ADMIN_ARN, AdminApi

DOCUMENT = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": "execute-api:Invoke",
            "Resource": "arn:aws:execute-api:us-east-1:123456789012:a1b2c3/prod/GET/pets/*",
        }
    ],
}
TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"AWS": ADMIN_ARN}, "Action": "sts:AssumeRole"}],
}


def error_of(caught: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, int]:
    response: Any = caught.value.response
    return (
        response["Error"]["Code"],
        response["Error"]["Message"],
        response["ResponseMetadata"]["HTTPStatusCode"],
    )


def recent(moment: datetime) -> bool:
    return moment.tzinfo is not None and abs(datetime.now(UTC) - moment) < timedelta(minutes=1)


def post(
    api: AdminApi, body: bytes, content_type: str = "application/x-www-form-urlencoded"
) -> tuple[int, dict[str, str], str]:
    host, port = api.url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=5)
    try:
        conn.request("POST", "/", body=body, headers={"Content-Type": content_type})
        response = conn.getresponse()
        return (
            response.status,
            {k.lower(): v for k, v in response.getheaders()},
            response.read().decode(),
        )
    finally:
        conn.close()


# Users.


def test_create_user_returns_what_iam_returns(admin_api: AdminApi) -> None:
    iam = admin_api.client("iam")
    user = iam.create_user(
        UserName="alice", Path="/division/", Tags=[{"Key": "team", "Value": "blue sky"}]
    )["User"]
    assert user["UserName"] == "alice"
    assert user["Path"] == "/division/"
    assert user["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/division/alice"
    assert re.fullmatch(r"AIDA[A-Z2-7]{17}", user["UserId"])
    assert recent(user["CreateDate"])
    assert user["Tags"] == [{"Key": "team", "Value": "blue sky"}]
    assert admin_api.checks[-1] == (
        ADMIN_ARN,
        "iam:CreateUser",
        f"arn:aws:iam::{ACCOUNT}:user/division/alice",
    )


def test_get_user_by_name_and_as_the_caller(admin_api: AdminApi) -> None:
    iam = admin_api.client("iam")
    iam.create_user(UserName="alice", Path="/division/")
    got = iam.get_user(UserName="alice")["User"]
    assert got["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/division/alice"
    assert "Tags" not in got
    # The resource is the existing user's ARN, path included.
    assert admin_api.checks[-1][1:] == ("iam:GetUser", got["Arn"])
    me = iam.get_user()["User"]
    assert me["UserName"] == "admin"
    assert me["Arn"] == ADMIN_ARN
    assert admin_api.checks[-1][1:] == ("iam:GetUser", ADMIN_ARN)


def test_list_users_pages_with_marker(admin_api: AdminApi) -> None:
    iam = admin_api.client("iam")
    for name in ("dave", "Carol", "bob", "erin"):
        iam.create_user(UserName=name, Path="/staff/")
    first = iam.list_users(PathPrefix="/staff/", MaxItems=3)
    assert [u["UserName"] for u in first["Users"]] == ["bob", "Carol", "dave"]
    assert first["IsTruncated"] is True
    rest = iam.list_users(PathPrefix="/staff/", MaxItems=3, Marker=first["Marker"])
    assert [u["UserName"] for u in rest["Users"]] == ["erin"]
    assert rest["IsTruncated"] is False
    assert "Marker" not in rest
    everyone = iam.list_users()
    assert [u["UserName"] for u in everyone["Users"]] == ["admin", "bob", "Carol", "dave", "erin"]
    assert admin_api.checks[-1][1:] == ("iam:ListUsers", f"arn:aws:iam::{ACCOUNT}:user/")
    pages = iam.get_paginator("list_users").paginate(PaginationConfig={"PageSize": 2})
    assert [len(p["Users"]) for p in pages] == [2, 2, 1]


def test_duplicate_user_is_entity_already_exists(admin_api: AdminApi) -> None:
    iam = admin_api.client("iam")
    iam.create_user(UserName="alice")
    with pytest.raises(iam.exceptions.EntityAlreadyExistsException) as caught:
        iam.create_user(UserName="alice")
    assert error_of(caught) == ("EntityAlreadyExists", "User with name alice already exists.", 409)


def test_unknown_user_is_no_such_entity(admin_api: AdminApi) -> None:
    iam = admin_api.client("iam")
    with pytest.raises(iam.exceptions.NoSuchEntityException) as caught:
        iam.get_user(UserName="nobody")
    assert error_of(caught) == ("NoSuchEntity", "The user with name nobody cannot be found.", 404)
    # Authorized against `user/NAME` before failing, as IAM does.
    assert admin_api.checks[-1][2] == f"arn:aws:iam::{ACCOUNT}:user/nobody"


def test_delete_user_conflicts_while_it_has_keys(admin_api: AdminApi) -> None:
    iam = admin_api.client("iam")
    iam.create_user(UserName="alice")
    key = iam.create_access_key(UserName="alice")["AccessKey"]
    with pytest.raises(iam.exceptions.DeleteConflictException) as caught:
        iam.delete_user(UserName="alice")
    code, message, status = error_of(caught)
    assert (code, status) == ("DeleteConflict", 409)
    assert message.startswith("Cannot delete entity, must delete access keys first")
    iam.delete_access_key(UserName="alice", AccessKeyId=key["AccessKeyId"])
    iam.delete_user(UserName="alice")
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.get_user(UserName="alice")


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"UserName": "bad name"},
            "The specified value for userName is invalid. It must contain only alphanumeric "
            "characters and/or the following: +=,.@_-",
        ),
        (
            {"UserName": "a" * 65},
            "1 validation error detected: Value at 'userName' failed to satisfy constraint: "
            "Member must have length less than or equal to 64",
        ),
        (
            {"UserName": "ok", "Path": "no-slashes"},
            "The specified value for path is invalid. It must begin and end with / and contain "
            "only alphanumeric characters and/or / characters.",
        ),
        (
            {"UserName": "ok", "Tags": [{"Key": "bad*key", "Value": "v"}]},
            "1 validation error detected: Value at 'tags.1.member.key' failed to satisfy "
            "constraint: Member must satisfy regular expression pattern: "
            "[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+",
        ),
    ],
)
def test_invalid_parameters_are_validation_errors(
    admin_api: AdminApi, params: dict[str, Any], message: str
) -> None:
    iam = admin_api.client("iam")
    with pytest.raises(ClientError) as caught:
        iam.create_user(**params)
    assert error_of(caught) == ("ValidationError", message, 400)
    if "Tags" not in params:  # what names the resource is checked before authorization
        assert admin_api.checks == []


def test_duplicate_tag_keys_are_invalid_input(admin_api: AdminApi) -> None:
    iam = admin_api.client("iam")
    with pytest.raises(iam.exceptions.InvalidInputException) as caught:
        iam.create_user(UserName="x", Tags=[{"Key": "k", "Value": "1"}, {"Key": "K", "Value": "2"}])
    assert error_of(caught)[1] == (
        "Duplicate tag keys found. Please note that Tag keys are case insensitive."
    )


def test_permissions_boundary_is_refused_not_ignored(admin_api: AdminApi) -> None:
    iam = admin_api.client("iam")
    with pytest.raises(iam.exceptions.InvalidInputException):
        iam.create_user(UserName="x", PermissionsBoundary=f"arn:aws:iam::{ACCOUNT}:policy/boundary")


def test_paging_parameters_are_checked(admin_api: AdminApi) -> None:
    iam = admin_api.client("iam", validate=False)
    with pytest.raises(ClientError) as caught:
        iam.list_users(Marker="%%% not a marker")
    assert error_of(caught) == ("ValidationError", "Invalid Marker.", 400)
    for items, rule in ((0, "greater than or equal to 1"), (1001, "less than or equal to 1000")):
        with pytest.raises(ClientError) as bad:
            iam.list_users(MaxItems=items)
        assert error_of(bad) == (
            "ValidationError",
            f"1 validation error detected: Value '{items}' at 'maxItems' failed to satisfy "
            f"constraint: Member must have value {rule}",
            400,
        )


def test_a_marker_survives_deletions_before_it(admin_api: AdminApi) -> None:
    iam = admin_api.client("iam")
    for name in ("u1", "u2", "u3", "u4"):
        iam.create_user(UserName=name)
    first = iam.list_users(MaxItems=3)  # admin, u1, u2
    iam.delete_user(UserName="u1")
    rest = iam.list_users(Marker=first["Marker"])
    assert [u["UserName"] for u in rest["Users"]] == ["u3", "u4"]


# Access keys.


def test_access_key_lifecycle(admin_api: AdminApi) -> None:
    iam = admin_api.client("iam")
    iam.create_user(UserName="alice")
    key = iam.create_access_key(UserName="alice")["AccessKey"]
    assert re.fullmatch(r"AKIA[A-Z0-9]{16}", key["AccessKeyId"])
    assert len(key["SecretAccessKey"]) == 40
    assert key["Status"] == "Active"
    assert key["UserName"] == "alice"
    assert recent(key["CreateDate"])
    listed = iam.list_access_keys(UserName="alice")["AccessKeyMetadata"]
    assert [(k["AccessKeyId"], k["Status"]) for k in listed] == [(key["AccessKeyId"], "Active")]
    assert "SecretAccessKey" not in listed[0]
    iam.update_access_key(UserName="alice", AccessKeyId=key["AccessKeyId"], Status="Inactive")
    listed = iam.list_access_keys(UserName="alice")["AccessKeyMetadata"]
    assert listed[0]["Status"] == "Inactive"
    iam.create_access_key(UserName="alice")
    with pytest.raises(iam.exceptions.LimitExceededException) as caught:
        iam.create_access_key(UserName="alice")
    assert error_of(caught)[2] == 409
    with pytest.raises(iam.exceptions.NoSuchEntityException) as missing:
        iam.delete_access_key(UserName="alice", AccessKeyId="AKIAAAAAAAAAAAAAAAAA")
    assert error_of(missing)[1] == "The Access Key with id AKIAAAAAAAAAAAAAAAAA cannot be found."


def test_new_key_works_and_keys_default_to_the_caller(admin_api: AdminApi) -> None:
    iam = admin_api.client("iam")
    own = iam.create_access_key()["AccessKey"]
    assert own["UserName"] == "admin"
    assert admin_api.checks[-1][1:] == ("iam:CreateAccessKey", ADMIN_ARN)
    iam.create_user(UserName="alice")
    key = iam.create_access_key(UserName="alice")["AccessKey"]
    as_alice = admin_api.client("iam", key["AccessKeyId"], key["SecretAccessKey"])
    assert as_alice.get_user()["User"]["UserName"] == "alice"
    mine = as_alice.list_access_keys()["AccessKeyMetadata"]
    assert [k["AccessKeyId"] for k in mine] == [key["AccessKeyId"]]


def test_bad_status_is_a_validation_error(admin_api: AdminApi) -> None:
    iam = admin_api.client("iam")
    with pytest.raises(ClientError) as caught:
        iam.update_access_key(AccessKeyId="AKIAAAAAAAAAAAAAAAAA", Status="Expired")
    code, message, status = error_of(caught)
    assert (code, status) == ("ValidationError", 400)
    assert "Member must satisfy enum value set: [Active, Inactive]" in message


# Groups.


def test_groups_and_membership(admin_api: AdminApi) -> None:
    iam = admin_api.client("iam")
    iam.create_user(UserName="alice")
    group = iam.create_group(GroupName="devs", Path="/eng/")["Group"]
    assert group["Arn"] == f"arn:aws:iam::{ACCOUNT}:group/eng/devs"
    assert re.fullmatch(r"AGPA[A-Z2-7]{17}", group["GroupId"])
    iam.add_user_to_group(GroupName="devs", UserName="alice")
    assert admin_api.checks[-1][1:] == ("iam:AddUserToGroup", group["Arn"])
    got = iam.get_group(GroupName="devs")
    assert got["Group"]["GroupName"] == "devs"
    assert [u["UserName"] for u in got["Users"]] == ["alice"]
    assert got["IsTruncated"] is False
    assert [g["GroupName"] for g in iam.list_groups_for_user(UserName="alice")["Groups"]] == [
        "devs"
    ]
    iam.remove_user_from_group(GroupName="devs", UserName="alice")
    assert iam.get_group(GroupName="devs")["Users"] == []
    with pytest.raises(iam.exceptions.NoSuchEntityException) as caught:
        iam.get_group(GroupName="nope")
    assert error_of(caught)[1] == "The group with name nope cannot be found."


# Inline policies.


def test_user_inline_policies(admin_api: AdminApi) -> None:
    iam = admin_api.client("iam")
    iam.create_user(UserName="alice")
    iam.put_user_policy(UserName="alice", PolicyName="invoke", PolicyDocument=json.dumps(DOCUMENT))
    got = iam.get_user_policy(UserName="alice", PolicyName="invoke")
    assert got["UserName"] == "alice"
    assert got["PolicyName"] == "invoke"
    assert got["PolicyDocument"] == DOCUMENT  # sent percent-encoded, decoded by botocore
    assert iam.list_user_policies(UserName="alice")["PolicyNames"] == ["invoke"]
    iam.delete_user_policy(UserName="alice", PolicyName="invoke")
    assert iam.list_user_policies(UserName="alice")["PolicyNames"] == []
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.get_user_policy(UserName="alice", PolicyName="invoke")


def test_group_and_role_inline_policies(admin_api: AdminApi) -> None:
    iam = admin_api.client("iam")
    iam.create_group(GroupName="devs")
    iam.put_group_policy(GroupName="devs", PolicyName="p", PolicyDocument=json.dumps(DOCUMENT))
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=json.dumps(TRUST))
    iam.put_role_policy(RoleName="r", PolicyName="p", PolicyDocument=json.dumps(DOCUMENT))
    got = iam.get_role_policy(RoleName="r", PolicyName="p")
    assert (got["RoleName"], got["PolicyDocument"]) == ("r", DOCUMENT)
    assert admin_api.checks[-1][1:] == ("iam:GetRolePolicy", f"arn:aws:iam::{ACCOUNT}:role/r")


def test_malformed_policy_document(admin_api: AdminApi) -> None:
    iam = admin_api.client("iam")
    iam.create_user(UserName="alice")
    with pytest.raises(iam.exceptions.MalformedPolicyDocumentException) as caught:
        iam.put_user_policy(UserName="alice", PolicyName="p", PolicyDocument="{not json")
    assert error_of(caught)[2] == 400


# Managed policies.


def test_managed_policy_lifecycle(admin_api: AdminApi) -> None:
    iam = admin_api.client("iam")
    iam.create_user(UserName="alice")
    created = iam.create_policy(
        PolicyName="invoke",
        Path="/team/",
        PolicyDocument=json.dumps(DOCUMENT),
        Description="Invoke the pets API",
    )["Policy"]
    arn = f"arn:aws:iam::{ACCOUNT}:policy/team/invoke"
    assert created["Arn"] == arn
    assert re.fullmatch(r"ANPA[A-Z2-7]{17}", created["PolicyId"])
    assert created["DefaultVersionId"] == "v1"
    assert created["IsAttachable"] is True
    assert created["AttachmentCount"] == 0
    assert admin_api.checks[-1][1:] == ("iam:CreatePolicy", arn)
    iam.attach_user_policy(UserName="alice", PolicyArn=arn)
    assert admin_api.checks[-1][1:] == (
        "iam:AttachUserPolicy",
        f"arn:aws:iam::{ACCOUNT}:user/alice",
    )
    got = iam.get_policy(PolicyArn=arn)["Policy"]
    assert got["AttachmentCount"] == 1
    assert got["Description"] == "Invoke the pets API"
    attached = iam.list_attached_user_policies(UserName="alice")
    assert attached["AttachedPolicies"] == [{"PolicyName": "invoke", "PolicyArn": arn}]
    assert [p["Arn"] for p in iam.list_policies(Scope="Local", OnlyAttached=True)["Policies"]] == [
        arn
    ]
    assert iam.list_policies(Scope="AWS")["Policies"] == []
    assert admin_api.checks[-1][1:] == ("iam:ListPolicies", "*")
    iam.detach_user_policy(UserName="alice", PolicyArn=arn)
    assert iam.list_attached_user_policies(UserName="alice")["AttachedPolicies"] == []
    assert iam.list_policies(OnlyAttached=True)["Policies"] == []
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.detach_user_policy(UserName="alice", PolicyArn=arn)


def test_attach_to_groups_and_roles(admin_api: AdminApi) -> None:
    iam = admin_api.client("iam")
    arn = iam.create_policy(PolicyName="p", PolicyDocument=json.dumps(DOCUMENT))["Policy"]["Arn"]
    iam.create_group(GroupName="devs")
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=json.dumps(TRUST))
    iam.attach_group_policy(GroupName="devs", PolicyArn=arn)
    iam.attach_role_policy(RoleName="r", PolicyArn=arn)
    assert iam.get_policy(PolicyArn=arn)["Policy"]["AttachmentCount"] == 2
    iam.detach_group_policy(GroupName="devs", PolicyArn=arn)
    iam.detach_role_policy(RoleName="r", PolicyArn=arn)
    assert iam.get_policy(PolicyArn=arn)["Policy"]["AttachmentCount"] == 0
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.attach_role_policy(RoleName="r", PolicyArn=f"arn:aws:iam::{ACCOUNT}:policy/none")


# Roles.


def test_role_and_policy_tags_are_refused_not_dropped(admin_api: AdminApi) -> None:
    iam = admin_api.client("iam")
    tags = [{"Key": "team", "Value": "blue"}]
    with pytest.raises(iam.exceptions.InvalidInputException):
        iam.create_role(RoleName="r", AssumeRolePolicyDocument=json.dumps(TRUST), Tags=tags)
    with pytest.raises(iam.exceptions.InvalidInputException):
        iam.create_policy(PolicyName="p", PolicyDocument=json.dumps(DOCUMENT), Tags=tags)


def test_role_lifecycle(admin_api: AdminApi) -> None:
    iam = admin_api.client("iam")
    role = iam.create_role(
        RoleName="deployer",
        Path="/ci/",
        AssumeRolePolicyDocument=json.dumps(TRUST),
        Description="CI deploys",
        MaxSessionDuration=7200,
    )["Role"]
    assert role["Arn"] == f"arn:aws:iam::{ACCOUNT}:role/ci/deployer"
    assert re.fullmatch(r"AROA[A-Z2-7]{17}", role["RoleId"])
    assert role["AssumeRolePolicyDocument"] == TRUST
    got = iam.get_role(RoleName="deployer")["Role"]
    assert got["Description"] == "CI deploys"
    assert got["MaxSessionDuration"] == 7200
    assert recent(got["CreateDate"])
    assert [r["RoleName"] for r in iam.list_roles(PathPrefix="/ci/")["Roles"]] == ["deployer"]
    assert admin_api.checks[-1][1:] == ("iam:ListRoles", f"arn:aws:iam::{ACCOUNT}:role/ci/")
    iam.delete_role(RoleName="deployer")
    with pytest.raises(iam.exceptions.NoSuchEntityException) as caught:
        iam.get_role(RoleName="deployer")
    assert error_of(caught)[1] == "The role with name deployer cannot be found."


def test_max_session_duration_out_of_range(admin_api: AdminApi) -> None:
    iam = admin_api.client("iam")
    with pytest.raises(ClientError) as caught:
        iam.create_role(
            RoleName="r", AssumeRolePolicyDocument=json.dumps(TRUST), MaxSessionDuration=50_000
        )
    assert error_of(caught) == (
        "ValidationError",
        "1 validation error detected: Value '50000' at 'maxSessionDuration' failed to satisfy "
        "constraint: Member must have value less than or equal to 43200",
        400,
    )


# Authorization and the envelope.


def test_denied_call_is_access_denied_and_has_no_effect(admin_api: AdminApi) -> None:
    iam = admin_api.client("iam")
    admin_api.deny["iam:CreateUser"] = False
    with pytest.raises(ClientError) as caught:
        iam.create_user(UserName="bob")
    assert error_of(caught) == (
        "AccessDenied",
        f"User: {ADMIN_ARN} is not authorized to perform: iam:CreateUser on resource: "
        f"arn:aws:iam::{ACCOUNT}:user/bob",
        403,
    )
    admin_api.deny["iam:CreateUser"] = "with an explicit deny in an identity-based policy"
    with pytest.raises(ClientError) as again:
        iam.create_user(UserName="bob")
    assert error_of(again)[1].endswith(
        "on resource: arn:aws:iam::123456789012:user/bob with an explicit deny in an "
        "identity-based policy"
    )
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.get_user(UserName="bob")


def test_failed_authentication_answers_with_its_error(admin_api: AdminApi) -> None:
    admin_api.rejected_keys.add("AKIAREJECTED000000000")
    iam = admin_api.client("iam", "AKIAREJECTED000000000")
    with pytest.raises(ClientError) as caught:
        iam.list_users()
    assert error_of(caught) == (
        "InvalidClientTokenId",
        "The security token included in the request is invalid.",
        403,
    )
    assert admin_api.checks == []


def test_an_added_operation_is_served(admin_api: AdminApi) -> None:
    async def ping(ctx: AdminContext, params: Params) -> Result:
        return {"Pong": params.get("Say", ""), "Caller": ctx.caller.arn}

    async def anywhere(ctx: AdminContext, params: Params) -> str:
        return "*"

    admin_api.extra["Ping"] = Operation(ping, "iam:Ping", anywhere)
    status, _, body = post(admin_api, b"Action=Ping&Version=2010-05-08&Say=a+%3C+b")
    assert status == 200
    assert f"<PingResult><Pong>a &lt; b</Pong><Caller>{ADMIN_ARN}</Caller></PingResult>" in body
    assert admin_api.checks[-1] == (ADMIN_ARN, "iam:Ping", "*")


def test_unexpected_failure_is_a_bare_500(admin_api: AdminApi) -> None:
    iam = admin_api.client("iam")
    admin_api.fail.add("iam:ListUsers")
    with pytest.raises(iam.exceptions.ServiceFailureException) as caught:
        iam.list_users()
    code, message, status = error_of(caught)
    assert (code, status) == ("ServiceFailure", 500)
    assert message == (
        "The request processing has failed because of an unknown error, exception or failure."
    )
    assert "secret" not in str(caught.value.response)


def test_request_id_is_in_header_and_body(admin_api: AdminApi) -> None:
    status, headers, body = post(admin_api, b"Action=ListUsers&Version=2010-05-08")
    assert status == 200
    assert headers["content-type"] == "text/xml"
    request_id = headers["x-amzn-requestid"]
    assert re.fullmatch(r"[0-9a-f-]{36}", request_id)
    assert f"<RequestId>{request_id}</RequestId>" in body
    assert body.startswith('<ListUsersResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">')


@pytest.mark.parametrize(
    ("body", "code", "message"),
    [
        (
            b"Action=CreateBucket&Version=2010-05-08",
            "InvalidAction",
            "Could not find operation CreateBucket for version 2010-05-08",
        ),
        (
            b"Action=ListUsers&Version=2011-06-15",
            "InvalidAction",
            "Could not find operation ListUsers for version 2011-06-15",
        ),
        (b"Action=ListUsers", "InvalidAction", "Could not find operation ListUsers for version "),
        (b"Version=2010-05-08", "MissingAction", "Missing Action"),
        (
            b"Action=ListUsers&Action=ListRoles",
            "MalformedQueryString",
            "Parameter Action is given more than once.",
        ),
    ],
)
def test_requests_boto3_cannot_send(
    admin_api: AdminApi, body: bytes, code: str, message: str
) -> None:
    status, _, text = post(admin_api, body)
    assert status == 400
    assert f"<Code>{code}</Code>" in text
    assert f"<Message>{message}</Message>" in text
    assert "<Type>Sender</Type>" in text


def test_oversized_body_is_413(admin_api: AdminApi) -> None:
    body = b"Action=ListUsers&Version=2010-05-08&Pad=" + b"a" * 1_100_000
    status, _, text = post(admin_api, body)
    assert status == 413
    assert "<Code>RequestEntityTooLarge</Code>" in text
