"""Rows of the usage tables to records and back: JSON for tags and API stages, nullable
columns for a plan's throttle and quota. Pure: no I/O."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Row

from authgate.storage.sql.schema import api_keys
from authgate.usage.model import ApiKey, ApiKeyRecord, ApiStage, Quota, Throttle, UsagePlan
from authgate.usage.quota import Period


def tags_text(tags: tuple[tuple[str, str], ...]) -> str:
    return json.dumps([list(tag) for tag in tags])


def tags_of(text: str) -> tuple[tuple[str, str], ...]:
    return tuple((str(k), str(v)) for k, v in json.loads(text))


def key_values(record: ApiKeyRecord) -> dict[str, object]:
    key = record.key
    return {
        "id": key.id,
        "name": key.name,
        "description": key.description,
        "enabled": key.enabled,
        "customer_id": key.customer_id,
        "created": key.created,
        "updated": key.updated,
        "value": record.sealed_value,
        "value_digest": record.value_digest,
        "tags": tags_text(key.tags),
    }


def key_record(row: Row[Any]) -> ApiKeyRecord:
    m, c = row._mapping, api_keys.c
    key = ApiKey(
        id=str(m[c.id]),
        name=str(m[c.name]),
        description=str(m[c.description]),
        enabled=bool(m[c.enabled]),
        customer_id=str(m[c.customer_id]),
        created=float(m[c.created]),
        updated=float(m[c.updated]),
        tags=tags_of(m[c.tags]),
    )
    return ApiKeyRecord(key, bytes(m[c.value]), str(m[c.value_digest]))


def throttle_json(throttle: Throttle) -> dict[str, float | int]:
    out: dict[str, float | int] = {}
    if throttle.rate_limit is not None:
        out["rateLimit"] = throttle.rate_limit
    if throttle.burst_limit is not None:
        out["burstLimit"] = throttle.burst_limit
    return out


def stages_text(stages: tuple[ApiStage, ...]) -> str:
    return json.dumps(
        [
            {
                "apiId": stage.api_id,
                "stage": stage.stage,
                "throttle": {path: throttle_json(t) for path, t in stage.throttle},
            }
            for stage in stages
        ]
    )


def stages_of(text: str) -> tuple[ApiStage, ...]:
    return tuple(
        ApiStage(
            api_id=str(item["apiId"]),
            stage=str(item["stage"]),
            throttle=tuple(
                (str(path), Throttle(t.get("rateLimit"), t.get("burstLimit")))
                for path, t in sorted(item.get("throttle", {}).items())
            ),
        )
        for item in json.loads(text)
    )


def plan_values(plan: UsagePlan) -> dict[str, object]:
    throttle, quota = plan.throttle, plan.quota
    return {
        "name": plan.name,
        "description": plan.description,
        "throttle_rate": None if throttle is None else throttle.rate_limit,
        "throttle_burst": None if throttle is None else throttle.burst_limit,
        "quota_limit": None if quota is None else quota.limit,
        "quota_period": None if quota is None else quota.period.value,
        "quota_offset": None if quota is None else quota.offset,
        "quota_set_at": plan.quota_set_at,
        "api_stages": stages_text(plan.api_stages),
        "tags": tags_text(plan.tags),
        "created": plan.created,
        "updated": plan.updated,
        "version": plan.version,
    }


def plan_of(row: Row[Any]) -> UsagePlan:
    throttle = None
    if row.throttle_rate is not None or row.throttle_burst is not None:
        rate = None if row.throttle_rate is None else float(row.throttle_rate)
        burst = None if row.throttle_burst is None else int(row.throttle_burst)
        throttle = Throttle(rate, burst)
    quota = None
    if row.quota_limit is not None and row.quota_period is not None:
        quota = Quota(int(row.quota_limit), Period(row.quota_period), int(row.quota_offset or 0))
    return UsagePlan(
        id=str(row.id),
        name=str(row.name),
        description=str(row.description),
        api_stages=stages_of(row.api_stages),
        throttle=throttle,
        quota=quota,
        quota_set_at=None if row.quota_set_at is None else float(row.quota_set_at),
        created=float(row.created),
        updated=float(row.updated),
        tags=tags_of(row.tags),
        version=int(row.version),
    )
