"""`authgate usage KEY_ID`: how many requests an API key made each day, and what its quota left.

One table per usage plan the key is in (or the one named), from GetUsage: a row per day, UTC,
oldest first. `remaining` is what the day left of the quota's period; a plan without a quota
has nothing to count down, shown as `-`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
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
from authgate.cli.keys import paged
from authgate.cli.output import table
from authgate.cli.plans import quota_text, throttle_text


def usage(
    key_id: Annotated[str, typer.Argument(help="The API key's id (not its value).")],
    plan: Annotated[
        str | None,
        typer.Option("--plan", help="Only this usage plan [default: every plan the key is in]"),
    ] = None,
    days: Annotated[
        int, typer.Option("--days", min=1, max=400, help="How many days back, today included.")
    ] = 7,
    endpoint_url: EndpointOption = DEFAULT_ENDPOINT,
    data_dir: DataDirOption = None,
    profile: ProfileOption = "default",
) -> None:
    """Show an API key's requests per day and its remaining quota, per usage plan."""
    client = connect(endpoint_url, data_dir, profile).apigateway()
    if plan is not None:
        found = [client.get_usage_plan(usagePlanId=plan)]
    else:
        found = paged(client, "get_usage_plans", keyId=key_id)
        if not found:
            client.get_api_key(apiKey=key_id)  # NotFoundException for an unknown key
            raise CliError(f"API key {key_id} is in no usage plan: see `authgate plans add-key`")
    start, end = day_range(datetime.now(UTC).date(), days)
    for index, each in enumerate(found):
        report = client.get_usage(
            usagePlanId=each["id"],
            keyId=key_id,
            startDate=start.isoformat(),
            endDate=end.isoformat(),
        )
        if index:
            typer.echo("")
        for line in describe(each, start, report.get("items", {}).get(key_id, [])):
            typer.echo(line)


def day_range(today: date, days: int) -> tuple[date, date]:
    """The first and last day of the `days` days that end today."""
    return today - timedelta(days=days - 1), today


def describe(plan: dict[str, Any], start: date, pairs: Sequence[Sequence[int]]) -> list[str]:
    """The plan in one line, then a row per day: `date  used  remaining`."""
    quota = plan.get("quota")
    limits = [text for text in (quota_text(quota), throttle_text(plan.get("throttle"))) if text]
    head = f"usage plan {plan.get('name')} ({plan['id']})"
    lines = [f"{head}: {', '.join(limits)}" if limits else head]
    rows = [
        {
            "date": (start + timedelta(days=offset)).isoformat(),
            "used": used,
            "remaining": remaining if quota else None,
        }
        for offset, (used, remaining) in enumerate(pairs)
    ]
    if not rows:
        return [*lines, "  no usage recorded"]
    lines += [f"  {line}" for line in table(rows, ("date", "used", "remaining"))]
    return lines
