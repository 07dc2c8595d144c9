"""The JSON that boto3's `apigateway` client parses for REST APIs, resources, stages and
deployments.

Pure: no I/O. Wire names follow botocore's model; timestamps are epoch seconds; lists sit
under `item`. A RestApi's `policy` is the policy's JSON text escaped once more, as API Gateway
returns it (`{\\"Version\\":...}`), so clients that undo that escaping keep working. APIs that
authgate.yaml manages carry the tag `authgate:managed-by` (an authgate extension) so a caller
can tell which APIs it may not change.
"""

from __future__ import annotations

from typing import Any, Final

import orjson

from authgate.definition.model import Integration, Method
from authgate.definition.records import ApiView, StoredDeployment, StoredStage
from authgate.definition.resources import ResourceEntry, root_resource_id

Json = dict[str, Any]

MANAGED_TAG: Final = "authgate:managed-by"


def escaped_policy(policy: str) -> str:
    """The policy as compact JSON, string-escaped without the surrounding quotes."""
    try:
        compact = orjson.dumps(orjson.loads(policy)).decode()
    except orjson.JSONDecodeError:
        compact = policy
    return orjson.dumps(compact).decode()[1:-1]


def rest_api(view: ApiView) -> Json:
    api = view.definition
    out: Json = {"id": api.id, "name": api.name}
    if view.description:
        out["description"] = view.description
    out["createdDate"] = int(view.created)
    if view.version:
        out["version"] = view.version
    if api.binary_media_types:
        out["binaryMediaTypes"] = list(api.binary_media_types)
    out["apiKeySource"] = api.api_key_source
    endpoint: Json = {"types": [api.endpoint_type]}
    if api.vpc_endpoint_ids:
        endpoint["vpcEndpointIds"] = list(api.vpc_endpoint_ids)
    out["endpointConfiguration"] = endpoint
    if api.policy:
        out["policy"] = escaped_policy(api.policy)
    out["disableExecuteApiEndpoint"] = False
    out["rootResourceId"] = root_resource_id(api.id)
    out["tags"] = {MANAGED_TAG: "authgate.yaml"} if view.managed_by_config else {}
    return out


def resource(entry: ResourceEntry, *, embed_methods: bool = False) -> Json:
    """Methods are listed by verb; their details only with `embed=methods`, as on AWS."""
    out: Json = {"id": entry.id}
    if entry.parent_id is not None:
        out["parentId"] = entry.parent_id
    if entry.path_part is not None:
        out["pathPart"] = entry.path_part
    out["path"] = entry.path
    if entry.methods:
        out["resourceMethods"] = {
            verb: method(m) if embed_methods else {} for verb, m in entry.methods.items()
        }
    return out


def method(spec: Method) -> Json:
    out: Json = {
        "httpMethod": spec.http_method,
        "authorizationType": spec.authorization.value,
        "apiKeyRequired": spec.api_key_required,
    }
    if spec.operation_name:
        out["operationName"] = spec.operation_name
    out["methodIntegration"] = integration(spec.integration)
    return out


def integration(spec: Integration) -> Json:
    out: Json = {"type": spec.type.value, "httpMethod": spec.http_method}
    if spec.uri:
        out["uri"] = spec.uri
    if spec.request_parameters:
        out["requestParameters"] = dict(spec.request_parameters)
    if spec.request_templates:
        out["requestTemplates"] = dict(spec.request_templates)
    out["passthroughBehavior"] = spec.passthrough_behavior
    out["timeoutInMillis"] = spec.timeout_ms
    if spec.responses:
        responses: Json = {}
        for response in spec.responses:
            entry: Json = {"statusCode": str(response.status_code)}
            if response.selection_pattern is not None:
                entry["selectionPattern"] = response.selection_pattern
            if response.response_parameters:
                entry["responseParameters"] = dict(response.response_parameters)
            if response.response_templates:
                entry["responseTemplates"] = dict(response.response_templates)
            responses[str(response.status_code)] = entry
        out["integrationResponses"] = responses
    return out


def stage(spec: StoredStage) -> Json:
    out: Json = {"deploymentId": spec.deployment_id, "stageName": spec.name}
    if spec.description:
        out["description"] = spec.description
    out["cacheClusterEnabled"] = False
    out["cacheClusterStatus"] = "NOT_AVAILABLE"
    out["methodSettings"] = {}
    if spec.variables:
        out["variables"] = dict(spec.variables)
    out["tracingEnabled"] = False
    out["createdDate"] = int(spec.created)
    out["lastUpdatedDate"] = int(spec.updated)
    return out


def deployment(spec: StoredDeployment) -> Json:
    out: Json = {"id": spec.id}
    if spec.description:
        out["description"] = spec.description
    out["createdDate"] = int(spec.created)
    return out
