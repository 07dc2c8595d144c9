"""The JSON that boto3's `apigateway` client parses, for keys, plans, plan keys and usage.

Pure: no I/O. Wire names follow botocore's model: lists sit under `item` (boto3 shows
`items`), GetUsage's map under `values`; timestamps are epoch seconds. Which members appear
when follows AWS's recorded answers (localstack's AWS-validated snapshots): a key created
without tags has no `tags` member while a read or update shows `tags: {}`; `stageKeys` is
always there; empty texts are left out.
"""

from __future__ import annotations

from typing import Any

from authgate.usage.keys import ApiKeyView
from authgate.usage.model import ApiKey, ApiStage, Throttle, UsagePlan
from authgate.usage.paging import Page
from authgate.usage.plans import PlanKey, Usage

Json = dict[str, Any]


def api_key(view: ApiKeyView | ApiKey, *, always_tags: bool = True) -> Json:
    key = view.key if isinstance(view, ApiKeyView) else view
    out: Json = {"id": key.id}
    if isinstance(view, ApiKeyView) and view.value is not None:
        out["value"] = view.value
    if key.name:
        out["name"] = key.name
    if key.customer_id:
        out["customerId"] = key.customer_id
    if key.description:
        out["description"] = key.description
    out["enabled"] = key.enabled
    out["createdDate"] = int(key.created)
    out["lastUpdatedDate"] = int(key.updated)
    out["stageKeys"] = []
    if always_tags or key.tags:
        out["tags"] = dict(key.tags)
    return out


def throttle(settings: Throttle) -> Json:
    out: Json = {}
    if settings.burst_limit is not None:
        out["burstLimit"] = settings.burst_limit
    if settings.rate_limit is not None:
        out["rateLimit"] = settings.rate_limit
    return out


def api_stage(stage: ApiStage) -> Json:
    out: Json = {"apiId": stage.api_id, "stage": stage.stage}
    if stage.throttle:
        out["throttle"] = {path: throttle(t) for path, t in stage.throttle}
    return out


def usage_plan(plan: UsagePlan, *, always_tags: bool = True) -> Json:
    out: Json = {"id": plan.id, "name": plan.name}
    if plan.description:
        out["description"] = plan.description
    out["apiStages"] = [api_stage(stage) for stage in plan.api_stages]
    if plan.throttle is not None:
        out["throttle"] = throttle(plan.throttle)
    if plan.quota is not None:
        quota = plan.quota
        out["quota"] = {"limit": quota.limit, "offset": quota.offset, "period": quota.period.value}
    if always_tags or plan.tags:
        out["tags"] = dict(plan.tags)
    return out


def plan_key(key: PlanKey) -> Json:
    return {"id": key.id, "type": key.type, "value": key.value, "name": key.name}


def usage(report: Usage) -> Json:
    out: Json = {
        "usagePlanId": report.plan_id,
        "startDate": report.start_date,
        "endDate": report.end_date,
        "values": report.values,
    }
    if report.position is not None:
        out["position"] = report.position
    return out


def listing(page: Page[Json]) -> Json:
    out: Json = {"item": page.items}
    if page.position is not None:
        out["position"] = page.position
    return out
