"""The API key and usage plan operations of the `apigateway` API: one small function each, and
the route table that maps method + path to them with the IAM action each one needs.

A handler reads its input from the `Call`, calls the services and returns the status and the
JSON to answer with (None: no body). Status codes are the model's: 201 for creates and the
import, 202 for deletes, 200 otherwise.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final

from authgate.admin import apigateway_shapes as shapes
from authgate.admin.apigateway_input import Call, integral, throttle_pair
from authgate.definition.service import DefinitionService
from authgate.gateway.routing import Router
from authgate.usage.errors import BadRequest
from authgate.usage.keys import ApiKeyService
from authgate.usage.paging import Page
from authgate.usage.plans import StageSpec, UsagePlanService


@dataclass(frozen=True, slots=True)
class UsageServices:
    keys: ApiKeyService
    plans: UsagePlanService
    definitions: DefinitionService | None = None
    """REST APIs, stages and deployments (`/restapis…`); None: those routes answer 404."""
    routes: Callable[[], Router] | None = None
    """The data plane's live routes, whose authorizers TestInvokeAuthorizer calls."""


Reply = tuple[int, dict[str, Any] | None]
Handler = Callable[[UsageServices, Call], Awaitable[Reply]]


@dataclass(frozen=True, slots=True)
class Route:
    method: str
    pattern: tuple[str, ...]
    """Path segments; `{name}` segments are parameters."""
    handler: Handler

    @property
    def action(self) -> str:
        """The IAM action: API Gateway's management actions are named by HTTP method."""
        return f"apigateway:{self.method}"


# -- API keys ------------------------------------------------------------------------------------


async def create_or_import_keys(services: UsageServices, call: Call) -> Reply:
    """CreateApiKey, or ImportApiKeys (`?mode=import`). `generateDistinctId` is deprecated by
    AWS and has no effect here: ids are always distinct from values."""
    if call.text("mode") == "import":
        return await import_keys(services, call)
    if call.items("stageKeys"):
        raise BadRequest(
            "stageKeys are not supported: API keys reach stages through usage plans "
            "(CreateUsagePlanKey)"
        )
    view = await services.keys.create(
        name=call.string("name"),
        description=call.string("description"),
        enabled=call.boolean("enabled"),
        value=call.optional_string("value"),
        customer_id=call.string("customerId"),
        tags=call.tags(),
    )
    return 201, shapes.api_key(view, always_tags=False)


async def import_keys(services: UsageServices, call: Call) -> Reply:
    fmt = call.text("format")
    if fmt is None:
        raise BadRequest("The format query parameter is required (format=csv)")
    if fmt.lower() != "csv":
        raise BadRequest(f"Invalid format {fmt!r}: the only format is csv")
    result = await services.keys.import_csv(call.body, fail_on_warnings=call.flag("failonwarnings"))
    out: dict[str, Any] = {"ids": result.ids}
    if result.warnings:
        out["warnings"] = result.warnings
    return 201, out


async def get_keys(services: UsageServices, call: Call) -> Reply:
    page = await services.keys.list_keys(
        name_query=call.text("name"),
        customer_id=call.text("customerId"),
        include_values=call.flag("includeValues"),
        position=call.text("position"),
        limit=call.number("limit"),
    )
    items = [shapes.api_key(view, always_tags=False) for view in page.items]
    return 200, shapes.listing(Page(items, page.position))


async def get_key(services: UsageServices, call: Call) -> Reply:
    view = await services.keys.get(call.path["keyId"], include_value=call.flag("includeValue"))
    return 200, shapes.api_key(view)


async def update_key(services: UsageServices, call: Call) -> Reply:
    key = await services.keys.update(call.path["keyId"], call.patch_operations())
    return 200, shapes.api_key(key)


async def delete_key(services: UsageServices, call: Call) -> Reply:
    await services.keys.delete(call.path["keyId"])
    return 202, None


# -- usage plans ---------------------------------------------------------------------------------


def _stage(raw: object) -> StageSpec:
    if not isinstance(raw, dict):
        raise BadRequest("Invalid API Stage specified")
    api_id, stage, throttle = raw.get("apiId"), raw.get("stage"), raw.get("throttle") or {}
    if not isinstance(api_id, str) or not isinstance(stage, str) or not isinstance(throttle, dict):
        raise BadRequest("Invalid API Stage specified")
    where = f"{api_id}:{stage}"
    methods = {}
    for path, settings in throttle.items():
        rate, burst = throttle_pair(settings, f"{where} {path}")
        methods[str(path)] = (rate, integral(burst))
    return StageSpec(api_id, stage, methods)


async def create_plan(services: UsageServices, call: Call) -> Reply:
    name = call.optional_string("name")
    if name is None:
        raise BadRequest("Usage plan name must be non-empty")
    throttle = call.mapping("throttle")
    quota = call.mapping("quota")
    plan = await services.plans.create(
        name=name,
        description=call.string("description"),
        api_stages=[_stage(raw) for raw in call.items("apiStages")],
        throttle=None if throttle is None else _plan_throttle(throttle),
        quota=None
        if quota is None
        else (integral(quota.get("limit")), quota.get("period"), integral(quota.get("offset"))),
        tags=call.tags(),
    )
    return 201, shapes.usage_plan(plan, always_tags=False)


def _plan_throttle(raw: dict[str, Any]) -> tuple[object, object]:
    rate, burst = throttle_pair(raw, "the usage plan")
    return rate, integral(burst)


async def get_plans(services: UsageServices, call: Call) -> Reply:
    page = await services.plans.list_plans(
        key_id=call.text("keyId"), position=call.text("position"), limit=call.number("limit")
    )
    items = [shapes.usage_plan(plan, always_tags=False) for plan in page.items]
    return 200, shapes.listing(Page(items, page.position))


async def get_plan(services: UsageServices, call: Call) -> Reply:
    return 200, shapes.usage_plan(await services.plans.get(call.path["usageplanId"]))


async def update_plan(services: UsageServices, call: Call) -> Reply:
    plan = await services.plans.update(call.path["usageplanId"], call.patch_operations())
    return 200, shapes.usage_plan(plan)


async def delete_plan(services: UsageServices, call: Call) -> Reply:
    await services.plans.delete(call.path["usageplanId"])
    return 202, None


# -- plan keys and usage -------------------------------------------------------------------------


async def create_plan_key(services: UsageServices, call: Call) -> Reply:
    key_id = call.optional_string("keyId")
    key_type = call.optional_string("keyType")
    if not key_id or not key_type:
        raise BadRequest("keyId and keyType are required")
    key = await services.plans.add_key(call.path["usageplanId"], key_id, key_type)
    return 201, shapes.plan_key(key)


async def get_plan_keys(services: UsageServices, call: Call) -> Reply:
    page = await services.plans.list_plan_keys(
        call.path["usageplanId"],
        name_query=call.text("name"),
        position=call.text("position"),
        limit=call.number("limit"),
    )
    return 200, shapes.listing(Page([shapes.plan_key(k) for k in page.items], page.position))


async def get_plan_key(services: UsageServices, call: Call) -> Reply:
    key = await services.plans.get_key(call.path["usageplanId"], call.path["keyId"])
    return 200, shapes.plan_key(key)


async def delete_plan_key(services: UsageServices, call: Call) -> Reply:
    await services.plans.remove_key(call.path["usageplanId"], call.path["keyId"])
    return 202, None


async def get_usage(services: UsageServices, call: Call) -> Reply:
    report = await services.plans.get_usage(
        call.path["usageplanId"],
        call.text("startDate"),
        call.text("endDate"),
        key_id=call.text("keyId") or None,
        position=call.text("position"),
        limit=call.number("limit"),
    )
    return 200, shapes.usage(report)


async def update_usage(services: UsageServices, call: Call) -> Reply:
    report = await services.plans.update_usage(
        call.path["usageplanId"], call.path["keyId"], call.patch_operations()
    )
    return 200, shapes.usage(report)


ROUTES: Final = (
    Route("POST", ("apikeys",), create_or_import_keys),
    Route("GET", ("apikeys",), get_keys),
    Route("GET", ("apikeys", "{keyId}"), get_key),
    Route("PATCH", ("apikeys", "{keyId}"), update_key),
    Route("DELETE", ("apikeys", "{keyId}"), delete_key),
    Route("POST", ("usageplans",), create_plan),
    Route("GET", ("usageplans",), get_plans),
    Route("GET", ("usageplans", "{usageplanId}"), get_plan),
    Route("PATCH", ("usageplans", "{usageplanId}"), update_plan),
    Route("DELETE", ("usageplans", "{usageplanId}"), delete_plan),
    Route("POST", ("usageplans", "{usageplanId}", "keys"), create_plan_key),
    Route("GET", ("usageplans", "{usageplanId}", "keys"), get_plan_keys),
    Route("GET", ("usageplans", "{usageplanId}", "keys", "{keyId}"), get_plan_key),
    Route("DELETE", ("usageplans", "{usageplanId}", "keys", "{keyId}"), delete_plan_key),
    Route("GET", ("usageplans", "{usageplanId}", "usage"), get_usage),
    Route("PATCH", ("usageplans", "{usageplanId}", "keys", "{keyId}", "usage"), update_usage),
)
