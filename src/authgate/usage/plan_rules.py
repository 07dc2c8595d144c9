"""Usage plan settings: checking a new plan's throttle, quota and stages, and applying AWS's PATCH
operations to a plan.

Pure: no I/O. Operations apply in order to a draft, and only the finished draft is checked as a
whole, so `replace /throttle/burstLimit` then `replace /throttle/rateLimit` builds a throttle
step by step as it does on AWS. Supported paths (`op path [value]`):

    replace /name | /description                      text
    replace|add /throttle/rateLimit | /throttle/burstLimit     number
    remove  /throttle
    replace|add /quota/limit | /quota/offset | /quota/period  number, DAY|WEEK|MONTH
    remove  /quota
    add|remove /apiStages                              apiId:stage
    replace|add /apiStages/{apiId}:{stage}/throttle/{resourcePath}/{method}/rateLimit|burstLimit
    remove  /apiStages/{apiId}:{stage}/throttle/{resourcePath}/{method}
    remove  /apiStages/{apiId}:{stage}/throttle

`{resourcePath}` may be written with its slashes escaped (`~1pets`, JSON Pointer style, as AWS
documents) or plain (`/pets`); the root resource is `/` (`~1`), giving the key `//GET`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from authgate.usage import patch as p
from authgate.usage.errors import BadRequest, Conflict, NotFound
from authgate.usage.model import ApiStage, Quota, Throttle, UsagePlan
from authgate.usage.quota import Period

METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE", "ANY"})
MAX_METHOD_THROTTLES = 20
MAX_NAME = 1024
MAX_DESCRIPTION = 125_000
_INT_MAX = 2**31 - 1
_PLAN_PATHS = (
    "/name, /description, /throttle/rateLimit, /throttle/burstLimit, /quota/limit, "
    "/quota/offset, /quota/period, /apiStages, /apiStages/{apiId}:{stage}/throttle/..."
)


# -- checks shared by create and update ---------------------------------------------------------


def check_name(name: str) -> str:
    if not name:
        raise BadRequest("Usage plan name must be non-empty")
    if len(name) > MAX_NAME:
        raise BadRequest(f"Usage plan name can be at most {MAX_NAME} characters")
    return name


def check_description(description: str) -> str:
    if len(description) > MAX_DESCRIPTION:
        raise BadRequest("Invalid usage plan description specified.")
    return description


def check_throttle(rate: object, burst: object, where: str) -> Throttle | None:
    """None when neither field is set (AWS keeps a plan's throttle only when one is)."""
    if rate is not None and (
        isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 <= rate < 1e9
    ):
        raise BadRequest(f"Invalid rateLimit for {where}: it must be a number of at least 0")
    if burst is not None and (
        isinstance(burst, bool) or not isinstance(burst, int) or not 0 <= burst <= _INT_MAX
    ):
        raise BadRequest(f"Invalid burstLimit for {where}: it must be an integer of at least 0")
    if rate is None and burst is None:
        return None
    return Throttle(None if rate is None else float(rate), burst)


def check_quota(limit: object, period: object, offset: object) -> Quota:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 0 <= limit <= _INT_MAX:
        raise BadRequest("Invalid quota limit: it must be an integer of at least 0")
    if period not in Period.__members__:
        raise BadRequest("Invalid quota period: it must be DAY, WEEK or MONTH")
    offset = 0 if offset is None else offset
    if isinstance(offset, bool) or not isinstance(offset, int) or not 0 <= offset <= limit:
        raise BadRequest("Invalid quota offset: it must be an integer from 0 to the limit")
    return Quota(limit, Period(str(period)), offset)


def method_key(key: str) -> str:
    """`{resourcePath}/{METHOD}` (`/pets/GET`, root `//GET`), or BadRequestException."""
    resource, _, method = key.rpartition("/")
    good_resource = resource == "/" or (
        resource.startswith("/") and not resource.endswith("/") and "//" not in resource
    )
    if not good_resource or method not in METHODS:
        raise BadRequest(
            f"Invalid method throttle {key!r}: expected {{resourcePath}}/{{method}}, "
            "such as /pets/GET or //GET"
        )
    return key


def check_stage(api_id: str, stage: str) -> tuple[str, str]:
    if not api_id or not stage or ":" in api_id or len(api_id) > 128 or len(stage) > 128:
        raise BadRequest("Invalid API Stage specified")
    return api_id, stage


def check_stages(stages: Iterable[ApiStage]) -> tuple[ApiStage, ...]:
    seen: set[tuple[str, str]] = set()
    out = []
    for stage in stages:
        check_stage(stage.api_id, stage.stage)
        if stage.key in seen:
            raise BadRequest(f"Duplicate API Stage {stage.label} in the usage plan")
        seen.add(stage.key)
        if len(stage.throttle) > MAX_METHOD_THROTTLES:
            raise BadRequest(
                f"At most {MAX_METHOD_THROTTLES} method throttles are allowed per API stage "
                f"({stage.label} has {len(stage.throttle)})"
            )
        for key, _ in stage.throttle:
            method_key(key)
        out.append(stage)
    return tuple(out)


# -- PATCH --------------------------------------------------------------------------------------


@dataclass
class _Draft:
    name: str
    description: str
    rate: float | None
    burst: int | None
    limit: int | None
    period: str | None
    offset: int | None
    stages: dict[tuple[str, str], dict[str, list[float | int | None]]] = field(default_factory=dict)
    quota_changed: bool = False


@dataclass(frozen=True, slots=True)
class Patched:
    plan: UsagePlan
    added_stages: tuple[tuple[str, str], ...]
    """Stages the operations added (for the caller to check that they exist)."""


def apply(plan: UsagePlan, operations: Sequence[p.PatchOperation], now: float) -> Patched:
    throttle, quota = plan.throttle, plan.quota
    draft = _Draft(
        name=plan.name,
        description=plan.description,
        rate=None if throttle is None else throttle.rate_limit,
        burst=None if throttle is None else throttle.burst_limit,
        limit=None if quota is None else quota.limit,
        period=None if quota is None else quota.period.value,
        offset=None if quota is None else quota.offset,
        stages={
            stage.key: {k: [t.rate_limit, t.burst_limit] for k, t in stage.throttle}
            for stage in plan.api_stages
        },
    )
    added: list[tuple[str, str]] = []
    for operation in operations:
        _apply_one(plan.id, draft, operation, added)
    return Patched(_finish(plan, draft, now), tuple(s for s in added if s in draft.stages))


def _apply_one(
    plan_id: str, draft: _Draft, operation: p.PatchOperation, added: list[tuple[str, str]]
) -> None:
    op, path = operation.op, operation.path
    setting = op in ("replace", "add")
    if path == "/name" and op == "replace":
        draft.name = operation.value or ""
    elif path == "/description" and op == "replace":
        draft.description = operation.value or ""
    elif path == "/throttle/rateLimit" and setting:
        draft.rate = p.number(operation)
    elif path == "/throttle/burstLimit" and setting:
        draft.burst = p.integer(operation)
    elif path == "/throttle" and op == "remove":
        draft.rate = draft.burst = None
    elif path == "/quota/limit" and setting:
        draft.limit, draft.quota_changed = p.integer(operation), True
    elif path == "/quota/offset" and setting:
        draft.offset, draft.quota_changed = p.integer(operation), True
    elif path == "/quota/period" and setting:
        draft.period, draft.quota_changed = p.require_value(operation).strip().upper(), True
    elif path == "/quota" and op == "remove":
        draft.limit = draft.period = draft.offset = None
        draft.quota_changed = True
    elif path == "/apiStages" and op in ("add", "remove"):
        key = _stage_value(operation.value)
        if op == "add":
            if key in draft.stages:
                raise Conflict(
                    f"API Stage {{api: {key[0]}, stage: {key[1]}}} is already in usage plan "
                    f"{plan_id}"
                )
            draft.stages[key] = {}
            added.append(key)
        else:
            if key not in draft.stages:
                raise NotFound.plan_stage(plan_id, *key)
            del draft.stages[key]
    elif path.startswith("/apiStages/"):
        _method_throttle(plan_id, draft, operation)
    else:
        raise p.unsupported(operation, _PLAN_PATHS)


def _stage_value(value: str | None) -> tuple[str, str]:
    """`apiId:stage`, as `add`/`remove /apiStages` take it (AWS's errors when malformed)."""
    if not value:
        raise BadRequest("Invalid API Stage specified")
    parts = value.split(":")
    if len(parts) != 2:
        raise BadRequest("Invalid API Stage specified")
    return check_stage(parts[0], parts[1])


def _method_throttle(plan_id: str, draft: _Draft, operation: p.PatchOperation) -> None:
    rest = operation.path[len("/apiStages/") :]
    label, sep, tail = rest.partition("/throttle")
    if not sep or (tail and not tail.startswith("/")):
        raise p.unsupported(operation, _PLAN_PATHS)
    key = _stage_value(p.unescape(label))
    methods = draft.stages.get(key)
    if methods is None:
        raise NotFound.plan_stage(plan_id, *key)
    if not tail:
        if operation.op != "remove":
            raise p.unsupported(operation, _PLAN_PATHS)
        methods.clear()
        return
    target = tail[1:]
    if operation.op == "remove":
        method = method_key(p.unescape(target))
        if method not in methods:
            raise NotFound(f"Invalid method throttle {method} specified for {key[0]}:{key[1]}")
        del methods[method]
        return
    if operation.op not in ("replace", "add"):
        raise p.unsupported(operation, _PLAN_PATHS)
    method_text, _, field_name = target.rpartition("/")
    method = method_key(p.unescape(method_text))
    limits = methods.setdefault(method, [None, None])
    if field_name == "rateLimit":
        limits[0] = p.number(operation)
    elif field_name == "burstLimit":
        limits[1] = p.integer(operation)
    else:
        raise p.unsupported(operation, _PLAN_PATHS)


def _finish(plan: UsagePlan, draft: _Draft, now: float) -> UsagePlan:
    quota: Quota | None = None
    if draft.limit is not None or draft.period is not None or draft.offset is not None:
        if draft.limit is None or draft.period is None:
            raise BadRequest("A usage plan quota needs both a limit and a period")
        quota = check_quota(draft.limit, draft.period, draft.offset)
    stages = check_stages(
        ApiStage(
            api_id,
            stage,
            tuple(
                sorted(
                    (k, Throttle(_as_float(v[0]), _as_int(v[1])))
                    for k, v in methods.items()
                    if v[0] is not None or v[1] is not None
                )
            ),
        )
        for (api_id, stage), methods in draft.stages.items()
    )
    throttle = check_throttle(draft.rate, draft.burst, "the usage plan")
    quota_set_at = plan.quota_set_at
    if draft.quota_changed:
        quota_set_at = None if quota is None else now
    return replace(
        plan,
        name=check_name(draft.name),
        description=check_description(draft.description),
        throttle=throttle,
        quota=quota,
        quota_set_at=quota_set_at,
        api_stages=stages,
        updated=now,
    )


def _as_float(value: float | int | None) -> float | None:
    return None if value is None else float(value)


def _as_int(value: float | int | None) -> int | None:
    return None if value is None else int(value)


def method_throttles(
    raw: Mapping[str, tuple[object, object]], where: str
) -> tuple[tuple[str, Throttle], ...]:
    """A stage's `throttle` map from a CreateUsagePlan request, checked."""
    out = []
    for key, (rate, burst) in raw.items():
        throttle = check_throttle(rate, burst, f"{where} {key}")
        if throttle is not None:
            out.append((method_key(key), throttle))
    return tuple(sorted(out))
