"""`authgate iam ...`: users, access keys, groups, roles and policies of a running gateway.

Each command is one or two IAM API calls through botocore, signed with the profile's key, so
it can do exactly what that key's policies allow and nothing more.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from authgate.cli.client import (
    DEFAULT_ENDPOINT,
    CliError,
    DataDirOption,
    EndpointOption,
    JsonOption,
    ProfileOption,
    connect,
)
from authgate.cli.output import pairs, print_json, print_table
from authgate.policy import build_method_arn

app = typer.Typer(help="Manage IAM users, keys, groups, roles and policies.", no_args_is_help=True)
users = typer.Typer(help="IAM users.", no_args_is_help=True)
keys = typer.Typer(help="Access keys of IAM users.", no_args_is_help=True)
groups = typer.Typer(help="IAM groups.", no_args_is_help=True)
roles = typer.Typer(help="IAM roles.", no_args_is_help=True)
policies = typer.Typer(help="Inline and managed policies.", no_args_is_help=True)
for _group, _name in ((users, "users"), (keys, "keys"), (groups, "groups"), (roles, "roles")):
    app.add_typer(_group, name=_name)
app.add_typer(policies, name="policies")

UserArg = Annotated[str, typer.Argument(help="The user's name.")]
KeyArg = Annotated[str, typer.Argument(help="The access key id (AKIA...).")]
GroupArg = Annotated[str, typer.Argument(help="The group's name.")]
UserOpt = Annotated[str | None, typer.Option("--user", help="A user's name.")]
GroupOpt = Annotated[str | None, typer.Option("--group", help="A group's name.")]
RoleOpt = Annotated[str | None, typer.Option("--role", help="A role's name.")]
FileOpt = Annotated[
    Path, typer.Option("--file", help="A JSON policy document ('-': standard input).")
]

_POLICY_NAME = re.compile(r"[^\w+=,.@-]")


def _iam(endpoint_url: str, data_dir: Path | None, profile: str) -> Any:
    return connect(endpoint_url, data_dir, profile).iam()


def _paged(client: Any, operation: str, key: str, **params: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for page in client.get_paginator(operation).paginate(**params):
        items.extend(page[key])
    return items


# -- users -------------------------------------------------------------------------------------


@users.command("list")
def users_list(
    as_json: JsonOption = False,
    endpoint_url: EndpointOption = DEFAULT_ENDPOINT,
    data_dir: DataDirOption = None,
    profile: ProfileOption = "default",
) -> None:
    """List the users."""
    found = _paged(_iam(endpoint_url, data_dir, profile), "list_users", "Users")
    if as_json:
        print_json(found)
    else:
        print_table(found, ("UserName", "UserId", "Arn", "CreateDate"))


@users.command("create")
def users_create(
    name: UserArg,
    endpoint_url: EndpointOption = DEFAULT_ENDPOINT,
    data_dir: DataDirOption = None,
    profile: ProfileOption = "default",
) -> None:
    """Create a user (it may do nothing until a policy allows it something)."""
    user = _iam(endpoint_url, data_dir, profile).create_user(UserName=name)["User"]
    typer.echo(f"created user {user['UserName']}: {user['Arn']}")


@users.command("delete")
def users_delete(
    name: UserArg,
    endpoint_url: EndpointOption = DEFAULT_ENDPOINT,
    data_dir: DataDirOption = None,
    profile: ProfileOption = "default",
) -> None:
    """Delete a user (its keys, policies and group memberships must go first, as on AWS)."""
    _iam(endpoint_url, data_dir, profile).delete_user(UserName=name)
    typer.echo(f"deleted user {name}")


# -- access keys -------------------------------------------------------------------------------


@keys.command("create")
def keys_create(
    user: UserArg,
    as_json: JsonOption = False,
    endpoint_url: EndpointOption = DEFAULT_ENDPOINT,
    data_dir: DataDirOption = None,
    profile: ProfileOption = "default",
) -> None:
    """Create an access key; its secret is shown this once and never again."""
    key = _iam(endpoint_url, data_dir, profile).create_access_key(UserName=user)["AccessKey"]
    if as_json:
        print_json(key)
    else:
        pairs(
            [
                ("UserName", key["UserName"]),
                ("AccessKeyId", key["AccessKeyId"]),
                ("SecretAccessKey", key["SecretAccessKey"]),
            ]
        )
    typer.echo(
        "warning: store the secret access key now; it cannot be shown again "
        "(a lost secret means a new key).",
        err=True,
    )


@keys.command("list")
def keys_list(
    user: UserArg,
    as_json: JsonOption = False,
    endpoint_url: EndpointOption = DEFAULT_ENDPOINT,
    data_dir: DataDirOption = None,
    profile: ProfileOption = "default",
) -> None:
    """List a user's access keys (never their secrets)."""
    client = _iam(endpoint_url, data_dir, profile)
    found = _paged(client, "list_access_keys", "AccessKeyMetadata", UserName=user)
    if as_json:
        print_json(found)
    else:
        print_table(found, ("AccessKeyId", "Status", "CreateDate"))


def _set_key_status(
    user: str, key: str, status: str, endpoint_url: str, data_dir: Path | None, profile: str
) -> None:
    client = _iam(endpoint_url, data_dir, profile)
    client.update_access_key(UserName=user, AccessKeyId=key, Status=status)
    typer.echo(f"access key {key} of {user} is now {status}")


@keys.command("disable")
def keys_disable(
    user: UserArg,
    key: KeyArg,
    endpoint_url: EndpointOption = DEFAULT_ENDPOINT,
    data_dir: DataDirOption = None,
    profile: ProfileOption = "default",
) -> None:
    """Disable an access key: requests signed with it fail from the next one on."""
    _set_key_status(user, key, "Inactive", endpoint_url, data_dir, profile)


@keys.command("enable")
def keys_enable(
    user: UserArg,
    key: KeyArg,
    endpoint_url: EndpointOption = DEFAULT_ENDPOINT,
    data_dir: DataDirOption = None,
    profile: ProfileOption = "default",
) -> None:
    """Enable a disabled access key again."""
    _set_key_status(user, key, "Active", endpoint_url, data_dir, profile)


@keys.command("delete")
def keys_delete(
    user: UserArg,
    key: KeyArg,
    endpoint_url: EndpointOption = DEFAULT_ENDPOINT,
    data_dir: DataDirOption = None,
    profile: ProfileOption = "default",
) -> None:
    """Delete an access key for good."""
    _iam(endpoint_url, data_dir, profile).delete_access_key(UserName=user, AccessKeyId=key)
    typer.echo(f"deleted access key {key} of {user}")


# -- groups ------------------------------------------------------------------------------------


@groups.command("create")
def groups_create(
    name: GroupArg,
    endpoint_url: EndpointOption = DEFAULT_ENDPOINT,
    data_dir: DataDirOption = None,
    profile: ProfileOption = "default",
) -> None:
    """Create a group; its members get the group's policies."""
    group = _iam(endpoint_url, data_dir, profile).create_group(GroupName=name)["Group"]
    typer.echo(f"created group {group['GroupName']}: {group['Arn']}")


@groups.command("add-user")
def groups_add_user(
    group: GroupArg,
    user: UserArg,
    endpoint_url: EndpointOption = DEFAULT_ENDPOINT,
    data_dir: DataDirOption = None,
    profile: ProfileOption = "default",
) -> None:
    """Add a user to a group."""
    _iam(endpoint_url, data_dir, profile).add_user_to_group(GroupName=group, UserName=user)
    typer.echo(f"added {user} to group {group}")


@groups.command("remove-user")
def groups_remove_user(
    group: GroupArg,
    user: UserArg,
    endpoint_url: EndpointOption = DEFAULT_ENDPOINT,
    data_dir: DataDirOption = None,
    profile: ProfileOption = "default",
) -> None:
    """Remove a user from a group."""
    _iam(endpoint_url, data_dir, profile).remove_user_from_group(GroupName=group, UserName=user)
    typer.echo(f"removed {user} from group {group}")


# -- roles -------------------------------------------------------------------------------------


@roles.command("create")
def roles_create(
    name: Annotated[str, typer.Argument(help="The role's name.")],
    trust_user: Annotated[
        list[str] | None,
        typer.Option("--trust-user", help="ARN of a principal that may assume the role (repeat)."),
    ] = None,
    trust_file: Annotated[
        Path | None, typer.Option("--trust-file", help="A trust policy document.")
    ] = None,
    endpoint_url: EndpointOption = DEFAULT_ENDPOINT,
    data_dir: DataDirOption = None,
    profile: ProfileOption = "default",
) -> None:
    """Create a role, trusted by the given principals or by a trust policy file."""
    if bool(trust_user) == (trust_file is not None):
        raise CliError("give either --trust-user ARN (one or more) or --trust-file FILE")
    if trust_file is not None:
        document = _document(trust_file)
    else:
        document = json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": trust_user},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        )
    client = _iam(endpoint_url, data_dir, profile)
    role = client.create_role(RoleName=name, AssumeRolePolicyDocument=document)["Role"]
    typer.echo(f"created role {role['RoleName']}: {role['Arn']}")


@roles.command("list")
def roles_list(
    as_json: JsonOption = False,
    endpoint_url: EndpointOption = DEFAULT_ENDPOINT,
    data_dir: DataDirOption = None,
    profile: ProfileOption = "default",
) -> None:
    """List the roles."""
    found = _paged(_iam(endpoint_url, data_dir, profile), "list_roles", "Roles")
    if as_json:
        print_json(found)
    else:
        print_table(found, ("RoleName", "RoleId", "Arn", "CreateDate"))


# -- policies ----------------------------------------------------------------------------------


def _owner(user: str | None, group: str | None, role: str | None) -> tuple[str, str]:
    """("User" | "Group" | "Role", name): exactly one of the three options."""
    given = [(kind, name) for kind, name in (("User", user), ("Group", group), ("Role", role))]
    chosen = [(kind, name) for kind, name in given if name is not None]
    if len(chosen) != 1:
        raise CliError("name exactly one of --user, --group or --role")
    return chosen[0][0], str(chosen[0][1])


def _document(path: Path) -> str:
    """A policy file's text, checked to be JSON here so the error names the file."""
    try:
        text = sys.stdin.read() if str(path) == "-" else path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror}") from None
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        raise CliError(f"{path} is not JSON: {exc}") from None
    return text


def _put_inline(client: Any, kind: str, owner: str, name: str, document: str) -> None:
    put = getattr(client, f"put_{kind.lower()}_policy")
    put(**{f"{kind}Name": owner, "PolicyName": name, "PolicyDocument": document})


@policies.command("put")
def policies_put(
    name: Annotated[str, typer.Option("--name", help="The inline policy's name.")],
    file: FileOpt,
    user: UserOpt = None,
    group: GroupOpt = None,
    role: RoleOpt = None,
    endpoint_url: EndpointOption = DEFAULT_ENDPOINT,
    data_dir: DataDirOption = None,
    profile: ProfileOption = "default",
) -> None:
    """Write an inline policy of a user, group or role (replacing one of the same name)."""
    kind, owner = _owner(user, group, role)
    document = _document(file)
    _put_inline(_iam(endpoint_url, data_dir, profile), kind, owner, name, document)
    typer.echo(f"put inline policy {name} on {kind.lower()} {owner}")


@policies.command("create")
def policies_create(
    name: Annotated[str, typer.Argument(help="The managed policy's name.")],
    file: FileOpt,
    endpoint_url: EndpointOption = DEFAULT_ENDPOINT,
    data_dir: DataDirOption = None,
    profile: ProfileOption = "default",
) -> None:
    """Create a managed policy; attach it to users, groups or roles by its ARN."""
    client = _iam(endpoint_url, data_dir, profile)
    policy = client.create_policy(PolicyName=name, PolicyDocument=_document(file))["Policy"]
    typer.echo(f"created policy {policy['PolicyName']}: {policy['Arn']}")


@policies.command("attach")
def policies_attach(
    arn: Annotated[str, typer.Option("--arn", help="The managed policy's ARN.")],
    user: UserOpt = None,
    group: GroupOpt = None,
    role: RoleOpt = None,
    endpoint_url: EndpointOption = DEFAULT_ENDPOINT,
    data_dir: DataDirOption = None,
    profile: ProfileOption = "default",
) -> None:
    """Attach a managed policy to a user, group or role."""
    kind, owner = _owner(user, group, role)
    attach = getattr(_iam(endpoint_url, data_dir, profile), f"attach_{kind.lower()}_policy")
    attach(**{f"{kind}Name": owner, "PolicyArn": arn})
    typer.echo(f"attached {arn} to {kind.lower()} {owner}")


@policies.command("allow-invoke")
def policies_allow_invoke(
    api: Annotated[str, typer.Option("--api", help="The API's id.")],
    stage: Annotated[str, typer.Option("--stage", help="Stage name, or *.")] = "*",
    method: Annotated[str, typer.Option("--method", help="HTTP verb, or *.")] = "*",
    path: Annotated[
        str, typer.Option("--path", help="Resource path as requested (/pets/7, /pets/*), or *.")
    ] = "*",
    name: Annotated[
        str | None, typer.Option("--name", help="Inline policy name [default: from the ARN]")
    ] = None,
    user: UserOpt = None,
    group: GroupOpt = None,
    role: RoleOpt = None,
    endpoint_url: EndpointOption = DEFAULT_ENDPOINT,
    data_dir: DataDirOption = None,
    profile: ProfileOption = "default",
) -> None:
    """Allow execute-api:Invoke on the matching methods: an inline policy on their ARN."""
    kind, owner = _owner(user, group, role)
    gateway = connect(endpoint_url, data_dir, profile)
    client = gateway.iam()
    owner_arn = getattr(client, f"get_{kind.lower()}")(**{f"{kind}Name": owner})[kind]["Arn"]
    arn = build_method_arn(
        region=gateway.profile.region,
        account=owner_arn.split(":")[4],
        api_id=api,
        stage=stage,
        verb=method.upper(),
        path=path,
    )
    policy_name = name or invoke_policy_name(api, stage, method.upper(), path)
    document = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AllowInvoke",
                "Effect": "Allow",
                "Action": "execute-api:Invoke",
                "Resource": arn,
            }
        ],
    }
    _put_inline(client, kind, owner, policy_name, json.dumps(document))
    typer.echo(f"{kind.lower()} {owner} may invoke {arn} (inline policy {policy_name})")


def invoke_policy_name(api: str, stage: str, method: str, path: str) -> str:
    """A stable inline policy name per method pattern, so each allow-invoke adds one policy
    and repeating it replaces the same one."""
    parts = [api, stage, method, path.strip("/") or "root"]
    raw = "invoke." + ".".join(part.replace("*", "any").replace("/", ".") for part in parts)
    return _POLICY_NAME.sub("_", raw)[:128]
