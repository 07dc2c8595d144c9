"""The compiled, immutable lookup tables a deployment becomes, and how a path is matched in them.

Pure: no I/O. Matching walks the request's path segments through a tree of dictionaries, so
its cost grows with the depth of the path, never with the number of routes. Precedence is
AWS's: a literal segment beats `{param}`, which beats a greedy `{proxy+}`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from authgate.definition.model import (
    GatewayResponse,
    PayloadVersion,
    Protocol,
    empty,
)
from authgate.policy.evaluate import AuthorizationType

if TYPE_CHECKING:
    from authgate.gateway.steps.base import Step
    from authgate.integrations.base import Integration

ANY = "ANY"


@dataclass(frozen=True, slots=True)
class StagePlan:
    """Everything about an API stage that every method of it shares."""

    api_id: str
    api_name: str
    protocol: Protocol
    stage: str
    deployment_id: str
    account_id: str
    region: str
    variables: Mapping[str, str] = field(default_factory=empty)
    binary_media_types: tuple[str, ...] = ()
    gateway_responses: Mapping[str, GatewayResponse] = field(default_factory=empty)
    access_log_format: str | None = None
    throttle: tuple[float, int] | None = None
    method_throttles: Mapping[str, tuple[float, int]] = field(default_factory=empty)

    @property
    def domain_name(self) -> str:
        return f"{self.api_id}.execute-api.{self.region}.amazonaws.com"


@dataclass(frozen=True, slots=True)
class MethodPlan:
    """One resource + verb, compiled: what the pipeline needs and nothing it must compute."""

    stage: StagePlan
    http_method: str
    """As declared: a verb or `ANY`."""
    resource_path: str
    resource_id: str
    integration: Integration
    payload_version: PayloadVersion = "1.0"
    operation_name: str | None = None
    steps: tuple[Step, ...] = ()
    """Only the steps this method needs, already in the pipeline's fixed order."""
    authorization: AuthorizationType = AuthorizationType.NONE
    """The method's `authorizationType` (AWS_IAM, CUSTOM, COGNITO_USER_POOLS, JWT or NONE)."""
    authorization_scopes: tuple[str, ...] = ()
    """The method's OAuth scopes: read by the user-pool and JWT authorizers it shares with
    other methods."""

    @property
    def route_key(self) -> str:
        """HTTP API route key (`GET /items/{id}`, `$default`)."""
        if self.resource_path == "/$default":
            return "$default"
        return f"{self.http_method} {self.resource_path}"


@dataclass(slots=True)
class ResourceNode:
    """A node of the resource tree. Mutable only while `compile.py` builds it."""

    literal: dict[str, ResourceNode] = field(default_factory=dict)
    param: tuple[str, ResourceNode] | None = None
    greedy: tuple[str, ResourceNode] | None = None
    methods: dict[str, MethodPlan] | None = None
    """None: no resource ends here. Keyed by verb, `ANY` included."""


@dataclass(frozen=True, slots=True)
class Match:
    method: MethodPlan
    path_parameters: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class StageRoutes:
    """The resource tree of one API stage, plus HTTP API's `$default` route."""

    plan: StagePlan
    root: ResourceNode
    default_route: Mapping[str, MethodPlan] = field(default_factory=empty)

    def match(self, http_method: str, path: str) -> Match | None:
        """Find the method for a request path below the stage (raw, starting with '/').

        REST APIs pick the most specific resource first and only then the verb, so a known
        path with an undeclared verb is not found. HTTP APIs choose among routes with the
        verb in view and fall back to `$default`.
        """
        segments = path.split("/")[1:]
        if segments and segments[-1] == "":
            segments.pop()
        params: dict[str, str] = {}
        if self.plan.protocol is Protocol.REST:
            node = _walk(self.root, segments, 0, params, None)
            if node is None or node.methods is None:
                return None
            method = node.methods.get(http_method) or node.methods.get(ANY)
        else:
            node = _walk(self.root, segments, 0, params, http_method)
            methods: Mapping[str, MethodPlan]
            if node is not None and node.methods is not None:
                methods = node.methods
            else:
                params.clear()
                methods = self.default_route
            method = methods.get(http_method) or methods.get(ANY)
        if method is None:
            return None
        return Match(method, params)


def _serves(node: ResourceNode, verb: str | None) -> bool:
    if node.methods is None:
        return False
    return verb is None or verb in node.methods or ANY in node.methods


def _walk(
    node: ResourceNode, segments: list[str], i: int, params: dict[str, str], verb: str | None
) -> ResourceNode | None:
    """Depth-first search in precedence order; `params` holds the winning branch's values."""
    if i == len(segments):
        return node if _serves(node, verb) else None
    segment = segments[i]
    child = node.literal.get(segment)
    if child is not None:
        found = _walk(child, segments, i + 1, params, verb)
        if found is not None:
            return found
    if node.param is not None and segment:
        name, child = node.param
        found = _walk(child, segments, i + 1, params, verb)
        if found is not None:
            params[name] = segment
            return found
    if node.greedy is not None:
        name, child = node.greedy
        if _serves(child, verb):
            params[name] = "/".join(segments[i:])
            return child
    return None
