"""`authgate keys ...`: the API keys clients send as `x-api-key` to methods that require one.

Each command is one `apigateway` API call through botocore, signed with the profile's key, so
it can do what that key's policies allow (`apigateway:GET|POST|PATCH|DELETE`) and no more. A
key meters nothing until a usage plan holds it (`authgate plans add-key`).
"""

from __future__ import annotations

import re
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

app = typer.Typer(help="Manage API keys (x-api-key).", no_args_is_help=True)

KeyArg = Annotated[str, typer.Argument(help="The API key's id (not its value).")]

_FILE_REFUSED = {
    "Invalid API keys file: ": "is not a valid API key file",
    "The API keys file has warnings: ": "has warnings (--fail-on-warnings)",
}
_NEXT_PROBLEM = re.compile(r"; (?=line \d+: |and \d+ more$)")
"""Where the gateway's one-line listing of a file's problems starts the next one."""


def _apigateway(endpoint_url: str, data_dir: Path | None, profile: str) -> Any:
    return connect(endpoint_url, data_dir, profile).apigateway()


def paged(client: Any, operation: str, **params: object) -> list[dict[str, Any]]:
    """Every item of a listing, all its pages (`items` in botocore's shapes)."""
    items: list[dict[str, Any]] = []
    for page in client.get_paginator(operation).paginate(**params):
        items.extend(page.get("items", []))
    return items


@app.command("create")
def keys_create(
    name: Annotated[str | None, typer.Option("--name", help="A name to find it by.")] = None,
    value: Annotated[
        str | None,
        typer.Option("--value", help="20 to 128 letters and digits [default: 40 generated]"),
    ] = None,
    customer_id: Annotated[
        str | None, typer.Option("--customer-id", help="Your customer's id (AWS Marketplace).")
    ] = None,
    description: Annotated[str | None, typer.Option("--description")] = None,
    disabled: Annotated[
        bool, typer.Option("--disabled", help="Create it disabled (enable it later).")
    ] = False,
    as_json: JsonOption = False,
    endpoint_url: EndpointOption = DEFAULT_ENDPOINT,
    data_dir: DataDirOption = None,
    profile: ProfileOption = "default",
) -> None:
    """Create an API key (enabled unless --disabled) and print its value."""
    params: dict[str, object] = {"enabled": not disabled}
    for field, given in (
        ("name", name),
        ("value", value),
        ("customerId", customer_id),
        ("description", description),
    ):
        if given is not None:
            params[field] = given
    key = _apigateway(endpoint_url, data_dir, profile).create_api_key(**params)
    key.pop("ResponseMetadata", None)
    if as_json:
        print_json(key)
    else:
        rows = [("id", key["id"]), ("name", key.get("name") or "-"), ("value", key["value"])]
        if key.get("customerId"):
            rows.append(("customerId", key["customerId"]))
        rows.append(("enabled", _enabled(key)))
        pairs(rows)
    typer.echo(
        "warning: store the value now and keep it secret; clients send it as x-api-key "
        "(`authgate keys list --values` shows it again).",
        err=True,
    )


@app.command("list")
def keys_list(
    name_prefix: Annotated[
        str | None, typer.Option("--name-prefix", help="Only keys whose name starts so.")
    ] = None,
    customer_id: Annotated[
        str | None, typer.Option("--customer-id", help="Only this customer's keys.")
    ] = None,
    values: Annotated[bool, typer.Option("--values", help="Show the keys' values too.")] = False,
    as_json: JsonOption = False,
    endpoint_url: EndpointOption = DEFAULT_ENDPOINT,
    data_dir: DataDirOption = None,
    profile: ProfileOption = "default",
) -> None:
    """List the API keys by name (their values only with --values)."""
    params: dict[str, object] = {"includeValues": values}
    if name_prefix is not None:
        params["nameQuery"] = name_prefix
    if customer_id is not None:
        params["customerId"] = customer_id
    found = paged(_apigateway(endpoint_url, data_dir, profile), "get_api_keys", **params)
    if as_json:
        print_json(found)
        return
    rows = [{**key, "enabled": _enabled(key)} for key in found]
    columns = ["id", "name", "enabled", "customerId", "createdDate"]
    print_table(rows, [*columns, "value"] if values else columns)


@app.command("import")
def keys_import(
    file: Annotated[
        Path, typer.Argument(help="A CSV file: Name,Key[,Description,Enabled,UsagePlanIds].")
    ],
    fail_on_warnings: Annotated[
        bool, typer.Option("--fail-on-warnings", help="Import nothing if the file has warnings.")
    ] = False,
    endpoint_url: EndpointOption = DEFAULT_ENDPOINT,
    data_dir: DataDirOption = None,
    profile: ProfileOption = "default",
) -> None:
    """Import API keys from AWS's CSV key file: every row, or none if any is bad."""
    try:
        body = file.read_bytes()
    except OSError as exc:
        raise CliError(f"cannot read {file}: {exc.strerror}") from None
    client = _apigateway(endpoint_url, data_dir, profile)
    try:
        result = client.import_api_keys(body=body, format="csv", failOnWarnings=fail_on_warnings)
    except client.exceptions.BadRequestException as error:
        refused = file_problems(str(error.response.get("Error", {}).get("Message", "")))
        if refused is None:
            raise
        why, problems = refused
        typer.echo(f"error: {file} {why}; nothing was imported:", err=True)
        for problem in problems:
            typer.echo(f"  {problem}", err=True)
        raise typer.Exit(1) from None
    ids = result.get("ids", [])
    typer.echo(f"imported {len(ids)} API key{'' if len(ids) == 1 else 's'}")
    for key_id in ids:
        typer.echo(key_id)
    for warning in result.get("warnings", []):
        typer.echo(f"warning: {warning}", err=True)


def file_problems(message: str) -> tuple[str, list[str]] | None:
    """The gateway's refusal of a key file: why, and its problems one a line (the gateway
    lists them in one message); None for any other refusal."""
    for title, why in _FILE_REFUSED.items():
        if message.startswith(title):
            return why, _NEXT_PROBLEM.split(message[len(title) :])
    return None


def _set_enabled(
    key_id: str, enabled: bool, endpoint_url: str, data_dir: Path | None, profile: str
) -> None:
    client = _apigateway(endpoint_url, data_dir, profile)
    value = "true" if enabled else "false"
    patch = [{"op": "replace", "path": "/enabled", "value": value}]
    client.update_api_key(apiKey=key_id, patchOperations=patch)
    typer.echo(f"API key {key_id} is now {'enabled' if enabled else 'disabled'}")


@app.command("disable")
def keys_disable(
    key_id: KeyArg,
    endpoint_url: EndpointOption = DEFAULT_ENDPOINT,
    data_dir: DataDirOption = None,
    profile: ProfileOption = "default",
) -> None:
    """Disable an API key: requests sending it are answered 403 Forbidden."""
    _set_enabled(key_id, False, endpoint_url, data_dir, profile)


@app.command("enable")
def keys_enable(
    key_id: KeyArg,
    endpoint_url: EndpointOption = DEFAULT_ENDPOINT,
    data_dir: DataDirOption = None,
    profile: ProfileOption = "default",
) -> None:
    """Enable an API key again."""
    _set_enabled(key_id, True, endpoint_url, data_dir, profile)


@app.command("delete")
def keys_delete(
    key_id: KeyArg,
    endpoint_url: EndpointOption = DEFAULT_ENDPOINT,
    data_dir: DataDirOption = None,
    profile: ProfileOption = "default",
) -> None:
    """Delete an API key for good (and its place in every usage plan)."""
    _apigateway(endpoint_url, data_dir, profile).delete_api_key(apiKey=key_id)
    typer.echo(f"deleted API key {key_id}")


def _enabled(key: dict[str, Any]) -> str:
    return "yes" if key.get("enabled") else "no"
