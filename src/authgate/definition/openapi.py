"""Read OpenAPI 3.0 and Swagger 2.0 documents with `x-amazon-apigateway-*` extensions.

Pure: no I/O (the caller reads the file). Every problem is collected with its JSON-pointer
location, and any AWS extension or integration field that authgate does not implement yet is
a problem naming it: an API that silently lost a security setting would be worse than none.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from authgate.definition.authorizer_specs import EXTENSION as AUTHORIZER_EXTENSION
from authgate.definition.authorizer_specs import parse_authorizer
from authgate.definition.model import (
    AuthorizerSpec,
    AuthorizerType,
    GatewayResponse,
    Integration,
    IntegrationResponse,
    IntegrationType,
    Method,
    PayloadVersion,
    Protocol,
    Resource,
    RestApi,
)
from authgate.definition.shared_secret_jwt import EXTENSION as SHARED_SECRET_JWT
from authgate.definition.shared_secret_jwt import parse_shared_secret_jwt
from authgate.errors import ConfigError, Problem
from authgate.policy.evaluate import AuthorizationType

EXT = "x-amazon-apigateway-"
VERBS = ("get", "put", "post", "delete", "options", "head", "patch")
ANY_METHOD = f"{EXT}any-method"
DEFAULT_ROUTE = "/$default"

# Extensions understood at the top of a document (others → "not supported").
_TOP_EXTENSIONS = {
    f"{EXT}api-key-source",
    f"{EXT}binary-media-types",
    f"{EXT}gateway-responses",
    f"{EXT}importexport-version",
    f"{EXT}policy",
    f"{EXT}endpoint-configuration",
}
_OPERATION_EXTENSIONS = {f"{EXT}integration", f"{EXT}auth"}
_ENDPOINT_TYPES = {"REGIONAL", "EDGE", "PRIVATE"}
API_KEY = "API_KEY"
"""A security scheme that requires an API key (x-api-key), not an authorizer."""
Scheme = AuthorizationType | AuthorizerSpec | str
_METHOD_AUTHORIZATION = {
    AuthorizerType.TOKEN: AuthorizationType.CUSTOM,
    AuthorizerType.REQUEST: AuthorizationType.CUSTOM,
    AuthorizerType.COGNITO_USER_POOLS: AuthorizationType.COGNITO_USER_POOLS,
    AuthorizerType.JWT: AuthorizationType.JWT,
}
_SCOPED = (AuthorizerType.COGNITO_USER_POOLS, AuthorizerType.JWT)


@dataclass(frozen=True, slots=True)
class Security:
    """What a security requirement asks of a method."""

    authorization: AuthorizationType = AuthorizationType.NONE
    api_key: bool = False
    authorizer: str | None = None
    """The declared authorizer's scheme name."""
    scopes: tuple[str, ...] = ()


_PUBLIC = Security()
_INTEGRATION_FIELDS = {
    "type",
    "uri",
    "httpMethod",
    "timeoutInMillis",
    "requestParameters",
    "requestTemplates",
    "responses",
    "payloadFormatVersion",
    "passthroughBehavior",
    "connectionType",
    "cacheNamespace",
    "cacheKeyParameters",
    "description",
}
_RESPONSE_TYPES = frozenset(
    {
        "ACCESS_DENIED",
        "API_CONFIGURATION_ERROR",
        "AUTHORIZER_CONFIGURATION_ERROR",
        "AUTHORIZER_FAILURE",
        "BAD_REQUEST_PARAMETERS",
        "BAD_REQUEST_BODY",
        "DEFAULT_4XX",
        "DEFAULT_5XX",
        "EXPIRED_TOKEN",
        "INTEGRATION_FAILURE",
        "INTEGRATION_TIMEOUT",
        "INVALID_API_KEY",
        "INVALID_SIGNATURE",
        "MISSING_AUTHENTICATION_TOKEN",
        "QUOTA_EXCEEDED",
        "RESOURCE_NOT_FOUND",
        "THROTTLED",
        "UNAUTHORIZED",
        "UNSUPPORTED_MEDIA_TYPE",
        "WAF_FILTERED",
    }
)
_SEGMENT = re.compile(r"^(?:\{[A-Za-z0-9._-]+\+?\}|[A-Za-z0-9._~:@!$&'()*,;=%-]+)$")
_TIMEOUT_RANGE = (50, 29_000)
_HTTP_TIMEOUT_RANGE = (50, 30_000)


def pointer(*parts: str) -> str:
    """A JSON pointer (RFC 6901) for a location in the document."""
    return "#/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


def resource_id(api_id: str, path: str) -> str:
    """A stable 10-character resource id, like AWS's, derived from the API and path."""
    digest = hashlib.sha256(f"{api_id}{path}".encode()).digest()
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    return "".join(alphabet[b % 36] for b in digest[:10])


def parse_definition(
    document: object, *, api_id: str, source: str, protocol: Protocol | None = None
) -> RestApi:
    """Turn a loaded OpenAPI/Swagger document into a RestApi, or raise ConfigError."""
    parser = _Parser(source)
    api = parser.parse(document, api_id, protocol)
    if parser.problems or api is None:
        raise ConfigError(parser.problems)
    return api


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[Problem] = []
        self.schemes: dict[str, Scheme] = {}
        self.default_security = _PUBLIC
        self.protocol = Protocol.REST

    def problem(self, where: str, message: str) -> None:
        self.problems.append(Problem(f"{self.source}:{where}", message))

    def unsupported(self, where: str, name: str) -> None:
        self.problem(where, f"{name} is not supported by authgate yet")

    # -- document ---------------------------------------------------------------------------

    def parse(self, doc: object, api_id: str, protocol: Protocol | None) -> RestApi | None:
        if not isinstance(doc, dict):
            self.problem("#", "the definition must be a YAML or JSON object")
            return None
        version = str(doc.get("openapi") or doc.get("swagger") or "")
        if not (version.startswith("3.0") or version == "2.0"):
            self.problem("#", 'expected `openapi: 3.0.x` or `swagger: "2.0"`')
            return None
        for key in doc:
            if key.startswith(EXT) and key not in _TOP_EXTENSIONS:
                self.unsupported(pointer(key), key)
        if protocol is None:
            is_http = f"{EXT}importexport-version" in doc
            protocol = Protocol.HTTP if is_http else Protocol.REST
        components = doc.get("components") if version.startswith("3") else None
        raw_schemes = (
            components.get("securitySchemes") if isinstance(components, dict) else None
        ) or doc.get("securityDefinitions")
        schemes_at = (
            pointer("components", "securitySchemes")
            if version.startswith("3")
            else pointer("securityDefinitions")
        )
        self.protocol = protocol
        self.schemes = self._security_schemes(raw_schemes, schemes_at)
        default = self._security(doc.get("security"), pointer("security"))
        self.default_security = default or _PUBLIC
        info = doc.get("info")
        name = str(info.get("title") or api_id) if isinstance(info, dict) else api_id
        resources = self._paths(doc.get("paths"), protocol)
        binary = self._binary_media_types(doc.get(f"{EXT}binary-media-types"))
        responses = self._gateway_responses(doc.get(f"{EXT}gateway-responses"), protocol)
        policy = self._policy(doc.get(f"{EXT}policy"), protocol)
        key_source = str(doc.get(f"{EXT}api-key-source", "HEADER")).upper()
        if key_source not in ("HEADER", "AUTHORIZER"):
            self.problem(pointer(f"{EXT}api-key-source"), "must be HEADER or AUTHORIZER")
        endpoint_type, vpces = self._endpoint(doc, version)
        return RestApi(
            id=api_id,
            name=name,
            protocol=protocol,
            resources=resources,
            binary_media_types=binary,
            gateway_responses=responses,
            policy=policy,
            endpoint_type=endpoint_type,
            vpc_endpoint_ids=vpces,
            api_key_source=key_source,
            authorizers=MappingProxyType(
                {s.name: s for s in self.schemes.values() if isinstance(s, AuthorizerSpec)}
            ),
        )

    # -- security ---------------------------------------------------------------------------

    def _security_schemes(self, raw: object, where: str) -> dict[str, Scheme]:
        """Scheme name → what it means; only the kinds authgate implements are accepted."""
        if raw is None:
            return {}
        if not isinstance(raw, dict):
            self.problem(where, "must be an object of security schemes")
            return {}
        schemes: dict[str, Scheme] = {}
        for name, scheme in raw.items():
            at = f"{where}/{name}"
            if not isinstance(scheme, dict):
                self.problem(at, "must be an object")
                continue
            authtype = str(scheme.get(f"{EXT}authtype", "")).lower()
            if authtype == "awssigv4":
                if scheme.get("type") != "apiKey" or str(scheme.get("name", "")).lower() != (
                    "authorization"
                ):
                    self.problem(
                        at, "a SigV4 scheme is `type: apiKey, name: Authorization, in: header`"
                    )
                    continue
                schemes[str(name)] = AuthorizationType.AWS_IAM
            elif SHARED_SECRET_JWT in scheme:  # an authgate extension
                if AUTHORIZER_EXTENSION in scheme:
                    self.problem(
                        at, f"{SHARED_SECRET_JWT} and {AUTHORIZER_EXTENSION} exclude each other"
                    )
                    continue
                spec = parse_shared_secret_jwt(
                    str(name), scheme, self.protocol, at, self.source, self.problem
                )
                if spec is not None:
                    schemes[str(name)] = spec
            elif AUTHORIZER_EXTENSION in scheme:
                spec = parse_authorizer(
                    str(name), scheme, self.protocol, at, self.source, self.problem
                )
                if spec is not None:
                    schemes[str(name)] = spec
            elif (
                scheme.get("type") == "apiKey"
                and str(scheme.get("name", "")).lower() == "x-api-key"
                and scheme.get("in") == "header"
            ):
                if self.protocol is Protocol.HTTP:
                    self.problem(at, "HTTP APIs do not support API keys")
                    continue
                schemes[str(name)] = API_KEY
            else:
                self.unsupported(at, f"security scheme {name!r}")
        return schemes

    def _security(self, security: object, where: str) -> Security | None:
        """None when absent (inherit); public (NONE, no key) for an empty list."""
        if security is None:
            return None
        if not isinstance(security, list):
            self.problem(where, "must be a list of security requirements")
            return None
        if len(security) > 1:
            self.problem(
                where, "a method has one security requirement; alternatives are not supported"
            )
        found: list[tuple[Scheme, tuple[str, ...]]] = []
        api_key = False
        for i, requirement in enumerate(security[:1]):
            if not isinstance(requirement, dict):
                self.problem(f"{where}/{i}", "must be an object")
                continue
            for name, scopes in requirement.items():
                at = f"{where}/{i}/{name}"
                kind = self.schemes.get(str(name))
                if kind is None:
                    self.problem(at, f"no usable security scheme named {name!r}")
                    continue
                listed = self._scopes(scopes, kind, at)
                if kind == API_KEY:
                    api_key = True
                else:
                    found.append((kind, listed))
        if len(found) > 1:
            self.problem(where, "a method has one authorizer")
        if not found:
            return Security(api_key=api_key)
        kind, scopes = found[0]
        if isinstance(kind, AuthorizerSpec):
            authorization = _METHOD_AUTHORIZATION[kind.type]
            return Security(authorization, api_key, kind.name, scopes)
        return Security(AuthorizationType(kind), api_key)

    def _scopes(self, raw: object, kind: Scheme, where: str) -> tuple[str, ...]:
        """A requirement's list: OAuth scopes, which only user-pool and JWT authorizers use."""
        if raw is None or raw == []:
            return ()
        if not isinstance(raw, list) or not all(isinstance(s, str) and s for s in raw):
            self.problem(where, "must be a list of scopes")
            return ()
        if not isinstance(kind, AuthorizerSpec) or kind.type not in _SCOPED:
            self.problem(where, "only COGNITO_USER_POOLS and JWT authorizers take scopes")
            return ()
        return tuple(raw)

    def _policy(self, raw: object, protocol: Protocol) -> str | None:
        where = pointer(f"{EXT}policy")
        if raw is None:
            return None
        if protocol is Protocol.HTTP:
            self.problem(where, "HTTP APIs do not support resource policies")
            return None
        if isinstance(raw, str):
            return raw
        if isinstance(raw, dict):
            return json.dumps(raw)
        self.problem(where, "must be a policy document (object or JSON text)")
        return None

    def _endpoint(self, doc: dict[str, Any], version: str) -> tuple[str, tuple[str, ...]]:
        key = f"{EXT}endpoint-configuration"
        raw: object = doc.get(key)
        where = pointer(key)
        servers = doc.get("servers")
        if version.startswith("3") and isinstance(servers, list):
            for i, server in enumerate(servers):
                if isinstance(server, dict) and key in server:
                    raw, where = server[key], pointer("servers", str(i), key)
        if raw is None:
            return "REGIONAL", ()
        if not isinstance(raw, dict):
            self.problem(where, "must be an object")
            return "REGIONAL", ()
        for field_name in raw:
            if field_name not in {"types", "vpcEndpointIds"}:
                self.unsupported(f"{where}/{field_name}", f"endpoint configuration {field_name!r}")
        types = raw.get("types", ["REGIONAL"])
        if not isinstance(types, list) or len(types) != 1 or types[0] not in _ENDPOINT_TYPES:
            self.problem(f"{where}/types", "must be one of [REGIONAL], [EDGE], [PRIVATE]")
            return "REGIONAL", ()
        vpces = raw.get("vpcEndpointIds", [])
        if not isinstance(vpces, list) or not all(isinstance(v, str) for v in vpces):
            self.problem(f"{where}/vpcEndpointIds", "must be a list of VPC endpoint ids")
            vpces = []
        return str(types[0]), tuple(vpces)

    # -- paths ------------------------------------------------------------------------------

    def _paths(self, paths: object, protocol: Protocol) -> tuple[Resource, ...]:
        if not isinstance(paths, dict) or not paths:
            self.problem(pointer("paths"), "the definition declares no paths")
            return ()
        resources: list[Resource] = []
        for path, item in paths.items():
            where = pointer("paths", str(path))
            if not self._valid_path(str(path), where, protocol):
                continue
            if not isinstance(item, dict):
                self.problem(where, "a path item must be an object")
                continue
            methods: dict[str, Method] = {}
            for key, op in item.items():
                op_where = pointer("paths", str(path), str(key))
                if key in VERBS or key == ANY_METHOD:
                    verb = "ANY" if key == ANY_METHOD else key.upper()
                    method = self._operation(verb, op, op_where, protocol)
                    if method is not None:
                        methods[verb] = method
                elif key.startswith(EXT):
                    self.unsupported(op_where, key)
                elif key == "trace":
                    self.problem(op_where, "API Gateway does not support the TRACE method")
            if methods:
                resources.append(Resource(str(path), MappingProxyType(methods)))
        return tuple(resources)

    def _valid_path(self, path: str, where: str, protocol: Protocol) -> bool:
        if path == DEFAULT_ROUTE:
            if protocol is not Protocol.HTTP:
                self.problem(where, "the $default route exists only in HTTP APIs")
                return False
            return True
        if not path.startswith("/"):
            self.problem(where, "a path must start with '/'")
            return False
        if path == "/":
            return True
        segments = path[1:].split("/")
        names: set[str] = set()
        for i, segment in enumerate(segments):
            if not segment or not _SEGMENT.fullmatch(segment):
                self.problem(where, f"invalid path segment {segment!r}")
                return False
            if segment.startswith("{"):
                name = segment.strip("{}+")
                if name in names:
                    self.problem(where, f"path parameter {name!r} appears twice")
                    return False
                names.add(name)
                if segment.endswith("+}") and i != len(segments) - 1:
                    self.problem(where, "a greedy {name+} parameter must be the last segment")
                    return False
        return True

    def _operation(self, verb: str, op: object, where: str, protocol: Protocol) -> Method | None:
        if not isinstance(op, dict):
            self.problem(where, "an operation must be an object")
            return None
        for key in op:
            if key.startswith(EXT) and key not in _OPERATION_EXTENSIONS:
                self.unsupported(f"{where}/{key}", key)
        security = self._security(op.get("security"), f"{where}/security") or self.default_security
        explicit = op.get(f"{EXT}auth")
        if explicit is not None:
            kind = explicit.get("type") if isinstance(explicit, dict) else None
            if kind not in (AuthorizationType.NONE, AuthorizationType.AWS_IAM):
                self.unsupported(f"{where}/{EXT}auth", f"{EXT}auth type {kind!r}")
            else:
                security = Security(AuthorizationType(kind), security.api_key)
        raw = op.get(f"{EXT}integration")
        if raw is None:
            self.problem(where, f"the operation has no {EXT}integration")
            return None
        integration = self._integration(raw, f"{where}/{EXT}integration", protocol)
        if integration is None:
            return None
        operation_id = op.get("operationId")
        return Method(
            verb,
            integration,
            str(operation_id) if operation_id else None,
            security.authorization,
            security.api_key,
            security.authorizer,
            security.scopes,
        )

    # -- integrations -----------------------------------------------------------------------

    def _integration(self, raw: object, where: str, protocol: Protocol) -> Integration | None:
        if not isinstance(raw, dict):
            self.problem(where, "must be an object")
            return None
        for key in raw:
            if key not in _INTEGRATION_FIELDS:
                self.unsupported(f"{where}/{key}", f"integration field {key!r}")
        kind = str(raw.get("type", "")).upper()
        try:
            itype = IntegrationType(kind)
        except ValueError:
            self.problem(
                f"{where}/type",
                f"integration type {raw.get('type')!r} is not supported "
                "(aws_proxy, http_proxy, http, mock)",
            )
            return None
        uri = str(raw.get("uri", ""))
        if itype is not IntegrationType.MOCK and not uri:
            self.problem(f"{where}/uri", "required for this integration type")
        if itype in (IntegrationType.HTTP, IntegrationType.HTTP_PROXY) and not re.match(
            r"^(https?://|\$\{stageVariables\.)", uri
        ):
            self.problem(f"{where}/uri", "must be an http:// or https:// URL")
        if str(raw.get("connectionType", "INTERNET")).upper() != "INTERNET":
            self.unsupported(f"{where}/connectionType", "connectionType VPC_LINK")
        if raw.get("cacheKeyParameters"):
            self.unsupported(f"{where}/cacheKeyParameters", "integration caching")
        lo, hi = _HTTP_TIMEOUT_RANGE if protocol is Protocol.HTTP else _TIMEOUT_RANGE
        timeout = raw.get("timeoutInMillis", hi if protocol is Protocol.HTTP else 29_000)
        if isinstance(timeout, bool) or not isinstance(timeout, int) or not lo <= timeout <= hi:
            self.problem(f"{where}/timeoutInMillis", f"must be an integer from {lo} to {hi}")
            timeout = 29_000
        default_payload = "2.0" if protocol is Protocol.HTTP else "1.0"
        payload = str(raw.get("payloadFormatVersion", default_payload))
        if payload not in ("1.0", "2.0"):
            self.problem(f"{where}/payloadFormatVersion", "must be 1.0 or 2.0")
            payload = default_payload
        elif payload == "2.0" and protocol is Protocol.REST:
            self.problem(f"{where}/payloadFormatVersion", "REST APIs use payload format 1.0")
        passthrough = str(raw.get("passthroughBehavior", "WHEN_NO_MATCH")).upper()
        if passthrough != "WHEN_NO_MATCH":
            self.unsupported(f"{where}/passthroughBehavior", f"passthroughBehavior {passthrough}")
        payload_version: PayloadVersion = "2.0" if payload == "2.0" else "1.0"
        return Integration(
            type=itype,
            uri=uri,
            http_method=str(raw.get("httpMethod", "ANY")).upper(),
            timeout_ms=timeout,
            request_parameters=self._string_map(
                raw.get("requestParameters"), f"{where}/requestParameters"
            ),
            request_templates=self._string_map(
                raw.get("requestTemplates"), f"{where}/requestTemplates"
            ),
            responses=self._integration_responses(raw.get("responses"), f"{where}/responses"),
            payload_format_version=payload_version,
            passthrough_behavior=passthrough,
        )

    def _integration_responses(self, raw: object, where: str) -> tuple[IntegrationResponse, ...]:
        if raw is None:
            return ()
        if not isinstance(raw, dict):
            self.problem(where, "must be an object keyed by selection pattern")
            return ()
        out: list[IntegrationResponse] = []
        for pattern, body in raw.items():
            at = f"{where}/{pattern}"
            if not isinstance(body, dict):
                self.problem(at, "must be an object")
                continue
            for key in body:
                if key not in {"statusCode", "responseParameters", "responseTemplates"}:
                    self.unsupported(f"{at}/{key}", f"integration response field {key!r}")
            status = str(body.get("statusCode", ""))
            if not re.fullmatch(r"[1-5]\d\d", status):
                self.problem(f"{at}/statusCode", "must be an HTTP status code")
                continue
            if pattern != "default":
                try:
                    re.compile(str(pattern))
                except re.error as exc:
                    self.problem(at, f"selection pattern is not a valid regular expression: {exc}")
                    continue
            out.append(
                IntegrationResponse(
                    status_code=int(status),
                    selection_pattern=None if pattern == "default" else str(pattern),
                    response_parameters=self._string_map(
                        body.get("responseParameters"), f"{at}/responseParameters"
                    ),
                    response_templates=self._string_map(
                        body.get("responseTemplates"), f"{at}/responseTemplates"
                    ),
                )
            )
        return tuple(out)

    # -- API-wide settings ------------------------------------------------------------------

    def _binary_media_types(self, raw: object) -> tuple[str, ...]:
        if raw is None:
            return ()
        if not isinstance(raw, list) or not all(isinstance(t, str) and "/" in t for t in raw):
            self.problem(pointer(f"{EXT}binary-media-types"), "must be a list of media types")
            return ()
        return tuple(raw)

    def _gateway_responses(self, raw: object, protocol: Protocol) -> Mapping[str, GatewayResponse]:
        where = pointer(f"{EXT}gateway-responses")
        if raw is None:
            return MappingProxyType({})
        if protocol is Protocol.HTTP:
            self.problem(where, "HTTP APIs do not support custom gateway responses")
            return MappingProxyType({})
        if not isinstance(raw, dict):
            self.problem(where, "must be an object keyed by response type")
            return MappingProxyType({})
        out: dict[str, GatewayResponse] = {}
        for rtype, body in raw.items():
            at = f"{where}/{rtype}"
            if rtype == "REQUEST_TOO_LARGE":
                self.problem(at, "REQUEST_TOO_LARGE cannot be customised")
                continue
            if rtype not in _RESPONSE_TYPES:
                self.problem(at, f"unknown gateway response type {rtype!r}")
                continue
            if not isinstance(body, dict):
                self.problem(at, "must be an object")
                continue
            for key in body:
                if key not in {"statusCode", "responseParameters", "responseTemplates"}:
                    self.problem(f"{at}/{key}", f"unknown gateway response field {key!r}")
            status = body.get("statusCode")
            if status is not None and not re.fullmatch(r"[1-5]\d\d", str(status)):
                self.problem(f"{at}/statusCode", "must be an HTTP status code")
                status = None
            out[rtype] = GatewayResponse(
                status_code=int(status) if status is not None else None,
                response_parameters=self._string_map(
                    body.get("responseParameters"), f"{at}/responseParameters"
                ),
                response_templates=self._string_map(
                    body.get("responseTemplates"), f"{at}/responseTemplates"
                ),
            )
        return MappingProxyType(out)

    def _string_map(self, raw: object, where: str) -> Mapping[str, str]:
        if raw is None:
            return MappingProxyType({})
        if not isinstance(raw, dict):
            self.problem(where, "must be an object of strings")
            return MappingProxyType({})
        out: dict[str, str] = {}
        for key, value in raw.items():
            if not isinstance(value, str):
                self.problem(f"{where}/{key}", "must be a string")
                continue
            out[str(key)] = value
        return MappingProxyType(out)


def document_digest(document: Any) -> str:
    """A short stable digest of a definition, used as its deployment id."""
    blob = repr(document).encode()
    return hashlib.sha256(blob).hexdigest()[:6]
