"""`authgate authorizers test NAME`: call a Lambda authorizer for a made-up request.

Through TestInvokeAuthorizer, as `aws apigateway test-invoke-authorizer` would: the gateway
calls the function its live routes use (the result cache is left alone) and reports the event
it sent, the function's answer, the decision for the method ARN and the latency.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from authgate.cli.client import (
    DEFAULT_ENDPOINT,
    CliError,
    DataDirOption,
    EndpointOption,
    ProfileOption,
    connect,
)

app = typer.Typer(help="Custom (Lambda) authorizers.", no_args_is_help=True)


def _pairs(values: list[str], what: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for value in values:
        name, sep, text = value.partition("=")
        if not sep or not name:
            raise CliError(f"{what} takes NAME=VALUE, not {value!r}")
        found[name] = text
    return found


@app.command("test")
def try_authorizer(
    name: Annotated[str, typer.Argument(help="The authorizer's name (its security scheme).")],
    token: Annotated[
        str | None,
        typer.Option("--token", help="The token, sent in the --token-header header."),
    ] = None,
    token_header: Annotated[
        str,
        typer.Option("--token-header", help="The header the authorizer reads its token from."),
    ] = "Authorization",  # noqa: S107 - a header name
    api: Annotated[
        str | None, typer.Option("--api", help="The API id [default: the only API served].")
    ] = None,
    path: Annotated[
        str | None,
        typer.Option(
            "--path",
            help="Path and query below the stage, e.g. '/pets/7?q=1' "
            "[default: a method the authorizer protects].",
        ),
    ] = None,
    header: Annotated[
        list[str] | None, typer.Option("--header", help="NAME=VALUE, repeatable.")
    ] = None,
    stage_variable: Annotated[
        list[str] | None, typer.Option("--stage-variable", help="NAME=VALUE, repeatable.")
    ] = None,
    endpoint_url: EndpointOption = DEFAULT_ENDPOINT,
    data_dir: DataDirOption = None,
    profile: ProfileOption = "default",
) -> None:
    """Call authorizer NAME's function once; print the event, its answer, the decision and
    the latency. Exits 1 when a client would have been refused."""
    client = connect(endpoint_url, data_dir, profile).apigateway()
    api_id = api or _only_api(client)
    headers = _pairs(header or [], "--header")
    if token is not None:
        headers[token_header] = token
    request: dict[str, Any] = {"restApiId": api_id, "authorizerId": name, "headers": headers}
    if path is not None:
        request["pathWithQueryString"] = path
    if stage_variable:
        request["stageVariables"] = _pairs(stage_variable, "--stage-variable")
    reply = client.test_invoke_authorizer(**request)
    typer.echo(reply.get("log", "").rstrip("\n"))
    if reply.get("clientStatus", 0) != 0:
        raise typer.Exit(1)


def _only_api(client: Any) -> str:
    items = client.get_rest_apis().get("items", [])
    if len(items) != 1:
        names = ", ".join(item["id"] for item in items) or "none"
        raise CliError(f"name the API with --api (APIs served: {names})")
    return str(items[0]["id"])
