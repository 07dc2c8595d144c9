"""API keys, usage plans and REST APIs over the `apigateway` REST-JSON protocol, from request
to response.

Wiring it takes a few lines. A handler that knows a request is for service `apigateway` (its
SigV4 scope says so) and that its path is one of these (`owns(request.path)`) calls

    return await handle_apigateway(
        request, authenticate=authenticate, authorize=authorize,
        services=UsageServices(keys, plans), region=region,
    )

with
- `authenticate(request, body) -> Caller`: verifies the SigV4 signature over `body` and
  resolves the caller; raising an `ApiGatewayError` answers with it (for a bad signature,
  `Forbidden(message, error_type)` with the signer's error type, e.g.
  `InvalidSignatureException`);
- `authorize(caller, action, resource) -> bool | str`: True allows; False denies with API
  Gateway's AccessDeniedException message; a string denies and is appended to it as the reason.

Each route declares its IAM action (`apigateway:GET|POST|PATCH|DELETE`, by HTTP method, as AWS
names them) and its resource is the path: `arn:aws:apigateway:REGION::/apikeys/{id}`,
`…::/usageplans/{id}/keys/{keyId}` and so on. The order is AWS's: read the body, authenticate,
find the route, authorize, then validate and run. `ApiGatewayError`s answer as
`{"message": …}` with their status and `x-amzn-ErrorType`; anything else is logged with the
request id and answered as a bare 500.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable
from typing import Final, Protocol
from urllib.parse import unquote

import orjson

from authgate.admin import apigateway_restapis, authorizer_trials
from authgate.admin.apigateway_input import Call, parse_query
from authgate.admin.apigateway_ops import ROUTES, Route, UsageServices
from authgate.http1.message import Body, BodyIncomplete, BodyTooLarge, Request, Response
from authgate.iam.model import Caller
from authgate.usage.errors import AccessDenied, ApiGatewayError, NotFound, TooLarge

__all__ = ["Authenticate", "Authorize", "UsageServices", "handle_apigateway", "owns"]

logger = logging.getLogger("authgate.admin")

MAX_BODY_BYTES: Final = 6 * 1024 * 1024
"""The largest body accepted: an imported key file (AWS's limit on imported definitions)."""
COLLECTIONS: Final = frozenset({"apikeys", "usageplans", "restapis"})
ALL_ROUTES: Final = (*ROUTES, *apigateway_restapis.ROUTES, *authorizer_trials.ROUTES)


class Authenticate(Protocol):
    def __call__(self, request: Request, body: bytes) -> Awaitable[Caller]: ...


class Authorize(Protocol):
    def __call__(self, caller: Caller, action: str, resource: str) -> Awaitable[bool | str]: ...


def owns(path: str) -> bool:
    """Is this path one of the API key, usage plan or REST API resources (`/apikeys…`,
    `/usageplans…`, `/restapis…`)?"""
    first = path.split("?", 1)[0].lstrip("/").split("/", 1)[0]
    return first in COLLECTIONS


async def handle_apigateway(
    request: Request,
    *,
    authenticate: Authenticate,
    authorize: Authorize,
    services: UsageServices,
    region: str,
    max_body_bytes: int = MAX_BODY_BYTES,
) -> Response:
    """Answer one API key or usage plan call. Body framing errors (client gone, bad chunking)
    propagate to the HTTP server, which owns the connection."""
    request_id = str(uuid.uuid4())
    try:
        body = await _read_body(request.body, max_body_bytes)
        caller = await authenticate(request, body)
        route, params, segments = _match(request.method, request.path)
        resource = f"arn:aws:apigateway:{region}::/{'/'.join(segments)}"
        verdict = await authorize(caller, route.action, resource)
        if verdict is not True:
            denied = AccessDenied.not_authorized(caller.arn, route.action, resource)
            if isinstance(verdict, str) and verdict:
                denied = AccessDenied(f"{denied.message} {verdict}")
            raise denied
        status, payload = await route.handler(
            services, Call(params, parse_query(request.query), body)
        )
        if payload is None:
            return Response(status, _headers(request_id), b"")
        return Response(status, _headers(request_id), orjson.dumps(payload))
    except BodyIncomplete:
        raise
    except ApiGatewayError as error:
        return error_response(error, request_id)
    except BodyTooLarge as error:
        return error_response(_too_large(error.limit), request_id)
    except Exception:
        logger.exception(
            "apigateway %s %s failed (request %s)", request.method, request.path, request_id
        )
        failure = ApiGatewayError("Internal server error")
        return error_response(failure, request_id)


def error_response(error: ApiGatewayError, request_id: str) -> Response:
    headers = [*_headers(request_id), ("x-amzn-ErrorType", error.error_type)]
    return Response(error.status, headers, orjson.dumps({"message": error.message}))


def _headers(request_id: str) -> list[tuple[str, str]]:
    return [("content-type", "application/json"), ("x-amzn-RequestId", request_id)]


def _match(method: str, path: str) -> tuple[Route, dict[str, str], list[str]]:
    """The route for `method path`, its parameters, and the decoded path segments."""
    segments = [unquote(part) for part in path.strip("/").split("/")] if path.strip("/") else []
    known_path = False
    for route in ALL_ROUTES:
        params = _bind(route.pattern, segments)
        if params is None:
            continue
        known_path = True
        if route.method == method:
            return route, params, segments
    if known_path:
        raise NotFound(f"Invalid method {method} for resource path {path}")
    raise NotFound(f"Invalid resource path {path}")


def _bind(pattern: tuple[str, ...], segments: list[str]) -> dict[str, str] | None:
    if len(pattern) != len(segments):
        return None
    params: dict[str, str] = {}
    for part, segment in zip(pattern, segments, strict=True):
        if part.startswith("{"):
            if not segment or "/" in segment:
                return None
            params[part[1:-1]] = segment
        elif part != segment:
            return None
    return params


async def _read_body(body: Body, limit: int) -> bytes:
    if body.content_length is not None and body.content_length > limit:
        raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in body.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(limit: int) -> TooLarge:
    return TooLarge(f"Request body is larger than {limit} bytes")
