"""`authgate users ...`: a user pool's users, through the Admin* cognito-idp operations.

Signed with the profile's key like every other command: what it may do is what that key's
policies allow (`cognito-idp:AdminCreateUser`, `cognito-idp:ListUsers`, ...).
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from botocore.exceptions import ClientError  # type: ignore[import-untyped]

from authgate.cli.client import (
    DEFAULT_ENDPOINT,
    CliError,
    DataDirOption,
    EndpointOption,
    JsonOption,
    ProfileOption,
)
from authgate.cli.output import pairs, print_json, print_table
from authgate.cli.pools import PoolArg, cognito, pages

app = typer.Typer(help="Manage the users of a user pool.", no_args_is_help=True)

UserArg = Annotated[str, typer.Argument(help="The username, email or sub.")]


def _attributes(given: list[str] | None) -> list[dict[str, str]]:
    attributes: list[dict[str, str]] = []
    for item in given or []:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise CliError(f"--attribute takes name=value, not {item!r}")
        attributes.append({"Name": name, "Value": value})
    return attributes


def _flat(attributes: list[dict[str, str]]) -> dict[str, str]:
    return {a["Name"]: a["Value"] for a in attributes}


@app.command("create")
def users_create(
    pool_id: PoolArg,
    username: Annotated[str, typer.Argument(help="The username (an email in email pools).")],
    attribute: Annotated[
        list[str] | None, typer.Option("--attribute", help="name=value (repeat).")
    ] = None,
    temporary_password: Annotated[
        str | None,
        typer.Option("--temporary-password", help="[default: generated and sent to the user]"),
    ] = None,
    suppress: Annotated[
        bool, typer.Option("--suppress", help="Send no invitation message.")
    ] = False,
    as_json: JsonOption = False,
    endpoint_url: EndpointOption = DEFAULT_ENDPOINT,
    data_dir: DataDirOption = None,
    profile: ProfileOption = "default",
) -> None:
    """Create a user with a temporary password (FORCE_CHANGE_PASSWORD)."""
    request: dict[str, Any] = {
        "UserPoolId": pool_id,
        "Username": username,
        "UserAttributes": _attributes(attribute),
        "DesiredDeliveryMediums": ["EMAIL"],
    }
    if temporary_password is not None:
        request["TemporaryPassword"] = temporary_password
    if suppress:
        request["MessageAction"] = "SUPPRESS"
    user = cognito(endpoint_url, data_dir, profile).admin_create_user(**request)["User"]
    if as_json:
        print_json(user)
    else:
        pairs([("username", user["Username"]), ("status", user["UserStatus"])])


@app.command("list")
def users_list(
    pool_id: PoolArg,
    filter_: Annotated[
        str | None,
        typer.Option("--filter", help='ListUsers filter, e.g. email ^= "ada"'),
    ] = None,
    as_json: JsonOption = False,
    endpoint_url: EndpointOption = DEFAULT_ENDPOINT,
    data_dir: DataDirOption = None,
    profile: ProfileOption = "default",
) -> None:
    """List a pool's users."""
    params: dict[str, Any] = {"UserPoolId": pool_id}
    if filter_:
        params["Filter"] = filter_
    found = pages(cognito(endpoint_url, data_dir, profile), "list_users", "Users", **params)
    if as_json:
        print_json(found)
        return
    rows = [
        {
            "username": u["Username"],
            "email": _flat(u.get("Attributes", [])).get("email"),
            "status": u["UserStatus"],
            "enabled": "yes" if u["Enabled"] else "no",
        }
        for u in found
    ]
    print_table(rows, ["username", "email", "status", "enabled"])


@app.command("get")
def users_get(
    pool_id: PoolArg,
    username: UserArg,
    as_json: JsonOption = False,
    endpoint_url: EndpointOption = DEFAULT_ENDPOINT,
    data_dir: DataDirOption = None,
    profile: ProfileOption = "default",
) -> None:
    """Show one user, their attributes and groups."""
    client = cognito(endpoint_url, data_dir, profile)
    user = client.admin_get_user(UserPoolId=pool_id, Username=username)
    user.pop("ResponseMetadata", None)
    groups = pages(
        client, "admin_list_groups_for_user", "Groups", UserPoolId=pool_id, Username=username
    )
    if as_json:
        print_json({**user, "Groups": [g["GroupName"] for g in groups]})
        return
    rows = [
        ("username", user["Username"]),
        ("status", user["UserStatus"]),
        ("enabled", "yes" if user["Enabled"] else "no"),
        ("groups", ", ".join(g["GroupName"] for g in groups) or "-"),
        ("mfa", ", ".join(user.get("UserMFASettingList", [])) or "-"),
    ]
    rows += [(name, value) for name, value in _flat(user["UserAttributes"]).items()]
    pairs(rows)


@app.command("delete")
def users_delete(
    pool_id: PoolArg,
    username: UserArg,
    endpoint_url: EndpointOption = DEFAULT_ENDPOINT,
    data_dir: DataDirOption = None,
    profile: ProfileOption = "default",
) -> None:
    """Delete a user (their tokens stop working at the gateway at once)."""
    cognito(endpoint_url, data_dir, profile).admin_delete_user(
        UserPoolId=pool_id, Username=username
    )
    typer.echo(f"deleted {username}")


@app.command("confirm")
def users_confirm(
    pool_id: PoolArg,
    username: UserArg,
    endpoint_url: EndpointOption = DEFAULT_ENDPOINT,
    data_dir: DataDirOption = None,
    profile: ProfileOption = "default",
) -> None:
    """Confirm a signed-up user without their code."""
    cognito(endpoint_url, data_dir, profile).admin_confirm_sign_up(
        UserPoolId=pool_id, Username=username
    )
    typer.echo(f"confirmed {username}")


@app.command("set-password")
def users_set_password(
    pool_id: PoolArg,
    username: UserArg,
    password: Annotated[
        str,
        typer.Option(
            "--password", prompt=True, hide_input=True, help="[default: asked for, hidden]"
        ),
    ],
    temporary: Annotated[
        bool, typer.Option("--temporary", help="The user must choose a new one at sign-in.")
    ] = False,
    endpoint_url: EndpointOption = DEFAULT_ENDPOINT,
    data_dir: DataDirOption = None,
    profile: ProfileOption = "default",
) -> None:
    """Set a user's password (permanent unless --temporary)."""
    cognito(endpoint_url, data_dir, profile).admin_set_user_password(
        UserPoolId=pool_id, Username=username, Password=password, Permanent=not temporary
    )
    typer.echo(f"password set for {username}" + (" (temporary)" if temporary else ""))


@app.command("add-to-group")
def users_add_to_group(
    pool_id: PoolArg,
    username: UserArg,
    group: Annotated[str, typer.Argument(help="The group (created if it does not exist).")],
    endpoint_url: EndpointOption = DEFAULT_ENDPOINT,
    data_dir: DataDirOption = None,
    profile: ProfileOption = "default",
) -> None:
    """Add a user to a group; it shows in `cognito:groups` from their next sign-in."""
    client = cognito(endpoint_url, data_dir, profile)
    try:
        client.get_group(UserPoolId=pool_id, GroupName=group)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
            raise
        client.create_group(UserPoolId=pool_id, GroupName=group)
        typer.echo(f"created group {group}", err=True)
    client.admin_add_user_to_group(UserPoolId=pool_id, Username=username, GroupName=group)
    typer.echo(f"added {username} to {group}")
