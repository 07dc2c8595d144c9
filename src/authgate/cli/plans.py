"""`authgate plans ...`: usage plans, which meter the API keys they hold on their API stages.

A plan throttles each of its keys (a token bucket: `--rate` requests a second, `--burst` at
once) and may give each a quota per day, week or month; per-method throttles override the
plan's on one method. Every command is one or two `apigateway` API calls through botocore.
"""

from __future__ import annotations

from enum import StrEnum
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
from authgate.cli.keys import paged
from authgate.cli.output import pairs, print_json, print_table, table

app = typer.Typer(
    help="Manage usage plans: throttles and quotas for API keys.", no_args_is_help=True
)

PlanArg = Annotated[str, typer.Argument(help="The usage plan's id.")]
KeyArg = Annotated[str, typer.Argument(help="The API key's id (not its value).")]
ApiOpt = Annotated[str, typer.Option("--api", help="The API's id.")]
StageOpt = Annotated[str, typer.Option("--stage", help="The stage's name.")]
RateOpt = Annotated[
    float | None, typer.Option("--rate", min=0, help="Steady requests per second, per key.")
]
BurstOpt = Annotated[
    int | None, typer.Option("--burst", min=0, help="Requests at once (the bucket's size).")
]


class Period(StrEnum):
    DAY = "DAY"
    WEEK = "WEEK"
    MONTH = "MONTH"


def _apigateway(endpoint_url: str, data_dir: Path | None, profile: str) -> Any:
    return connect(endpoint_url, data_dir, profile).apigateway()


def pointer_escape(segment: str) -> str:
    """A JSON Pointer segment (RFC 6901): how a resource path sits inside a patch path."""
    return segment.replace("~", "~0").replace("/", "~1")


def method_throttle_path(api: str, stage: str, path: str, method: str, field: str) -> str:
    """AWS's patch path of one method's throttle setting in a usage plan, e.g.
    `/apiStages/a1:prod/throttle/~1pets/GET/rateLimit`."""
    resource = path if path.startswith("/") else "/" + path
    escaped = pointer_escape(resource)
    return f"/apiStages/{pointer_escape(f'{api}:{stage}')}/throttle/{escaped}/{method}/{field}"


def _throttle(rate: float | None, burst: int | None) -> dict[str, object]:
    out: dict[str, object] = {}
    if rate is not None:
        out["rateLimit"] = rate
    if burst is not None:
        out["burstLimit"] = burst
    return out


@app.command("create")
def plans_create(
    name: Annotated[str, typer.Argument(help="The plan's name.")],
    api: ApiOpt,
    stage: StageOpt,
    rate: RateOpt = None,
    burst: BurstOpt = None,
    quota: Annotated[
        int | None, typer.Option("--quota", min=0, help="Requests per key per --period.")
    ] = None,
    period: Annotated[
        Period | None,
        typer.Option("--period", case_sensitive=False, help="When the quota starts again (UTC)."),
    ] = None,
    offset: Annotated[
        int | None,
        typer.Option("--offset", min=0, help="Requests taken off the first period's quota."),
    ] = None,
    description: Annotated[str | None, typer.Option("--description")] = None,
    endpoint_url: EndpointOption = DEFAULT_ENDPOINT,
    data_dir: DataDirOption = None,
    profile: ProfileOption = "default",
) -> None:
    """Create a usage plan on one API stage, with a throttle and a quota per key."""
    if (quota is None) != (period is None):
        raise CliError("a quota needs both --quota N and --period DAY|WEEK|MONTH")
    if offset is not None and quota is None:
        raise CliError("--offset applies to a quota: give --quota and --period too")
    params: dict[str, object] = {"name": name, "apiStages": [{"apiId": api, "stage": stage}]}
    if description is not None:
        params["description"] = description
    if rate is not None or burst is not None:
        params["throttle"] = _throttle(rate, burst)
    if quota is not None and period is not None:
        params["quota"] = {"limit": quota, "period": period.value, "offset": offset or 0}
    plan = _apigateway(endpoint_url, data_dir, profile).create_usage_plan(**params)
    typer.echo(f"created usage plan {plan['name']}: {plan['id']}")


@app.command("list")
def plans_list(
    as_json: JsonOption = False,
    endpoint_url: EndpointOption = DEFAULT_ENDPOINT,
    data_dir: DataDirOption = None,
    profile: ProfileOption = "default",
) -> None:
    """List the usage plans with their stages, throttles and quotas."""
    found = paged(_apigateway(endpoint_url, data_dir, profile), "get_usage_plans")
    if as_json:
        print_json(found)
    else:
        print_table(
            [summary(plan) for plan in found], ("id", "name", "stages", "throttle", "quota")
        )


def summary(plan: dict[str, Any]) -> dict[str, str]:
    """A plan's settings as a person reads them: `demo01:prod`, `1/s burst 2`, `100 per DAY`."""
    stages = ", ".join(f"{s['apiId']}:{s['stage']}" for s in plan.get("apiStages", []))
    return {
        "id": plan["id"],
        "name": plan.get("name", ""),
        "stages": stages,
        "throttle": throttle_text(plan.get("throttle")),
        "quota": quota_text(plan.get("quota")),
    }


def throttle_text(throttle: dict[str, Any] | None) -> str:
    if not throttle:
        return ""
    parts = []
    if throttle.get("rateLimit") is not None:
        parts.append(f"{throttle['rateLimit']:g}/s")
    if throttle.get("burstLimit") is not None:
        parts.append(f"burst {throttle['burstLimit']}")
    return " ".join(parts)


def quota_text(quota: dict[str, Any] | None) -> str:
    if not quota:
        return ""
    text = f"{quota['limit']} per {quota['period']}"
    return f"{text} (offset {quota['offset']})" if quota.get("offset") else text


@app.command("show")
def plans_show(
    plan_id: PlanArg,
    as_json: JsonOption = False,
    endpoint_url: EndpointOption = DEFAULT_ENDPOINT,
    data_dir: DataDirOption = None,
    profile: ProfileOption = "default",
) -> None:
    """Show a usage plan: its settings, method throttles and keys (never their values)."""
    client = _apigateway(endpoint_url, data_dir, profile)
    plan = client.get_usage_plan(usagePlanId=plan_id)
    plan.pop("ResponseMetadata", None)
    members = paged(client, "get_usage_plan_keys", usagePlanId=plan_id)
    if as_json:
        print_json({**plan, "keys": [{"id": k["id"], "name": k.get("name")} for k in members]})
        return
    text = summary(plan)
    rows = [(label, text[label] or "-") for label in ("id", "name", "stages", "throttle", "quota")]
    if plan.get("description"):
        rows.insert(2, ("description", plan["description"]))
    pairs(rows)
    methods = [
        {"stage": f"{s['apiId']}:{s['stage']}", "method": method, "throttle": throttle_text(t)}
        for s in plan.get("apiStages", [])
        for method, t in sorted((s.get("throttle") or {}).items())
    ]
    if methods:
        typer.echo("\nmethod throttles:")
        for line in table(methods, ("stage", "method", "throttle")):
            typer.echo(f"  {line}")
    if not members:
        typer.echo("\nkeys: none")
        return
    typer.echo("\nkeys:")
    for line in table(members, ("id", "name")):
        typer.echo(f"  {line}")


@app.command("add-key")
def plans_add_key(
    plan_id: PlanArg,
    key_id: KeyArg,
    endpoint_url: EndpointOption = DEFAULT_ENDPOINT,
    data_dir: DataDirOption = None,
    profile: ProfileOption = "default",
) -> None:
    """Put an API key in a usage plan: it may then call the plan's stages, metered."""
    client = _apigateway(endpoint_url, data_dir, profile)
    client.create_usage_plan_key(usagePlanId=plan_id, keyId=key_id, keyType="API_KEY")
    typer.echo(f"added API key {key_id} to usage plan {plan_id}")


@app.command("remove-key")
def plans_remove_key(
    plan_id: PlanArg,
    key_id: KeyArg,
    endpoint_url: EndpointOption = DEFAULT_ENDPOINT,
    data_dir: DataDirOption = None,
    profile: ProfileOption = "default",
) -> None:
    """Take an API key out of a usage plan (the key itself stays)."""
    client = _apigateway(endpoint_url, data_dir, profile)
    client.delete_usage_plan_key(usagePlanId=plan_id, keyId=key_id)
    typer.echo(f"removed API key {key_id} from usage plan {plan_id}")


@app.command("throttle")
def plans_throttle(
    plan_id: PlanArg,
    api: ApiOpt,
    stage: StageOpt,
    method: Annotated[str, typer.Option("--method", help="The HTTP verb, e.g. GET.")],
    path: Annotated[str, typer.Option("--path", help="The resource path, e.g. /pets/{id}.")],
    rate: RateOpt = None,
    burst: BurstOpt = None,
    endpoint_url: EndpointOption = DEFAULT_ENDPOINT,
    data_dir: DataDirOption = None,
    profile: ProfileOption = "default",
) -> None:
    """Throttle one method of a plan's stage per key, instead of the plan's throttle."""
    verb = method.upper()
    fields = _throttle(rate, burst)
    if not fields:
        raise CliError("give --rate R, --burst B, or both")
    patch = [
        {
            "op": "replace",
            "path": method_throttle_path(api, stage, path, verb, field),
            "value": str(value),
        }
        for field, value in fields.items()
    ]
    client = _apigateway(endpoint_url, data_dir, profile)
    client.update_usage_plan(usagePlanId=plan_id, patchOperations=patch)
    resource = path if path.startswith("/") else "/" + path
    typer.echo(
        f"usage plan {plan_id} throttles {verb} {resource} on {api}:{stage} at "
        f"{throttle_text(fields)} per key"
    )


@app.command("delete")
def plans_delete(
    plan_id: PlanArg,
    endpoint_url: EndpointOption = DEFAULT_ENDPOINT,
    data_dir: DataDirOption = None,
    profile: ProfileOption = "default",
) -> None:
    """Delete a usage plan (its keys stay, unmetered by it)."""
    _apigateway(endpoint_url, data_dir, profile).delete_usage_plan(usagePlanId=plan_id)
    typer.echo(f"deleted usage plan {plan_id}")
