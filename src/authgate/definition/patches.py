"""UpdateRestApi's and UpdateStage's patch operations applied to a record.

Pure: no I/O. Paths outside the supported set are refused with AWS's wording, naming the
paths that are supported.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Final

from authgate.definition.checks import check_description, check_policy, check_variable
from authgate.definition.model import Protocol
from authgate.definition.records import StoredApi, StoredStage
from authgate.policy import ApiScope
from authgate.usage.errors import BadRequest
from authgate.usage.patch import PatchOperation, require_value, unescape, unsupported

API_PATHS: Final = "/name, /description, /policy, /apiKeySource"
STAGE_PATHS: Final = "/deploymentId, /description, /variables/{name}"
_SET = frozenset({"replace", "add", "remove"})


def patch_api(
    record: StoredApi, operation: PatchOperation, *, scope: ApiScope, protocol: Protocol
) -> StoredApi:
    """`scope` expands the policy's `execute-api:/` shorthand; `protocol` is the API's (HTTP
    APIs have no resource policy)."""
    path, op = operation.path, operation.op
    if path == "/name" and op == "replace":
        name = require_value(operation)
        if not name.strip():
            raise BadRequest("Invalid API name: it must not be empty")
        return replace(record, name=name)
    if path == "/description" and op in _SET:
        text = "" if op == "remove" else check_description(operation.value or "")
        return replace(record, description=text)
    if path == "/policy" and op in _SET:
        if op == "remove" or not (operation.value or "").strip():
            return replace(record, policy=None)
        if protocol is Protocol.HTTP:
            raise BadRequest("HTTP APIs do not support resource policies")
        return replace(record, policy=check_policy(require_value(operation), scope))
    if path == "/apiKeySource" and op == "replace":
        source = require_value(operation).upper()
        if source not in ("HEADER", "AUTHORIZER"):
            raise BadRequest(f"Invalid API key source {operation.value!r}: HEADER or AUTHORIZER")
        return replace(record, api_key_source=source)
    raise unsupported(operation, API_PATHS)


def patch_stage(stage: StoredStage, operation: PatchOperation) -> StoredStage:
    path, op = operation.path, operation.op
    if path == "/deploymentId" and op == "replace":
        return replace(stage, deployment_id=require_value(operation))
    if path == "/description" and op in _SET:
        text = "" if op == "remove" else check_description(operation.value or "")
        return replace(stage, description=text)
    if path.startswith("/variables/") and op in _SET:
        name = unescape(path[len("/variables/") :])
        variables = dict(stage.variables)
        if op == "remove":
            variables.pop(name, None)
        else:
            value = require_value(operation)
            check_variable(name, value)
            variables[name] = value
        return replace(stage, variables=variables)
    raise unsupported(operation, STAGE_PATHS)
