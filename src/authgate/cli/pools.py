"""`authgate pools ...`: user pools and their app clients.

Each command is one or a few `cognito-idp` API calls through botocore, signed with the
profile's key, so it can do what that key's policies allow (`cognito-idp:*`) and no more.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from authgate.cli.client import (
    DEFAULT_ENDPOINT,
    DataDirOption,
    EndpointOption,
    JsonOption,
    ProfileOption,
    connect,
)
from authgate.cli.output import pairs, print_json, print_table

app = typer.Typer(help="Manage user pools and their app clients.", no_args_is_help=True)
clients_app = typer.Typer(help="Manage a user pool's app clients.", no_args_is_help=True)
app.add_typer(clients_app, name="clients")

PoolArg = Annotated[str, typer.Argument(help="The user pool's id, e.g. us-east-1_AbCdEf123.")]
DEFAULT_FLOWS = ("ALLOW_USER_SRP_AUTH", "ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH")


def cognito(endpoint_url: str, data_dir: Path | None, profile: str) -> Any:
    return connect(endpoint_url, data_dir, profile).cognito()


def pages(client: Any, operation: str, key: str, **params: object) -> list[dict[str, Any]]:
    """Every item of a listing, following NextToken / PaginationToken."""
    items: list[dict[str, Any]] = []
    for page in client.get_paginator(operation).paginate(**params):
        items.extend(page.get(key, []))
    return items


@app.command("create")
def pools_create(
    name: Annotated[str, typer.Argument(help="The pool's name.")],
    email_username: Annotated[
        bool,
        typer.Option("--email-username", help="Users sign up and in with their email address."),
    ] = False,
    auto_verify: Annotated[
        list[str] | None,
        typer.Option("--auto-verify", help="email or phone_number: send a confirmation code."),
    ] = None,
    mfa: Annotated[str, typer.Option("--mfa", help="OFF, OPTIONAL or ON (TOTP).")] = "OFF",
    min_length: Annotated[int, typer.Option("--min-length", help="Shortest password.")] = 8,
    as_json: JsonOption = False,
    endpoint_url: EndpointOption = DEFAULT_ENDPOINT,
    data_dir: DataDirOption = None,
    profile: ProfileOption = "default",
) -> None:
    """Create a user pool and print its id."""
    request: dict[str, Any] = {
        "PoolName": name,
        "Policies": {"PasswordPolicy": {"MinimumLength": min_length}},
        "MfaConfiguration": mfa.upper(),
    }
    if email_username:
        request["UsernameAttributes"] = ["email"]
    verified = auto_verify if auto_verify is not None else (["email"] if email_username else [])
    if verified:
        request["AutoVerifiedAttributes"] = verified
    pool = cognito(endpoint_url, data_dir, profile).create_user_pool(**request)["UserPool"]
    if as_json:
        print_json(pool)
    else:
        pairs([("id", pool["Id"]), ("name", pool["Name"]), ("arn", pool["Arn"])])


@app.command("list")
def pools_list(
    as_json: JsonOption = False,
    endpoint_url: EndpointOption = DEFAULT_ENDPOINT,
    data_dir: DataDirOption = None,
    profile: ProfileOption = "default",
) -> None:
    """List the user pools."""
    client = cognito(endpoint_url, data_dir, profile)
    found = pages(client, "list_user_pools", "UserPools", MaxResults=60)
    if as_json:
        print_json(found)
    else:
        print_table(
            [{"id": p["Id"], "name": p["Name"], "created": p["CreationDate"]} for p in found],
            ["id", "name", "created"],
        )


@app.command("describe")
def pools_describe(
    pool_id: PoolArg,
    as_json: JsonOption = False,
    endpoint_url: EndpointOption = DEFAULT_ENDPOINT,
    data_dir: DataDirOption = None,
    profile: ProfileOption = "default",
) -> None:
    """Show a user pool's settings and its issuer."""
    pool = cognito(endpoint_url, data_dir, profile).describe_user_pool(UserPoolId=pool_id)
    pool = pool["UserPool"]
    if as_json:
        print_json(pool)
        return
    policy = pool["Policies"]["PasswordPolicy"]
    pairs(
        [
            ("id", pool["Id"]),
            ("name", pool["Name"]),
            ("arn", pool["Arn"]),
            ("issuer", f"{endpoint_url.rstrip('/')}/{pool['Id']}"),
            ("username attributes", ", ".join(pool.get("UsernameAttributes", [])) or "-"),
            ("auto-verified", ", ".join(pool.get("AutoVerifiedAttributes", [])) or "-"),
            ("mfa", pool["MfaConfiguration"]),
            ("password min length", str(policy["MinimumLength"])),
            ("users", str(pool["EstimatedNumberOfUsers"])),
        ]
    )


@app.command("delete")
def pools_delete(
    pool_id: PoolArg,
    endpoint_url: EndpointOption = DEFAULT_ENDPOINT,
    data_dir: DataDirOption = None,
    profile: ProfileOption = "default",
) -> None:
    """Delete a user pool with all its users and clients (their tokens stop working)."""
    cognito(endpoint_url, data_dir, profile).delete_user_pool(UserPoolId=pool_id)
    typer.echo(f"deleted {pool_id}")


@clients_app.command("create")
def clients_create(
    pool_id: PoolArg,
    name: Annotated[str, typer.Argument(help="The app client's name.")],
    secret: Annotated[
        bool, typer.Option("--secret", help="Generate a client secret (server-side apps).")
    ] = False,
    flows: Annotated[
        list[str] | None,
        typer.Option(
            "--flow",
            help="An ExplicitAuthFlows value (repeat) [default: SRP, password and refresh]",
        ),
    ] = None,
    hide_users: Annotated[
        bool,
        typer.Option(
            "--prevent-user-existence-errors",
            help="Answer unknown users as wrong passwords (PreventUserExistenceErrors=ENABLED).",
        ),
    ] = False,
    as_json: JsonOption = False,
    endpoint_url: EndpointOption = DEFAULT_ENDPOINT,
    data_dir: DataDirOption = None,
    profile: ProfileOption = "default",
) -> None:
    """Create an app client and print its id (and secret)."""
    created = cognito(endpoint_url, data_dir, profile).create_user_pool_client(
        UserPoolId=pool_id,
        ClientName=name,
        GenerateSecret=secret,
        ExplicitAuthFlows=list(flows or DEFAULT_FLOWS),
        PreventUserExistenceErrors="ENABLED" if hide_users else "LEGACY",
    )["UserPoolClient"]
    if as_json:
        print_json(created)
        return
    rows = [("id", created["ClientId"]), ("name", created["ClientName"])]
    if "ClientSecret" in created:
        rows.append(("secret", created["ClientSecret"]))
    rows.append(("flows", ", ".join(created["ExplicitAuthFlows"])))
    pairs(rows)


@clients_app.command("list")
def clients_list(
    pool_id: PoolArg,
    as_json: JsonOption = False,
    endpoint_url: EndpointOption = DEFAULT_ENDPOINT,
    data_dir: DataDirOption = None,
    profile: ProfileOption = "default",
) -> None:
    """List a pool's app clients."""
    client = cognito(endpoint_url, data_dir, profile)
    found = pages(
        client, "list_user_pool_clients", "UserPoolClients", UserPoolId=pool_id, MaxResults=60
    )
    if as_json:
        print_json(found)
    else:
        print_table([{"id": c["ClientId"], "name": c["ClientName"]} for c in found], ["id", "name"])
