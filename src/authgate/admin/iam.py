"""The IAM operations of the management API: one small function each, and their table.

A handler validates its parameters as IAM does, calls `IamService` and returns the result
structure of the botocore output shape. A resource function gives the ARN IAM authorizes the
call against; for an existing entity it carries the entity's real path, as IAM's does.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Final
from urllib.parse import quote

from authgate.admin import validate as v
from authgate.admin.context import AdminContext, Operation, Params, ResourceOf
from authgate.admin.paging import page
from authgate.iam.errors import NoSuchEntity, ValidationError
from authgate.iam.model import (
    AccessKey,
    Group,
    KeyStatus,
    ManagedPolicy,
    PrincipalKind,
    Role,
    User,
)
from authgate.wire.xml import Result, XmlValue, timestamp

USER, GROUP, ROLE = PrincipalKind.USER, PrincipalKind.GROUP, PrincipalKind.ROLE

# Longest names per the model: an existing user may be named with up to 128 characters in
# some operations, while new users, and users in attach/detach calls, are limited to 64.
EXISTING_USER: Final = 128
NEW_USER: Final = 64
GROUP_NAME: Final = 128
ROLE_NAME: Final = 64
POLICY_NAME: Final = 128


# Result shapes.


def policy_text(document: str) -> str:
    """IAM returns policy documents percent-encoded; botocore decodes them back to JSON."""
    return quote(document, safe="")


def user_shape(user: User, *, with_tags: bool = True) -> dict[str, XmlValue]:
    tags = [{"Key": k, "Value": val} for k, val in user.tags] if with_tags and user.tags else None
    return {
        "Path": user.path,
        "UserName": user.name,
        "UserId": user.id,
        "Arn": user.arn,
        "CreateDate": timestamp(user.created),
        "Tags": tags,
    }


def group_shape(group: Group) -> dict[str, XmlValue]:
    return {
        "Path": group.path,
        "GroupName": group.name,
        "GroupId": group.id,
        "Arn": group.arn,
        "CreateDate": timestamp(group.created),
    }


def role_shape(role: Role) -> dict[str, XmlValue]:
    return {
        "Path": role.path,
        "RoleName": role.name,
        "RoleId": role.id,
        "Arn": role.arn,
        "CreateDate": timestamp(role.created),
        "AssumeRolePolicyDocument": policy_text(role.trust_policy),
        "Description": role.description or None,
        "MaxSessionDuration": role.max_session_duration,
    }


def policy_shape(policy: ManagedPolicy, description: str = "") -> dict[str, XmlValue]:
    return {
        "PolicyName": policy.name,
        "PolicyId": policy.id,
        "Arn": policy.arn,
        "Path": policy.path,
        "DefaultVersionId": policy.default_version_id,
        "AttachmentCount": policy.attachment_count,
        "PermissionsBoundaryUsageCount": 0,
        "IsAttachable": True,
        "Description": description or None,
        "CreateDate": timestamp(policy.created),
        "UpdateDate": timestamp(policy.created),
    }


def key_shape(key: AccessKey) -> dict[str, XmlValue]:
    return {
        "UserName": key.user_name,
        "AccessKeyId": key.id,
        "Status": key.status.value,
        "CreateDate": timestamp(key.created),
    }


# Users.


def caller_user_name(ctx: AdminContext, params: Params) -> str:
    """`UserName`, or the calling user when it is absent (IAM's rule for the caller's own
    user and keys)."""
    given = v.optional_name(params, "UserName", EXISTING_USER)
    if given is not None:
        return given
    if ctx.caller.kind != "IAMUser":
        raise ValidationError("Must specify userName when calling with non-User credentials")
    return ctx.caller.name


async def create_user(ctx: AdminContext, params: Params) -> Result:
    name = v.name(params, "UserName", NEW_USER)
    path = v.path(params)
    tags = v.tags(params)
    v.refuse(params, "PermissionsBoundary")
    user = await ctx.iam.create_user(name, path, tags)
    return {"User": user_shape(user)}


async def get_user(ctx: AdminContext, params: Params) -> Result:
    user = await ctx.iam.get_user(caller_user_name(ctx, params))
    return {"User": user_shape(user)}


async def list_users(ctx: AdminContext, params: Params) -> Result:
    users = await ctx.iam.list_users(v.path_prefix(params))
    chosen, paging = page(users, lambda u: u.name, params)
    return {"Users": [user_shape(u, with_tags=False) for u in chosen], **paging}


async def delete_user(ctx: AdminContext, params: Params) -> None:
    await ctx.iam.delete_user(v.name(params, "UserName", EXISTING_USER))


# Access keys.


async def create_access_key(ctx: AdminContext, params: Params) -> Result:
    new = await ctx.iam.create_access_key(caller_user_name(ctx, params))
    key = new.key
    return {
        "AccessKey": {
            "UserName": key.user_name,
            "AccessKeyId": key.id,
            "Status": key.status.value,
            "SecretAccessKey": new.secret,
            "CreateDate": timestamp(key.created),
        }
    }


async def list_access_keys(ctx: AdminContext, params: Params) -> Result:
    keys = await ctx.iam.list_access_keys(caller_user_name(ctx, params))
    chosen, paging = page(keys, lambda k: k.id, params)
    return {"AccessKeyMetadata": [key_shape(k) for k in chosen], **paging}


async def update_access_key(ctx: AdminContext, params: Params) -> None:
    key_id = v.access_key_id(params)
    status = v.choice(params, "Status", (KeyStatus.ACTIVE, KeyStatus.INACTIVE), None)
    user = caller_user_name(ctx, params)
    await ctx.iam.update_access_key(user, key_id, KeyStatus(status))


async def delete_access_key(ctx: AdminContext, params: Params) -> None:
    key_id = v.access_key_id(params)
    await ctx.iam.delete_access_key(caller_user_name(ctx, params), key_id)


# Groups.


async def create_group(ctx: AdminContext, params: Params) -> Result:
    group = await ctx.iam.create_group(v.name(params, "GroupName", GROUP_NAME), v.path(params))
    return {"Group": group_shape(group)}


async def get_group(ctx: AdminContext, params: Params) -> Result:
    group, members = await ctx.iam.get_group(v.name(params, "GroupName", GROUP_NAME))
    chosen, paging = page(members, lambda u: u.name, params)
    return {
        "Group": group_shape(group),
        "Users": [user_shape(u, with_tags=False) for u in chosen],
        **paging,
    }


async def add_user_to_group(ctx: AdminContext, params: Params) -> None:
    group = v.name(params, "GroupName", GROUP_NAME)
    await ctx.iam.add_user_to_group(group, v.name(params, "UserName", EXISTING_USER))


async def remove_user_from_group(ctx: AdminContext, params: Params) -> None:
    group = v.name(params, "GroupName", GROUP_NAME)
    await ctx.iam.remove_user_from_group(group, v.name(params, "UserName", EXISTING_USER))


async def list_groups_for_user(ctx: AdminContext, params: Params) -> Result:
    groups = await ctx.iam.list_groups_for_user(v.name(params, "UserName", EXISTING_USER))
    chosen, paging = page(groups, lambda g: g.name, params)
    return {"Groups": [group_shape(g) for g in chosen], **paging}


# Inline policies.

_OWNER: Final = {
    USER: ("UserName", EXISTING_USER),
    GROUP: ("GroupName", GROUP_NAME),
    ROLE: ("RoleName", ROLE_NAME),
}


def _owner(kind: PrincipalKind, params: Params, high: int | None = None) -> tuple[str, str]:
    param, longest = _OWNER[kind]
    return param, v.name(params, param, high or longest)


def _put_inline(kind: PrincipalKind) -> Callable[[AdminContext, Params], Awaitable[None]]:
    async def put(ctx: AdminContext, params: Params) -> None:
        _, owner = _owner(kind, params)
        policy = v.name(params, "PolicyName", POLICY_NAME)
        document = v.document(params, "PolicyDocument")
        await ctx.iam.put_inline_policy(kind, owner, policy, document)

    return put


def _get_inline(kind: PrincipalKind) -> Callable[[AdminContext, Params], Awaitable[Result]]:
    async def get(ctx: AdminContext, params: Params) -> Result:
        param, owner = _owner(kind, params)
        policy = v.name(params, "PolicyName", POLICY_NAME)
        found = await ctx.iam.get_inline_policy(kind, owner, policy)
        return {
            param: found.owner,
            "PolicyName": found.name,
            "PolicyDocument": policy_text(found.document),
        }

    return get


async def list_user_policies(ctx: AdminContext, params: Params) -> Result:
    _, owner = _owner(USER, params)
    names = await ctx.iam.list_inline_policies(USER, owner)
    chosen, paging = page(names, lambda n: n, params)
    return {"PolicyNames": list(chosen), **paging}


async def delete_user_policy(ctx: AdminContext, params: Params) -> None:
    _, owner = _owner(USER, params)
    policy = v.name(params, "PolicyName", POLICY_NAME)
    await ctx.iam.delete_inline_policy(USER, owner, policy)


# Managed policies.


async def create_policy(ctx: AdminContext, params: Params) -> Result:
    name = v.name(params, "PolicyName", POLICY_NAME)
    path = v.path(params, policy=True)
    document = v.document(params, "PolicyDocument")
    description = v.description(params)
    v.refuse(params, "Tags")
    policy = await ctx.iam.create_policy(name, document, path, description)
    return {"Policy": policy_shape(policy, description)}


async def get_policy(ctx: AdminContext, params: Params) -> Result:
    arn = v.arn(params, "PolicyArn")
    policy = await ctx.iam.get_policy(arn)
    return {"Policy": policy_shape(policy, await ctx.iam.get_policy_description(arn))}


async def list_policies(ctx: AdminContext, params: Params) -> Result:
    scope = v.choice(params, "Scope", ("All", "AWS", "Local"), "All")
    only_attached = v.boolean(params, "OnlyAttached")
    prefix = v.path_prefix(params, policy=True)
    usage = v.choice(
        params,
        "PolicyUsageFilter",
        ("PermissionsPolicy", "PermissionsBoundary"),
        "PermissionsPolicy",
    )
    policies = [] if scope == "AWS" else await ctx.iam.list_policies(prefix)
    kept = [
        p
        for p in policies
        if not (only_attached and (p.attachment_count == 0 or usage == "PermissionsBoundary"))
    ]
    chosen, paging = page(kept, lambda p: p.name, params)
    return {"Policies": [policy_shape(p) for p in chosen], **paging}


def _attach(kind: PrincipalKind) -> Callable[[AdminContext, Params], Awaitable[None]]:
    async def attach(ctx: AdminContext, params: Params) -> None:
        _, owner = _owner(kind, params, NEW_USER if kind is USER else None)
        await ctx.iam.attach_policy(kind, owner, v.arn(params, "PolicyArn"))

    return attach


def _detach(kind: PrincipalKind) -> Callable[[AdminContext, Params], Awaitable[None]]:
    async def detach(ctx: AdminContext, params: Params) -> None:
        _, owner = _owner(kind, params, NEW_USER if kind is USER else None)
        await ctx.iam.detach_policy(kind, owner, v.arn(params, "PolicyArn"))

    return detach


async def list_attached_user_policies(ctx: AdminContext, params: Params) -> Result:
    owner = v.name(params, "UserName", NEW_USER)
    prefix = v.path_prefix(params, policy=True)
    attached = await ctx.iam.list_attached_policies(USER, owner)
    kept = [p for p in attached if p.path.startswith(prefix)]
    chosen, paging = page(kept, lambda p: p.name, params)
    return {
        "AttachedPolicies": [{"PolicyName": p.name, "PolicyArn": p.arn} for p in chosen],
        **paging,
    }


# Roles.


async def create_role(ctx: AdminContext, params: Params) -> Result:
    name = v.name(params, "RoleName", ROLE_NAME)
    path = v.path(params)
    trust = v.document(params, "AssumeRolePolicyDocument")
    description = v.description(params)
    duration = v.integer(params, "MaxSessionDuration", 3600, 43_200, 3600)
    v.refuse(params, "PermissionsBoundary", "Tags")
    role = await ctx.iam.create_role(name, trust, path, description, duration)
    return {"Role": role_shape(role)}


async def get_role(ctx: AdminContext, params: Params) -> Result:
    role = await ctx.iam.get_role(v.name(params, "RoleName", ROLE_NAME))
    return {"Role": role_shape(role)}


async def list_roles(ctx: AdminContext, params: Params) -> Result:
    roles = await ctx.iam.list_roles(v.path_prefix(params))
    chosen, paging = page(roles, lambda r: r.name, params)
    return {"Roles": [role_shape(r) for r in chosen], **paging}


async def delete_role(ctx: AdminContext, params: Params) -> None:
    await ctx.iam.delete_role(v.name(params, "RoleName", ROLE_NAME))


# Resources IAM authorizes each call against.


def _arn(ctx: AdminContext, kind: str, path: str, name: str) -> str:
    return f"arn:aws:iam::{ctx.account_id}:{kind}{path}{name}"


async def existing_arn(ctx: AdminContext, kind: PrincipalKind, name: str) -> str:
    """The ARN of the named user, group or role, with its path; with `/` when it does not
    exist (the call then fails after authorization, as IAM's does)."""
    try:
        if kind is USER:
            return (await ctx.iam.get_user(name)).arn
        if kind is GROUP:
            return (await ctx.iam.get_group(name))[0].arn
        return (await ctx.iam.get_role(name)).arn
    except NoSuchEntity:
        return _arn(ctx, kind.value, "/", name)


def existing(kind: PrincipalKind, param: str, high: int) -> ResourceOf:
    async def resource(ctx: AdminContext, params: Params) -> str:
        return await existing_arn(ctx, kind, v.name(params, param, high))

    return resource


def created(kind: str, param: str, high: int, *, policy: bool = False) -> ResourceOf:
    """The ARN an entity being created will have."""

    async def resource(ctx: AdminContext, params: Params) -> str:
        return _arn(ctx, kind, v.path(params, policy=policy), v.name(params, param, high))

    return resource


def listed(kind: str) -> ResourceOf:
    """List calls are authorized against `…:user/PREFIX` (IAM names this in its denials)."""

    async def resource(ctx: AdminContext, params: Params) -> str:
        return _arn(ctx, kind, v.path_prefix(params), "")

    return resource


async def user_or_caller(ctx: AdminContext, params: Params) -> str:
    """The named user, or the caller itself (whatever kind of principal it is)."""
    if params.get("UserName") is None:
        return ctx.caller.arn
    return await existing_arn(ctx, USER, v.name(params, "UserName", EXISTING_USER))


async def policy_arn(ctx: AdminContext, params: Params) -> str:
    return v.arn(params, "PolicyArn")


async def anything(ctx: AdminContext, params: Params) -> str:
    return "*"


def _op(
    handler: Callable[[AdminContext, Params], Awaitable[Result | None]],
    action: str,
    resource: ResourceOf,
) -> Operation:
    return Operation(handler, f"iam:{action}", resource)


_USER = existing(USER, "UserName", EXISTING_USER)
_USER64 = existing(USER, "UserName", NEW_USER)
_GROUP = existing(GROUP, "GroupName", GROUP_NAME)
_ROLE = existing(ROLE, "RoleName", ROLE_NAME)

OPERATIONS: Final[dict[str, Operation]] = {
    "CreateUser": _op(create_user, "CreateUser", created("user", "UserName", NEW_USER)),
    "GetUser": _op(get_user, "GetUser", user_or_caller),
    "ListUsers": _op(list_users, "ListUsers", listed("user")),
    "DeleteUser": _op(delete_user, "DeleteUser", _USER),
    "CreateAccessKey": _op(create_access_key, "CreateAccessKey", user_or_caller),
    "ListAccessKeys": _op(list_access_keys, "ListAccessKeys", user_or_caller),
    "UpdateAccessKey": _op(update_access_key, "UpdateAccessKey", user_or_caller),
    "DeleteAccessKey": _op(delete_access_key, "DeleteAccessKey", user_or_caller),
    "CreateGroup": _op(create_group, "CreateGroup", created("group", "GroupName", GROUP_NAME)),
    "GetGroup": _op(get_group, "GetGroup", _GROUP),
    "AddUserToGroup": _op(add_user_to_group, "AddUserToGroup", _GROUP),
    "RemoveUserFromGroup": _op(remove_user_from_group, "RemoveUserFromGroup", _GROUP),
    "ListGroupsForUser": _op(list_groups_for_user, "ListGroupsForUser", _USER),
    "PutUserPolicy": _op(_put_inline(USER), "PutUserPolicy", _USER),
    "PutGroupPolicy": _op(_put_inline(GROUP), "PutGroupPolicy", _GROUP),
    "PutRolePolicy": _op(_put_inline(ROLE), "PutRolePolicy", _ROLE),
    "GetUserPolicy": _op(_get_inline(USER), "GetUserPolicy", _USER),
    "GetRolePolicy": _op(_get_inline(ROLE), "GetRolePolicy", _ROLE),
    "ListUserPolicies": _op(list_user_policies, "ListUserPolicies", _USER),
    "DeleteUserPolicy": _op(delete_user_policy, "DeleteUserPolicy", _USER),
    "CreatePolicy": _op(
        create_policy, "CreatePolicy", created("policy", "PolicyName", POLICY_NAME, policy=True)
    ),
    "GetPolicy": _op(get_policy, "GetPolicy", policy_arn),
    "ListPolicies": _op(list_policies, "ListPolicies", anything),
    "AttachUserPolicy": _op(_attach(USER), "AttachUserPolicy", _USER64),
    "AttachGroupPolicy": _op(_attach(GROUP), "AttachGroupPolicy", _GROUP),
    "AttachRolePolicy": _op(_attach(ROLE), "AttachRolePolicy", _ROLE),
    "DetachUserPolicy": _op(_detach(USER), "DetachUserPolicy", _USER64),
    "DetachGroupPolicy": _op(_detach(GROUP), "DetachGroupPolicy", _GROUP),
    "DetachRolePolicy": _op(_detach(ROLE), "DetachRolePolicy", _ROLE),
    "ListAttachedUserPolicies": _op(
        list_attached_user_policies, "ListAttachedUserPolicies", _USER64
    ),
    "CreateRole": _op(create_role, "CreateRole", created("role", "RoleName", ROLE_NAME)),
    "GetRole": _op(get_role, "GetRole", _ROLE),
    "ListRoles": _op(list_roles, "ListRoles", listed("role")),
    "DeleteRole": _op(delete_role, "DeleteRole", _ROLE),
}
