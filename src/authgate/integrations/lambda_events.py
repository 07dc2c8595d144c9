"""The Lambda proxy event API Gateway sends, in each payload format, built from plain inputs.

Pure: no I/O. Shapes follow the Developer Guide pages `set-up-lambda-proxy-integrations` (REST,
format 1.0) and `http-api-develop-integrations-lambda` (HTTP APIs, formats 1.0 and 2.0), as
summarised in the project's `lambda-proxy-events.md` fact sheet. Reading the function's answer
back is `lambda_responses.py`.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import unquote_plus

from authgate.clock import request_time
from authgate.definition.model import Protocol

__all__ = [
    "EventSource",
    "body_is_binary",
    "build_event",
    "http_v1_event",
    "http_v2_event",
    "is_textual",
    "media_type",
    "media_type_matches",
    "parse_query",
    "rest_event",
]

Event = dict[str, object]

DEFAULT_STAGE = "$default"

# What HTTP APIs deliver as text. The guide only says "if the content type is binary, the body is
# base64-encoded"; this split was observed against AWS by others (ministackorg/ministack#766):
# text/* and these three are text; anything else, a missing Content-Type and
# application/x-www-form-urlencoded included, arrives base64-encoded.
_TEXTUAL = frozenset({"application/json", "application/xml", "application/javascript"})

_IDENTITY_KEYS = (
    "cognitoIdentityPoolId",
    "accountId",
    "cognitoIdentityId",
    "caller",
    "sourceIp",
    "principalOrgId",
    "accessKey",
    "cognitoAuthenticationType",
    "cognitoAuthenticationProvider",
    "userArn",
    "userAgent",
    "user",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class EventSource:
    """Everything an event is made of, already known when the integration runs."""

    method: str
    path: str
    """The request path below the stage, raw (percent-escapes kept), starting with '/'."""
    resource_path: str
    """The resource template (`/items/{id}`), or `/$default` for HTTP API's catch-all route."""
    route_key: str
    headers: Sequence[tuple[str, str]]
    query: str
    """The raw query string, without '?'."""
    path_parameters: Mapping[str, str] = field(default_factory=dict)
    stage_variables: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    is_binary: bool = False
    """Send the body base64-encoded (decide with `body_is_binary`)."""
    request_id: str
    request_time_ms: int
    source_ip: str
    user_agent: str | None = None
    protocol: str = "HTTP/1.1"
    stage: str
    api_id: str
    account_id: str
    domain_name: str
    resource_id: str | None = None
    deployment_id: str = ""
    extended_request_id: str = ""
    authorizer: Mapping[str, object] | None = None
    """`requestContext.authorizer`, already shaped for the API's protocol; None when no auth."""
    identity: Mapping[str, object | None] = field(default_factory=dict)
    """Extra `requestContext.identity` fields for format 1.0 (apiKey, accessKey, userArn, ...)."""


def build_event(src: EventSource, protocol: Protocol, payload_version: str) -> Event:
    """The event for an API's protocol; REST APIs only know format 1.0."""
    if protocol is Protocol.REST:
        return rest_event(src)
    if payload_version == "1.0":
        return http_v1_event(src)
    return http_v2_event(src)


def rest_event(src: EventSource) -> Event:
    """REST API event (format 1.0): original header casing, `null` for empty collections."""
    headers, multi_headers = _single_and_multi(src.headers, lower=False)
    query, multi_query = _single_and_multi(parse_query(src.query, rest=True), lower=None)
    body, encoded = _body(src)
    context: Event = {
        "resourceId": src.resource_id,
        "resourcePath": src.resource_path,
        "httpMethod": src.method,
        "extendedRequestId": src.extended_request_id,
        "requestTime": request_time(src.request_time_ms / 1000),
        "path": f"/{src.stage}{src.path}",
        "accountId": src.account_id,
        "protocol": src.protocol,
        "stage": src.stage,
        "domainPrefix": _domain_prefix(src.domain_name),
        "requestTimeEpoch": src.request_time_ms,
        "requestId": src.request_id,
        "identity": _identity(src),
        "domainName": src.domain_name,
        "deploymentId": src.deployment_id,
        "apiId": src.api_id,
    }
    if src.authorizer is not None:
        context["authorizer"] = _fresh(src.authorizer)
    return {
        "resource": src.resource_path,
        "path": src.path,
        "httpMethod": src.method,
        "headers": headers,
        "multiValueHeaders": multi_headers,
        "queryStringParameters": query,
        "multiValueQueryStringParameters": multi_query,
        "pathParameters": dict(src.path_parameters) or None,
        "stageVariables": dict(src.stage_variables) or None,
        "requestContext": context,
        "body": body,
        "isBase64Encoded": encoded,
    }


def http_v1_event(src: EventSource) -> Event:
    """HTTP API event in format 1.0: the REST shape with `version`, lower-case header names.

    The path carries the stage as HTTP APIs' `rawPath` does; without auth the authorizer is
    `{"claims": null, "scopes": null}` as in the guide's sample.
    """
    headers, multi_headers = _single_and_multi(src.headers, lower=True)
    query, multi_query = _single_and_multi(parse_query(src.query, rest=False), lower=None)
    body, encoded = _body(src)
    path = _http_path(src)
    resource = _http_resource(src.resource_path)
    authorizer = (
        _fresh(src.authorizer) if src.authorizer is not None else {"claims": None, "scopes": None}
    )
    return {
        "version": "1.0",
        "resource": resource,
        "path": path,
        "httpMethod": src.method,
        "headers": headers,
        "multiValueHeaders": multi_headers,
        "queryStringParameters": query,
        "multiValueQueryStringParameters": multi_query,
        "requestContext": {
            "accountId": src.account_id,
            "apiId": src.api_id,
            "authorizer": authorizer,
            "domainName": src.domain_name,
            "domainPrefix": _domain_prefix(src.domain_name),
            "extendedRequestId": src.extended_request_id,
            "httpMethod": src.method,
            "identity": _identity(src),
            "path": path,
            "protocol": src.protocol,
            "requestId": src.request_id,
            "requestTime": request_time(src.request_time_ms / 1000),
            "requestTimeEpoch": src.request_time_ms,
            "resourceId": src.resource_id,
            "resourcePath": resource,
            "stage": src.stage,
        },
        "pathParameters": dict(src.path_parameters) or None,
        "stageVariables": dict(src.stage_variables) or None,
        "body": body,
        "isBase64Encoded": encoded,
    }


def http_v2_event(src: EventSource) -> Event:
    """HTTP API event in format 2.0: joined duplicates, cookies apart, empty members omitted."""
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in src.headers:
        low = name.lower()
        if low == "cookie":
            cookies.extend(c for c in (part.strip() for part in value.split(";")) if c)
        else:
            headers[low] = f"{headers[low]},{value}" if low in headers else value
    query: dict[str, str] = {}
    for key, value in parse_query(src.query, rest=False):
        query[key] = f"{query[key]},{value}" if key in query else value
    path = _http_path(src)
    event: Event = {"version": "2.0", "routeKey": src.route_key, "rawPath": path}
    event["rawQueryString"] = src.query
    if cookies:
        event["cookies"] = cookies
    event["headers"] = headers
    if query:
        event["queryStringParameters"] = query
    if src.path_parameters:
        event["pathParameters"] = dict(src.path_parameters)
    if src.stage_variables:
        event["stageVariables"] = dict(src.stage_variables)
    context: Event = {"accountId": src.account_id, "apiId": src.api_id}
    if src.authorizer is not None:
        context["authorizer"] = _fresh(src.authorizer)
    context.update(
        {
            "domainName": src.domain_name,
            "domainPrefix": _domain_prefix(src.domain_name),
            "http": {
                "method": src.method,
                "path": path,
                "protocol": src.protocol,
                "sourceIp": src.source_ip,
                "userAgent": src.user_agent or "",
            },
            "requestId": src.request_id,
            "routeKey": src.route_key,
            "stage": src.stage,
            "time": request_time(src.request_time_ms / 1000),
            "timeEpoch": src.request_time_ms,
        }
    )
    event["requestContext"] = context
    body, encoded = _body(src)
    if body is not None:
        event["body"] = body
    event["isBase64Encoded"] = encoded
    return event


def parse_query(raw: str, *, rest: bool) -> list[tuple[str, str]]:
    """Decoded (name, value) pairs in order: `+` is a space, percent-escapes are decoded.

    REST APIs also split on `;` (Developer Guide, `api-gateway-known-issues`).
    """
    if not raw:
        return []
    parts: Iterable[str] = raw.split("&")
    if rest and ";" in raw:
        parts = (piece for part in parts for piece in part.split(";"))
    pairs: list[tuple[str, str]] = []
    for part in parts:
        if not part:
            continue
        name, _, value = part.partition("=")
        key = unquote_plus(name, errors="replace")
        if key:
            pairs.append((key, unquote_plus(value, errors="replace")))
    return pairs


def media_type(content_type: str | None) -> str | None:
    """`type/subtype` of a Content-Type or Accept entry, lower-cased, parameters dropped."""
    if content_type is None:
        return None
    value = content_type.split(";", 1)[0].strip().lower()
    return value or None


def media_type_matches(content_type: str | None, patterns: Iterable[str]) -> bool:
    """Whether a media type is one of `binaryMediaTypes`; `*` stands for a whole type or subtype."""
    value = media_type(content_type)
    if value is None:
        return False
    kind, _, sub = value.partition("/")
    for pattern in patterns:
        p_kind, _, p_sub = pattern.strip().lower().partition("/")
        if p_kind in ("*", kind) and p_sub in ("*", sub):
            return True
    return False


def is_textual(content_type: str | None) -> bool:
    """Whether an HTTP API hands a body with this Content-Type over as text."""
    value = media_type(content_type)
    return value is not None and (value.startswith("text/") or value in _TEXTUAL)


def body_is_binary(
    protocol: Protocol, content_type: str | None, binary_media_types: Iterable[str]
) -> bool:
    """Whether the request body goes to the function base64-encoded.

    REST APIs encode what matches the API's `binaryMediaTypes` (a request without Content-Type
    counts as `application/json`, API Gateway's default); HTTP APIs have no such list and encode
    every body whose type is not textual.
    """
    if protocol is Protocol.REST:
        return media_type_matches(content_type or "application/json", binary_media_types)
    return not is_textual(content_type)


def _single_and_multi(
    pairs: Iterable[tuple[str, str]], *, lower: bool | None
) -> tuple[dict[str, str] | None, dict[str, list[str]] | None]:
    """Format 1.0's pair of maps: last value wins in one, every value kept in the other.

    `lower` groups names case-insensitively, spelled lower-case (True) or as first seen
    (False); None keeps names exactly (query strings are case-sensitive).
    """
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    spelling: dict[str, str] = {}
    for name, value in pairs:
        if lower is None:
            key = name
        else:
            key = spelling.setdefault(name.lower(), name.lower() if lower else name)
        single[key] = value
        multi.setdefault(key, []).append(value)
    if not single:
        return None, None
    return single, multi


def _body(src: EventSource) -> tuple[str | None, bool]:
    if not src.body:
        return None, False
    if src.is_binary:
        return base64.b64encode(src.body).decode("ascii"), True
    return src.body.decode("utf-8", errors="replace"), False


def _fresh(value: Mapping[str, object]) -> dict[str, object]:
    """A copy of an authorizer context down to its last dict and list: the context may be
    shared by every request of one caller, and a handler may change its event."""
    return {key: _fresh_value(item) for key, item in value.items()}


def _fresh_value(value: object) -> object:
    if isinstance(value, Mapping):
        return _fresh(value)
    if isinstance(value, list | tuple):
        return [_fresh_value(item) for item in value]
    return value


def _identity(src: EventSource) -> dict[str, object | None]:
    identity: dict[str, object | None] = dict.fromkeys(_IDENTITY_KEYS)
    identity["sourceIp"] = src.source_ip
    identity["userAgent"] = src.user_agent
    identity.update(src.identity)
    return identity


def _http_path(src: EventSource) -> str:
    """HTTP APIs show the stage in the path, except for the `$default` stage."""
    return src.path if src.stage == DEFAULT_STAGE else f"/{src.stage}{src.path}"


def _http_resource(resource_path: str) -> str:
    return "$default" if resource_path == "/$default" else resource_path


def _domain_prefix(domain_name: str) -> str:
    return domain_name.split(".", 1)[0]
