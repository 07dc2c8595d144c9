"""One management call over the AWS query protocol, from HTTP request to XML response.

Wiring it takes a few lines: an HTTP handler that knows which service a request is for (IAM
and STS share `POST /`; the SigV4 scope or the listener tells them apart) calls

    return await handle_query(make_context, request, "iam", authorize=authorize)

with
- `make_context(request, body, request_id) -> AdminContext`: authenticates the call (verify
  the SigV4 signature over `body`, resolve the caller) and builds the context; raising an
  `IamError` (`InvalidClientTokenId`, `SignatureDoesNotMatch`, …) answers with that error;
- `authorize(caller, action, resource) -> bool | str`: True allows; False denies with IAM's
  message; a string denies and is appended to that message as the reason (e.g. `because no
  identity-based policy allows the iam:CreateUser action`).

The order is AWS's: authenticate, decode, find the operation, validate what the resource
needs, authorize, run. `IamError`s become the XML error envelope with their own status;
anything else is logged with the request id and answered as a bare 500, never with detail.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Final, Protocol

from authgate.admin import iam, sts
from authgate.admin.context import AdminContext, OperationTable
from authgate.http1.message import Body, BodyIncomplete, BodyTooLarge, Request, Response
from authgate.iam.errors import AccessDenied, IamError
from authgate.iam.model import Caller
from authgate.wire.query import DEFAULT_LIMITS, QueryError, QueryLimits, parse_query, too_large
from authgate.wire.xml import (
    CONTENT_TYPE,
    IAM_NAMESPACE,
    STS_NAMESPACE,
    render_error,
    render_result,
)

logger = logging.getLogger("authgate.admin")

FAILURE_MESSAGE: Final = (
    "The request processing has failed because of an unknown error, exception or failure."
)


class ContextFactory(Protocol):
    """Authenticates one call and returns its context; raises IamError to refuse it."""

    def __call__(
        self, request: Request, body: bytes, request_id: str
    ) -> Awaitable[AdminContext]: ...


class Authorize(Protocol):
    """The policy decision for `caller` doing `action` on `resource`."""

    def __call__(self, caller: Caller, action: str, resource: str) -> Awaitable[bool | str]: ...


@dataclass(frozen=True, slots=True)
class QueryService:
    version: str
    namespace: str
    operations: OperationTable
    failure_code: str
    """What an unexpected failure is called: IAM says ServiceFailure, STS InternalFailure."""


SERVICES: Final = {
    "iam": QueryService("2010-05-08", IAM_NAMESPACE, iam.OPERATIONS, "ServiceFailure"),
    "sts": QueryService("2011-06-15", STS_NAMESPACE, sts.OPERATIONS, "InternalFailure"),
}


async def handle_query(
    ctx_factory: ContextFactory,
    request: Request,
    service: str,
    *,
    authorize: Authorize,
    limits: QueryLimits = DEFAULT_LIMITS,
    operations: OperationTable | None = None,
) -> Response:
    """Answer one IAM (`service="iam"`) or STS (`"sts"`) query-protocol request.

    `operations` replaces the service's table, e.g. `{**iam.OPERATIONS, "X": Operation(…)}`
    to add an operation. Body framing errors (client gone, bad chunking) propagate to the
    HTTP server, which owns the connection.
    """
    api = SERVICES[service]
    table = api.operations if operations is None else operations
    request_id = str(uuid.uuid4())
    action = "?"
    try:
        body = await read_body(request.body, limits.max_body_bytes)
        ctx = await ctx_factory(request, body, request_id)
        query = parse_query(request.query, body, request.header("content-type"), limits)
        if not query.action:
            raise QueryError("MissingAction", "Missing Action")
        action = query.action
        operation = table.get(action) if query.version == api.version else None
        if operation is None:
            raise QueryError(
                "InvalidAction",
                f"Could not find operation {action} for version {query.version or ''}",
            )
        resource = await operation.resource(ctx, query.params)
        if resource is not None:
            verdict = await authorize(ctx.caller, operation.action, resource)
            if verdict is not True:
                raise denial(ctx.caller, operation.action, resource, verdict)
        result = await operation.handler(ctx, query.params)
        return _xml(200, render_result(action, api.namespace, result, request_id), request_id)
    except BodyIncomplete:
        raise
    except IamError as error:
        return _error(api, request_id, error.code, error.message, error.status, error.sender)
    except QueryError as error:
        return _error(api, request_id, error.code, error.message, error.status, True)
    except BodyTooLarge as error:
        big = too_large(error.limit)
        return _error(api, request_id, big.code, big.message, big.status, True)
    except Exception:
        logger.exception("%s %s failed (request %s)", service, action, request_id)
        return _error(api, request_id, api.failure_code, FAILURE_MESSAGE, 500, False)


def denial(caller: Caller, action: str, resource: str, verdict: bool | str) -> AccessDenied:
    """IAM's AccessDenied for a refused call, with the hook's reason when it gave one."""
    error = AccessDenied.not_authorized(caller.arn, action, resource)
    if isinstance(verdict, str) and verdict:
        return AccessDenied(f"{error.message} {verdict}")
    return error


async def read_body(body: Body, limit: int) -> bytes:
    """The whole body, refused as soon as it is known to exceed `limit` bytes."""
    if body.content_length is not None and body.content_length > limit:
        raise too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in body.stream():
        size += len(chunk)
        if size > limit:
            raise too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _error(
    api: QueryService, request_id: str, code: str, message: str, status: int, sender: bool
) -> Response:
    body = render_error(code, message, request_id, sender=sender, namespace=api.namespace)
    return _xml(status, body, request_id)


def _xml(status: int, body: bytes, request_id: str) -> Response:
    headers = [("content-type", CONTENT_TYPE), ("x-amzn-requestid", request_id)]
    return Response(status, headers, body)
