"""What an operator declares: APIs, resources, methods, integrations and stages.

Pure: no I/O. These frozen objects are what `openapi.py` produces from a document and what
`compile.py` turns into a RouteTable; nothing on the request path reads them directly.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Literal

from authgate.policy.evaluate import AuthorizationType

EMPTY: Mapping[str, Any] = MappingProxyType({})


def empty() -> Mapping[str, Any]:
    """The shared read-only empty mapping, as a dataclass default factory."""
    return EMPTY


class Protocol(StrEnum):
    """REST APIs (API Gateway v1) and HTTP APIs (v2) differ in events, errors and features."""

    REST = "REST"
    HTTP = "HTTP"


class IntegrationType(StrEnum):
    AWS_PROXY = "AWS_PROXY"
    HTTP_PROXY = "HTTP_PROXY"
    HTTP = "HTTP"
    MOCK = "MOCK"


PayloadVersion = Literal["1.0", "2.0"]


@dataclass(frozen=True, slots=True)
class IntegrationResponse:
    """One entry of `x-amazon-apigateway-integration.responses` (HTTP and MOCK integrations).

    `selection_pattern` is a regular expression matched against the backend's status code;
    the entry keyed `default` has none and catches the rest.
    """

    status_code: int
    selection_pattern: str | None = None
    response_parameters: Mapping[str, str] = field(default_factory=empty)
    response_templates: Mapping[str, str] = field(default_factory=empty)


@dataclass(frozen=True, slots=True)
class Integration:
    type: IntegrationType
    uri: str = ""
    """For proxies the backend URL (may hold `{param}` and `${stageVariables.x}`); for
    AWS_PROXY the Lambda invocation ARN naming a function from the function map."""
    http_method: str = "ANY"
    timeout_ms: int = 29_000
    request_parameters: Mapping[str, str] = field(default_factory=empty)
    """`integration.request.{header,querystring,path}.NAME` → a source expression."""
    request_templates: Mapping[str, str] = field(default_factory=empty)
    responses: tuple[IntegrationResponse, ...] = ()
    payload_format_version: PayloadVersion = "1.0"
    passthrough_behavior: str = "WHEN_NO_MATCH"


@dataclass(frozen=True, slots=True)
class Method:
    http_method: str
    """Upper-case verb, or `ANY` for x-amazon-apigateway-any-method."""
    integration: Integration
    operation_name: str | None = None
    authorization: AuthorizationType = AuthorizationType.NONE
    api_key_required: bool = False


@dataclass(frozen=True, slots=True)
class Resource:
    path: str
    """The resource template, e.g. `/items/{id}` or `/{proxy+}`."""
    methods: Mapping[str, Method]
    """Keyed by upper-case verb (`ANY` included)."""


@dataclass(frozen=True, slots=True)
class GatewayResponse:
    """A customised gateway response (x-amazon-apigateway-gateway-responses)."""

    status_code: int | None = None
    response_parameters: Mapping[str, str] = field(default_factory=empty)
    response_templates: Mapping[str, str] = field(default_factory=empty)


@dataclass(frozen=True, slots=True)
class RestApi:
    """One API definition, REST or HTTP. The id is assigned by configuration, not the document."""

    id: str
    name: str
    protocol: Protocol
    resources: tuple[Resource, ...]
    binary_media_types: tuple[str, ...] = ()
    gateway_responses: Mapping[str, GatewayResponse] = field(default_factory=empty)
    policy: str | None = None
    """The resource policy (x-amazon-apigateway-policy), as JSON text."""
    endpoint_type: str = "REGIONAL"
    """REGIONAL, EDGE or PRIVATE (x-amazon-apigateway-endpoint-configuration)."""
    vpc_endpoint_ids: tuple[str, ...] = ()
    api_key_source: str = "HEADER"
    """Where metered methods find their API key: HEADER (x-api-key) or AUTHORIZER."""


@dataclass(frozen=True, slots=True)
class Stage:
    name: str
    variables: Mapping[str, str] = field(default_factory=empty)
    access_log_format: str | None = None
    """AWS `accessLogSettings.format`: a template of `$context.*` variables (JSON or text)."""
    throttle: tuple[float, int] | None = None
    """(rate, burst) for every method of the stage (AWS's `*/*` method setting)."""
    method_throttles: Mapping[str, tuple[float, int]] = field(default_factory=empty)
    """`/resource/path/VERB` → (rate, burst)."""
