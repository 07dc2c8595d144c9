"""Gateway responses: the answers authgate gives itself, with AWS's statuses, bodies and headers.

A step that stops a request returns a `Rejection` naming the response type; rendering applies
the API's customisations (`x-amazon-apigateway-gateway-responses`) in AWS's precedence:
the type itself, then DEFAULT_4XX / DEFAULT_5XX, then the built-in default.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

import orjson

from authgate.definition.model import GatewayResponse, Protocol
from authgate.definition.routes import StagePlan
from authgate.gateway.exchange import Exchange
from authgate.http1.message import Headers, Response

MAX_BODY = 10_485_760
TOO_LARGE_TEXT = f"HTTP content length exceeded {MAX_BODY} bytes."


class ResponseType(Enum):
    """AWS's gateway response types."""

    ACCESS_DENIED = "ACCESS_DENIED"
    API_CONFIGURATION_ERROR = "API_CONFIGURATION_ERROR"
    AUTHORIZER_CONFIGURATION_ERROR = "AUTHORIZER_CONFIGURATION_ERROR"
    AUTHORIZER_FAILURE = "AUTHORIZER_FAILURE"
    BAD_REQUEST_PARAMETERS = "BAD_REQUEST_PARAMETERS"
    BAD_REQUEST_BODY = "BAD_REQUEST_BODY"
    EXPIRED_TOKEN = "EXPIRED_TOKEN"  # noqa: S105 - a response type, not a secret
    INTEGRATION_FAILURE = "INTEGRATION_FAILURE"
    INTEGRATION_TIMEOUT = "INTEGRATION_TIMEOUT"
    INVALID_API_KEY = "INVALID_API_KEY"
    INVALID_SIGNATURE = "INVALID_SIGNATURE"
    MISSING_AUTHENTICATION_TOKEN = "MISSING_AUTHENTICATION_TOKEN"  # noqa: S105
    QUOTA_EXCEEDED = "QUOTA_EXCEEDED"
    REQUEST_TOO_LARGE = "REQUEST_TOO_LARGE"
    RESOURCE_NOT_FOUND = "RESOURCE_NOT_FOUND"
    THROTTLED = "THROTTLED"
    UNAUTHORIZED = "UNAUTHORIZED"
    UNSUPPORTED_MEDIA_TYPE = "UNSUPPORTED_MEDIA_TYPE"
    WAF_FILTERED = "WAF_FILTERED"

    @property
    def status(self) -> int:
        return _DEFAULTS[self][0]

    @property
    def message(self) -> str | None:
        return _DEFAULTS[self][1]

    @property
    def error_type(self) -> str | None:
        return _DEFAULTS[self][2]


_T = ResponseType
_DEFAULTS: dict[ResponseType, tuple[int, str | None, str | None]] = {
    # type: (default status, default REST message, x-amzn-ErrorType)
    _T.ACCESS_DENIED: (
        403,
        "User is not authorized to access this resource",
        "AccessDeniedException",
    ),
    _T.API_CONFIGURATION_ERROR: (500, "Internal server error", "ApiConfigurationException"),
    _T.AUTHORIZER_CONFIGURATION_ERROR: (500, None, "AuthorizerConfigurationException"),
    _T.AUTHORIZER_FAILURE: (500, None, "AuthorizerFailureException"),
    _T.BAD_REQUEST_PARAMETERS: (400, "Missing required request parameters", "BadRequestException"),
    _T.BAD_REQUEST_BODY: (400, "Invalid request body", "BadRequestException"),
    _T.EXPIRED_TOKEN: (
        403,
        "The security token included in the request is expired",
        "ExpiredTokenException",
    ),
    _T.INTEGRATION_FAILURE: (504, "Internal server error", "InternalServerErrorException"),
    _T.INTEGRATION_TIMEOUT: (504, "Endpoint request timed out", "InternalServerErrorException"),
    _T.INVALID_API_KEY: (403, "Forbidden", "ForbiddenException"),
    _T.INVALID_SIGNATURE: (403, None, "InvalidSignatureException"),
    _T.MISSING_AUTHENTICATION_TOKEN: (
        403,
        "Missing Authentication Token",
        "MissingAuthenticationTokenException",
    ),
    _T.QUOTA_EXCEEDED: (429, "Limit Exceeded", "LimitExceededException"),
    _T.REQUEST_TOO_LARGE: (413, TOO_LARGE_TEXT, None),
    _T.RESOURCE_NOT_FOUND: (404, "Not Found", "ResourceNotFoundException"),
    _T.THROTTLED: (429, "Too Many Requests", "TooManyRequestsException"),
    _T.UNAUTHORIZED: (401, "Unauthorized", "UnauthorizedException"),
    _T.UNSUPPORTED_MEDIA_TYPE: (415, "Unsupported Media Type", "BadRequestException"),
    _T.WAF_FILTERED: (403, "Forbidden", "ForbiddenException"),
}


# HTTP APIs answer differently and cannot be customised (http-api-* developer guide pages).
_HTTP_API: dict[ResponseType, tuple[int, str]] = {
    ResponseType.MISSING_AUTHENTICATION_TOKEN: (404, "Not Found"),
    ResponseType.RESOURCE_NOT_FOUND: (404, "Not Found"),
    ResponseType.ACCESS_DENIED: (403, "Forbidden"),
    ResponseType.UNAUTHORIZED: (401, "Unauthorized"),
    ResponseType.THROTTLED: (429, "Too Many Requests"),
    ResponseType.INTEGRATION_FAILURE: (500, "Internal Server Error"),
    ResponseType.INTEGRATION_TIMEOUT: (503, "Service Unavailable"),
    ResponseType.AUTHORIZER_FAILURE: (500, "Internal Server Error"),
    ResponseType.AUTHORIZER_CONFIGURATION_ERROR: (500, "Internal Server Error"),
    ResponseType.API_CONFIGURATION_ERROR: (500, "Internal Server Error"),
}


@dataclass(frozen=True, slots=True)
class Rejection:
    """A step's decision to answer the request itself."""

    type: ResponseType
    message: str | None = None
    """Overrides the type's default message; None keeps it (or `null` where AWS sends null)."""
    status: int | None = None
    """Overrides the default status (Lambda proxy failures are 502, not the type's 504)."""
    message_key: str = "message"
    """`Message` for policy denials, as AWS spells it there."""
    error_type: str | None = None
    """Overrides the type's x-amzn-ErrorType (SigV4 failures name their own)."""
    reason: str = ""
    """Why, for logs and `explain` only; never sent."""
    headers: tuple[tuple[str, str], ...] = ()
    """Extra headers the answer carries (a JWT authorizer's `www-authenticate` challenge)."""


_REQUEST_ID, _APIGW_ID, _TRACE_ID = "x-amzn-RequestId", "x-amz-apigw-id", "X-Amzn-Trace-Id"
_HTTP_API_REQUEST_ID = "apigw-requestid"


def standard_headers(exchange: Exchange, protocol: Protocol) -> Headers:
    """The identification headers AWS adds to every response."""
    if protocol is Protocol.HTTP:
        return [(_HTTP_API_REQUEST_ID, exchange.request_id)]
    return [
        (_REQUEST_ID, exchange.request_id),
        (_APIGW_ID, exchange.extended_request_id),
        (_TRACE_ID, exchange.trace_id),
    ]


def standard_head(exchange: Exchange, protocol: Protocol) -> bytes:
    """`standard_headers` as encoded lines, for the path every successful request takes (the
    ids are ASCII by construction, so they need no checks on the way out)."""
    if protocol is Protocol.HTTP:
        return f"{_HTTP_API_REQUEST_ID}: {exchange.request_id}\r\n".encode()
    return (
        f"{_REQUEST_ID}: {exchange.request_id}\r\n"
        f"{_APIGW_ID}: {exchange.extended_request_id}\r\n"
        f"{_TRACE_ID}: {exchange.trace_id}\r\n"
    ).encode()


def render(rejection: Rejection, exchange: Exchange) -> Response:
    """Build the response for a rejection, applying the stage's customisations."""
    rtype = rejection.type
    stage = exchange.stage
    protocol = stage.protocol if stage is not None else Protocol.REST
    exchange.error_type = rtype.name
    if rtype is ResponseType.REQUEST_TOO_LARGE:  # plain text, and never customised
        text = rejection.message or TOO_LARGE_TEXT
        exchange.error_message = text
        headers = [*standard_headers(exchange, protocol), ("content-type", "text/plain")]
        return Response(rejection.status or 413, headers, text.encode())
    if protocol is Protocol.HTTP:
        return _render_http(rejection, exchange)
    message = rejection.message if rejection.message is not None else rtype.message
    exchange.error_message = message
    status = rejection.status or rtype.status
    headers = [*standard_headers(exchange, protocol), ("content-type", "application/json")]
    error_type = rejection.error_type or rtype.error_type
    if error_type is not None:
        headers.append(("x-amzn-ErrorType", error_type))
    headers.extend(rejection.headers)
    custom = _customisation(stage, rtype, status)
    if custom is None:
        return Response(status, headers, orjson.dumps({rejection.message_key: message}))
    if custom.status_code is not None:
        status = custom.status_code
    for name, source in custom.response_parameters.items():
        header = name.removeprefix("gatewayresponse.header.")
        value = _parameter_value(source, exchange)
        if value is not None:
            headers.append((header, value))
    template = custom.response_templates.get("application/json")
    if template is None:
        body = orjson.dumps({rejection.message_key: message})
    else:
        body = _fill_template(template, exchange, rtype, message).encode()
    return Response(status, headers, body)


def _render_http(rejection: Rejection, exchange: Exchange) -> Response:
    rtype = rejection.type
    status, message = _HTTP_API.get(rtype, (rtype.status, rtype.message or ""))
    if rejection.status is not None and rtype is not ResponseType.INTEGRATION_FAILURE:
        status = rejection.status
    exchange.error_message = message
    headers = [
        *standard_headers(exchange, Protocol.HTTP),
        ("content-type", "application/json"),
        *rejection.headers,
    ]
    return Response(status, headers, orjson.dumps({"message": message}))


def _customisation(
    stage: StagePlan | None, rtype: ResponseType, status: int
) -> GatewayResponse | None:
    if stage is None or not stage.gateway_responses:
        return None
    responses = stage.gateway_responses
    found = responses.get(rtype.name)
    if found is None:
        found = responses.get("DEFAULT_5XX" if status >= 500 else "DEFAULT_4XX")
    return found


def _parameter_value(source: str, exchange: Exchange) -> str | None:
    if len(source) >= 2 and source[0] == source[-1] == "'":
        return source[1:-1]
    kind, _, name = source.partition(".")
    request = exchange.request
    if source.startswith("method.request.header."):
        return request.header(source.removeprefix("method.request.header.").lower())
    if source.startswith("method.request.path."):
        return exchange.path_parameters.get(source.removeprefix("method.request.path."))
    if source.startswith("method.request.querystring."):
        wanted = source.removeprefix("method.request.querystring.")
        for pair in request.query.split("&"):
            key, _, value = pair.partition("=")
            if key == wanted:
                return value
        return None
    if kind == "stageVariables" and exchange.stage is not None:
        return exchange.stage.variables.get(name)
    if kind == "context":
        return _context_value(name, exchange)
    return None


def _context_value(name: str, exchange: Exchange) -> str | None:
    stage = exchange.stage
    values: dict[str, str | None] = {
        "requestId": exchange.request_id,
        "extendedRequestId": exchange.extended_request_id,
        "stage": stage.stage if stage else None,
        "apiId": stage.api_id if stage else None,
        "httpMethod": exchange.request.method,
        "resourcePath": exchange.method.resource_path if exchange.method else None,
        "identity.sourceIp": exchange.source_ip,
        "identity.userAgent": exchange.request.header("user-agent"),
    }
    return values.get(name)


_TEMPLATE_VARIABLE = re.compile(r"\$(context\.[A-Za-z.]+|stageVariables\.[A-Za-z0-9_]+)")


def _fill_template(
    template: str, exchange: Exchange, rtype: ResponseType, message: str | None
) -> str:
    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "context.error.messageString":
            return orjson.dumps(message).decode()
        if name == "context.error.message":
            return message or ""
        if name == "context.error.responseType":
            return rtype.name
        if name.startswith("stageVariables."):
            stage = exchange.stage
            return stage.variables.get(name[15:], "") if stage else ""
        return _context_value(name[8:], exchange) or ""

    return _TEMPLATE_VARIABLE.sub(replace, template)
