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


class AuthorizerType(StrEnum):
    """What proves the caller's identity: AWS's authorizer types, plus AWS_IAM (SigV4)."""

    AWS_IAM = "AWS_IAM"
    TOKEN = "TOKEN"  # noqa: S105 - an authorizer type, not a secret
    REQUEST = "REQUEST"
    COGNITO_USER_POOLS = "COGNITO_USER_POOLS"
    JWT = "JWT"


IdentitySourceKind = Literal["header", "querystring", "stageVariables", "context"]


@dataclass(frozen=True, slots=True)
class IdentitySource:
    """One identity source, parsed from `method.request.header.Auth` (REST) or
    `$request.header.Auth` (HTTP APIs)."""

    kind: IdentitySourceKind
    name: str
    """Header names keep their spelling (matched case-insensitively); the rest are exact."""
    expression: str
    """As written in the definition."""


@dataclass(frozen=True, slots=True)
class FunctionAuthorizerSettings:
    """TOKEN and REQUEST (Lambda) authorizers."""

    function_uri: str
    """`authorizerUri`: names a function of the function map."""
    validation_expression: str | None = None
    """TOKEN only: the token must match it entirely, else 401 without a call."""
    payload_version: PayloadVersion = "1.0"
    """HTTP APIs' `authorizerPayloadFormatVersion`; REST APIs always use 1.0."""
    simple_responses: bool = False
    """HTTP APIs, format 2.0: the function answers `{"isAuthorized": bool, "context": {...}}`."""
    credentials: str | None = None
    """`authorizerCredentials`: kept for export; in-process functions need no invoke role."""


@dataclass(frozen=True, slots=True)
class UserPoolAuthorizerSettings:
    """COGNITO_USER_POOLS authorizers (REST)."""

    provider_arns: tuple[str, ...]
    validation_expression: str | None = None
    """Matched against the ID token's `aud`."""


@dataclass(frozen=True, slots=True)
class JwtAuthorizerSettings:
    """JWT authorizers (HTTP APIs): `jwtConfiguration`."""

    issuer: str
    audiences: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SharedSecretJwtSettings:
    """authgate extension (`x-authgate-jwt`): JWTs signed with a shared HMAC secret. The
    definition names where the secret is, never the secret."""

    issuer: str
    audiences: tuple[str, ...]
    """Empty: the audience is not checked."""
    secret_env: str
    """The environment variable that holds the secret."""
    algorithms: tuple[str, ...] = ("HS256",)


AuthorizerSettings = (
    FunctionAuthorizerSettings
    | UserPoolAuthorizerSettings
    | JwtAuthorizerSettings
    | SharedSecretJwtSettings
)


@dataclass(frozen=True, slots=True)
class AuthorizerSpec:
    """An authorizer as declared (`x-amazon-apigateway-authorizer` in a security scheme).

    Hashable: the registry builds one Authorizer per API and declaration, shared by its methods.
    """

    name: str
    """The security scheme's name; methods refer to it."""
    type: AuthorizerType
    location: str
    """Where it is declared (`file:#/components/securitySchemes/name`), for load-time errors."""
    identity_sources: tuple[IdentitySource, ...] = ()
    result_ttl_s: int = 0
    """`authorizerResultTtlInSeconds`; 0 turns result caching off."""
    settings: AuthorizerSettings | None = None
    """None only for AWS_IAM, which has nothing to declare."""


IAM_AUTHORIZER = AuthorizerSpec("AWS_IAM", AuthorizerType.AWS_IAM, "AWS_IAM")
"""What an AWS_IAM method uses: SigV4 needs no declaration."""


@dataclass(frozen=True, slots=True)
class Method:
    http_method: str
    """Upper-case verb, or `ANY` for x-amazon-apigateway-any-method."""
    integration: Integration
    operation_name: str | None = None
    authorization: AuthorizationType = AuthorizationType.NONE
    api_key_required: bool = False
    authorizer: str | None = None
    """The name of the declared authorizer (a key of `RestApi.authorizers`), if any."""
    authorization_scopes: tuple[str, ...] = ()
    """OAuth scopes listed in the method's security requirement (COGNITO_USER_POOLS, JWT)."""


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
    authorizers: Mapping[str, AuthorizerSpec] = field(default_factory=empty)
    """Declared authorizers by security-scheme name."""

    def authorizer_of(self, method: Method) -> AuthorizerSpec | None:
        """The authorizer a method runs: its declared one, SigV4 for AWS_IAM, else None."""
        if method.authorizer is not None:
            return self.authorizers[method.authorizer]
        if method.authorization is AuthorizationType.AWS_IAM:
            return IAM_AUTHORIZER
        return None


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
