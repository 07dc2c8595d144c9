"""The STS operations of the management API: AssumeRole, GetSessionToken, GetCallerIdentity.

None of them is authorized before its handler runs. GetCallerIdentity and GetSessionToken are
never subject to policies in AWS (a Deny does not stop them). AssumeRole is decided by the STS
service in full: a trust policy that names the caller needs no identity permission, so a
pre-check of `sts:AssumeRole` against identity policies alone would refuse what AWS allows.
"""

from __future__ import annotations

from typing import Final

from authgate.admin import validate as v
from authgate.admin.context import AdminContext, Operation, Params
from authgate.iam.model import TemporaryCredentials
from authgate.wire.xml import Result, XmlValue, timestamp

MAX_SESSION_POLICY: Final = 2048
"""AWS's limit on an inline session policy (plain text)."""


def credentials_shape(credentials: TemporaryCredentials) -> dict[str, XmlValue]:
    return {
        "AccessKeyId": credentials.access_key_id,
        "SecretAccessKey": credentials.secret,
        "SessionToken": credentials.session_token,
        "Expiration": timestamp(credentials.expiration),
    }


async def assume_role(ctx: AdminContext, params: Params) -> Result:
    role_arn = v.arn(params, "RoleArn")
    session = v.session_name(params)
    duration = v.integer(params, "DurationSeconds", 900, 43_200, 3600)
    policy = None
    if params.get("Policy") is not None:
        policy = v.length(v.document(params, "Policy"), "Policy", 1, MAX_SESSION_POLICY)
    v.refuse(params, "PolicyArns", "Tags", "TransitiveTagKeys")
    known = ctx.credential
    credentials, assumed = await ctx.sts.assume_role(
        ctx.caller,
        role_arn,
        session,
        duration,
        policy,
        identity_policies=None if known is None else known.policies,
    )
    return {
        "Credentials": credentials_shape(credentials),
        "AssumedRoleUser": {"AssumedRoleId": assumed.user_id, "Arn": assumed.arn},
    }


async def get_session_token(ctx: AdminContext, params: Params) -> Result:
    duration = v.integer(params, "DurationSeconds", 900, 129_600, 43_200)
    known = ctx.credential
    temporary = known is not None and known.session_token_sha256 is not None
    credentials = await ctx.sts.get_session_token(ctx.caller, duration, temporary=temporary)
    return {"Credentials": credentials_shape(credentials)}


async def get_caller_identity(ctx: AdminContext, params: Params) -> Result:
    caller = ctx.caller
    return {"UserId": caller.user_id, "Account": caller.account, "Arn": caller.arn}


async def unauthorized(ctx: AdminContext, params: Params) -> None:
    return None


OPERATIONS: Final[dict[str, Operation]] = {
    "AssumeRole": Operation(assume_role, "sts:AssumeRole", unauthorized),
    "GetSessionToken": Operation(get_session_token, "sts:GetSessionToken", unauthorized),
    "GetCallerIdentity": Operation(get_caller_identity, "sts:GetCallerIdentity", unauthorized),
}
