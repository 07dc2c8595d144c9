"""`authgate policy simulate`: what the gateway would answer a request, without sending it.

The running gateway decides, from its deployed routes, resource policies and the principal's
identity policies, by the same steps as for a real request (an authgate extension).
"""

from __future__ import annotations

from collections.abc import Mapping
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
from authgate.cli.output import print_json, table

app = typer.Typer(help="Try policies against the deployed APIs.", no_args_is_help=True)


@app.command()
def simulate(
    principal: Annotated[
        str,
        typer.Option(
            "--principal", help="A user, role or role-session ARN, or `anonymous` (unsigned)."
        ),
    ],
    api: Annotated[str, typer.Option("--api", help="The API's id.")],
    stage: Annotated[str, typer.Option("--stage", help="The stage's name.")],
    path: Annotated[str, typer.Option("--path", help="The path below the stage, e.g. /pets/7.")],
    method: Annotated[str, typer.Option("--method", help="The HTTP verb.")] = "GET",
    source_ip: Annotated[
        str | None,
        typer.Option("--source-ip", help="The client's address [default: this machine's]."),
    ] = None,
    vpce: Annotated[
        str | None,
        typer.Option("--vpce", help="Arrive through this VPC endpoint's listener (vpce-...)."),
    ] = None,
    as_json: JsonOption = False,
    endpoint_url: EndpointOption = DEFAULT_ENDPOINT,
    data_dir: DataDirOption = None,
    profile: ProfileOption = "default",
) -> None:
    """Would the gateway let this request through? Prints the deciding and matched statements."""
    question: dict[str, str] = {
        "principal": principal,
        "api": api,
        "stage": stage,
        "method": method,
        "path": path if path.startswith("/") else "/" + path,
    }
    if source_ip is not None:
        question["sourceIp"] = source_ip
    if vpce is not None:
        question["vpce"] = vpce
    answer = connect(endpoint_url, data_dir, profile).call("POST", "/_authgate/simulate", question)
    if as_json:
        print_json(answer)
        return
    for line in describe(answer):
        typer.echo(line)


def describe(answer: Mapping[str, Any]) -> list[str]:
    """Allow or Deny first, with the statement that decided; then how the question was read."""
    allowed = bool(answer.get("allowed"))
    deciding = answer.get("deciding") or answer.get("reason")
    step = answer.get("decidedBy") or ("authorize" if answer.get("effect") else None)
    lines = [f"{'Allow' if allowed else 'Deny'}: {deciding}" + (f"  [{step}]" if step else "")]
    if allowed:
        answered = "the request reaches its integration"
    else:
        answered = f"{answer.get('status')} {answer.get('gatewayResponse')} {answer.get('body')}"
    keys = answer.get("contextKeys") or {}
    rows: list[tuple[str, str]] = [
        ("answer", answered),
        ("principal", str(answer.get("principal"))),
        (
            "method",
            f"{answer.get('httpMethod')} {answer.get('path')} in {answer.get('apiId')} stage "
            f"{answer.get('stage')}: resource {answer.get('resourcePath') or '(no route)'}, "
            f"authorization {answer.get('authorizationType') or '-'}",
        ),
        ("arn", str(answer.get("methodArn"))),
        ("keys", "  ".join(f"{k}={','.join(v)}" for k, v in sorted(keys.items())) or "-"),
    ]
    matched = answer.get("matched") or []
    rows += [("matched" if i == 0 else "", str(ref)) for i, ref in enumerate(matched)]
    if not matched:
        rows.append(("matched", "no statement"))
    rows += [("note", str(note)) for note in answer.get("notes") or []]
    width = max(len(label) for label, _ in rows)
    lines += [f"  {label.ljust(width)}  {value}" for label, value in rows]
    trail = answer.get("trail") or []
    if trail:
        lines.append("  trail:")
        lines += [f"    {line}" for line in table(trail, ("step", "outcome", "detail"))]
    return lines
