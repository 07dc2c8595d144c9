"""The REST API operations of the `apigateway` API: import, put, read, update and delete APIs;
list resources; create and manage deployments and stages. One small function each, and the
route table with their paths.

Status codes are the model's: 201 for ImportRestApi, CreateDeployment and CreateStage, 202 for
deletes, 200 otherwise. Settings authgate does not implement (caches, canaries, tracing, tags
on stages) fail loudly with BadRequestException instead of being dropped.
"""

from __future__ import annotations

from typing import Final

from authgate.admin import apigateway_restapi_shapes as shapes
from authgate.admin.apigateway_input import Call
from authgate.admin.apigateway_ops import Reply, Route, UsageServices
from authgate.admin.apigateway_shapes import listing
from authgate.definition.service import DefinitionService
from authgate.usage.errors import BadRequest, NotFound
from authgate.usage.paging import Page

CONTROL_PARAMETERS: Final = frozenset({"mode", "failonwarnings"})
"""Query parameters of ImportRestApi/PutRestApi themselves; the rest are import `parameters`."""


def _definitions(services: UsageServices) -> DefinitionService:
    if services.definitions is None:
        raise NotFound("REST APIs are not managed by this gateway")
    return services.definitions


def _parameters(call: Call) -> dict[str, str]:
    return {k: v for k, v in call.query.items() if k not in CONTROL_PARAMETERS}


def _refuse(call: Call, *names: str) -> None:
    """Settings that would change behaviour if honoured: refused when set to anything but off."""
    body = call.json()
    for name in names:
        value = body.get(name)
        if value not in (None, False, {}, [], ""):
            raise BadRequest(f"{name} is not supported by authgate")


def _embeds(call: Call, what: str) -> bool:
    return what in (call.text("embed") or "").split(",")


# -- APIs ----------------------------------------------------------------------------------------


async def create_or_import_api(services: UsageServices, call: Call) -> Reply:
    """ImportRestApi (`?mode=import`). CreateRestApi is refused: an API is its document."""
    if call.text("mode") != "import":
        raise BadRequest(
            "CreateRestApi is not supported: import an OpenAPI definition instead (ImportRestApi)"
        )
    call.flag("failonwarnings")  # validated; authgate reports problems only as errors
    view = await _definitions(services).import_api(call.body, parameters=_parameters(call))
    return 201, shapes.rest_api(view)


async def put_api(services: UsageServices, call: Call) -> Reply:
    call.flag("failonwarnings")
    view = await _definitions(services).put_api(
        call.path["restapi_id"],
        call.body,
        mode=call.text("mode") or "merge",
        parameters=_parameters(call),
    )
    return 200, shapes.rest_api(view)


async def get_apis(services: UsageServices, call: Call) -> Reply:
    page = await _definitions(services).list_apis(
        position=call.text("position"), limit=call.number("limit")
    )
    return 200, listing(Page([shapes.rest_api(v) for v in page.items], page.position))


async def get_api(services: UsageServices, call: Call) -> Reply:
    return 200, shapes.rest_api(await _definitions(services).get_api(call.path["restapi_id"]))


async def update_api(services: UsageServices, call: Call) -> Reply:
    view = await _definitions(services).update_api(call.path["restapi_id"], call.patch_operations())
    return 200, shapes.rest_api(view)


async def delete_api(services: UsageServices, call: Call) -> Reply:
    await _definitions(services).delete_api(call.path["restapi_id"])
    return 202, None


# -- resources -----------------------------------------------------------------------------------


async def get_resources(services: UsageServices, call: Call) -> Reply:
    page = await _definitions(services).resources(
        call.path["restapi_id"], position=call.text("position"), limit=call.number("limit")
    )
    embed = _embeds(call, "methods")
    items = [shapes.resource(entry, embed_methods=embed) for entry in page.items]
    return 200, listing(Page(items, page.position))


async def get_resource(services: UsageServices, call: Call) -> Reply:
    entry = await _definitions(services).resource(call.path["restapi_id"], call.path["resource_id"])
    return 200, shapes.resource(entry, embed_methods=_embeds(call, "methods"))


# -- deployments ---------------------------------------------------------------------------------


async def create_deployment(services: UsageServices, call: Call) -> Reply:
    _refuse(call, "cacheClusterEnabled", "cacheClusterSize", "canarySettings", "tracingEnabled")
    deployment = await _definitions(services).create_deployment(
        call.path["restapi_id"],
        stage_name=call.optional_string("stageName") or None,
        stage_description=call.string("stageDescription"),
        description=call.string("description"),
        variables=call.mapping("variables"),
    )
    return 201, shapes.deployment(deployment)


async def get_deployments(services: UsageServices, call: Call) -> Reply:
    page = await _definitions(services).deployments(
        call.path["restapi_id"], position=call.text("position"), limit=call.number("limit")
    )
    return 200, listing(Page([shapes.deployment(d) for d in page.items], page.position))


async def get_deployment(services: UsageServices, call: Call) -> Reply:
    found = await _definitions(services).deployment(
        call.path["restapi_id"], call.path["deployment_id"]
    )
    return 200, shapes.deployment(found)


async def delete_deployment(services: UsageServices, call: Call) -> Reply:
    await _definitions(services).delete_deployment(
        call.path["restapi_id"], call.path["deployment_id"]
    )
    return 202, None


# -- stages --------------------------------------------------------------------------------------


async def create_stage(services: UsageServices, call: Call) -> Reply:
    _refuse(
        call,
        "cacheClusterEnabled",
        "cacheClusterSize",
        "canarySettings",
        "tracingEnabled",
        "documentationVersion",
        "tags",
    )
    name = call.optional_string("stageName")
    deployment_id = call.optional_string("deploymentId")
    if not name or not deployment_id:
        raise BadRequest("stageName and deploymentId are required")
    created = await _definitions(services).create_stage(
        call.path["restapi_id"],
        name,
        deployment_id,
        description=call.string("description"),
        variables=call.mapping("variables"),
    )
    return 201, shapes.stage(created)


async def get_stages(services: UsageServices, call: Call) -> Reply:
    found = await _definitions(services).stages(
        call.path["restapi_id"], call.text("deploymentId") or None
    )
    return 200, {"item": [shapes.stage(s) for s in found]}


async def get_stage(services: UsageServices, call: Call) -> Reply:
    found = await _definitions(services).stage(call.path["restapi_id"], call.path["stage_name"])
    return 200, shapes.stage(found)


async def update_stage(services: UsageServices, call: Call) -> Reply:
    updated = await _definitions(services).update_stage(
        call.path["restapi_id"], call.path["stage_name"], call.patch_operations()
    )
    return 200, shapes.stage(updated)


async def delete_stage(services: UsageServices, call: Call) -> Reply:
    await _definitions(services).delete_stage(call.path["restapi_id"], call.path["stage_name"])
    return 202, None


_API = ("restapis", "{restapi_id}")

ROUTES: Final = (
    Route("POST", ("restapis",), create_or_import_api),
    Route("GET", ("restapis",), get_apis),
    Route("GET", _API, get_api),
    Route("PUT", _API, put_api),
    Route("PATCH", _API, update_api),
    Route("DELETE", _API, delete_api),
    Route("GET", (*_API, "resources"), get_resources),
    Route("GET", (*_API, "resources", "{resource_id}"), get_resource),
    Route("POST", (*_API, "deployments"), create_deployment),
    Route("GET", (*_API, "deployments"), get_deployments),
    Route("GET", (*_API, "deployments", "{deployment_id}"), get_deployment),
    Route("DELETE", (*_API, "deployments", "{deployment_id}"), delete_deployment),
    Route("POST", (*_API, "stages"), create_stage),
    Route("GET", (*_API, "stages"), get_stages),
    Route("GET", (*_API, "stages", "{stage_name}"), get_stage),
    Route("PATCH", (*_API, "stages", "{stage_name}"), update_stage),
    Route("DELETE", (*_API, "stages", "{stage_name}"), delete_stage),
)
