"""`authgate explain REQUEST_ID`: why the gateway answered a recent request as it did.

An authgate extension: the request id is the `x-amzn-RequestId` of any response (and of its
access log line); the gateway keeps the decision trail of its last requests.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Annotated, Any

import typer

from authgate.cli.client import (
    DEFAULT_ENDPOINT,
    ApiError,
    CliError,
    DataDirOption,
    EndpointOption,
    JsonOption,
    ProfileOption,
    connect,
)
from authgate.cli.output import print_json, table

_VERDICTS = {"meter": "Refused", "validate": "Refused", "integrate": "Failed"}
"""How a refusal by each step reads; the access-control steps deny."""


def explain(
    request_id: Annotated[str, typer.Argument(help="The request's x-amzn-RequestId.")],
    as_json: JsonOption = False,
    endpoint_url: EndpointOption = DEFAULT_ENDPOINT,
    data_dir: DataDirOption = None,
    profile: ProfileOption = "default",
) -> None:
    """Explain a recent request: who called, and which step and statement decided it."""
    gateway = connect(endpoint_url, data_dir, profile)
    try:
        record = gateway.call("GET", f"/_authgate/requests/{request_id}")
    except ApiError as error:
        if error.status == 404:
            raise CliError(f"unknown request id {request_id}: {error}") from None
        raise
    if as_json:
        print_json(record)
        return
    for line in describe(record):
        typer.echo(line)
    print_trail(record.get("trail") or [])


def headline(status: object, gateway_response: object, trail: Sequence[Mapping[str, Any]]) -> str:
    """The decision in one line: the step and statement that settled it."""
    if gateway_response:
        last = trail[-1] if trail else None
        if last is None:
            return f"Refused ({status} {gateway_response})"
        verdict = _VERDICTS.get(str(last.get("step")), "Denied")
        detail = last.get("detail") or last.get("outcome")
        return f"{verdict}: {detail}  [{last.get('step')}, {status} {gateway_response}]"
    authorize = next((e for e in reversed(trail) if e.get("step") == "authorize"), None)
    if authorize is None:
        return f"Allowed: no policy restricts it  [{status}]"
    return f"Allowed: {authorize.get('detail') or authorize.get('outcome')}  [authorize, {status}]"


def describe(record: Mapping[str, Any]) -> list[str]:
    """The headline, then the request and what the gateway knew of it."""
    trail = record.get("trail") or []
    received = record.get("received_at")
    when = (
        time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(float(received)))
        if isinstance(received, int | float)
        else "-"
    )
    answer = f"{record.get('status')} {record.get('gateway_response') or ''}".rstrip()
    where = "-"
    if record.get("api_id"):
        where = f"{record.get('api_id')} stage {record.get('stage')}"
        where += f" resource {record.get('resource_path') or '(no route)'}"
    lines = [headline(record.get("status"), record.get("gateway_response"), trail), ""]
    rows = [
        ("request", f"{record.get('method')} {record.get('path')}"),
        ("id", str(record.get("requestId"))),
        ("received", f"{when} from {record.get('source_ip')}"),
        ("caller", str(record.get("caller"))),
        ("api", where),
        ("answer", answer),
    ]
    width = max(len(label) for label, _ in rows)
    lines += [f"{label.ljust(width)}  {value}" for label, value in rows]
    return lines


def print_trail(trail: Sequence[Mapping[str, Any]]) -> None:
    """Each step the request went through, with what it decided."""
    typer.echo("")
    if not trail:
        typer.echo("trail: no step decided anything")
        return
    typer.echo("trail:")
    for line in table(trail, ("step", "outcome", "detail")):
        typer.echo(f"  {line}")
