"""AWS_PROXY integrations served in-process: a Python handler fed the exact Lambda proxy event.

Failures map as API Gateway maps Lambda's: a handler that raises, runs out of its own timeout
or answers in a shape API Gateway refuses is `IntegrationMalformed` (REST 502, HTTP API 500);
no answer within the integration's timeout is `IntegrationTimeout` (REST 504, HTTP API 503).
Tracebacks go to the `authgate.functions` log, never to the client.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from authgate.definition.model import PayloadVersion, Protocol
from authgate.errors import IntegrationMalformed, IntegrationTimeout
from authgate.http1.message import Response
from authgate.integrations.functions import FunctionError, InvokeTimeout, LambdaFunction, invoke
from authgate.integrations.lambda_events import (
    EventSource,
    body_is_binary,
    build_event,
)
from authgate.integrations.lambda_responses import (
    MalformedResponse,
    ProxyResult,
    parse_response_v1,
    parse_response_v2,
)

if TYPE_CHECKING:
    from concurrent.futures import Executor

    from authgate.definition.routes import MethodPlan, StagePlan
    from authgate.gateway.exchange import Exchange
    from authgate.http1.message import Request

__all__ = ["PythonIntegration", "event_source"]

log = logging.getLogger("authgate.functions")

_EVERY_TYPE = ("*/*",)


class PythonIntegration:
    """Invoke one Lambda-style function for each request of a method."""

    def __init__(
        self,
        function: LambdaFunction,
        payload_version: PayloadVersion = "1.0",
        timeout_ms: int = 29_000,
        *,
        executor: Executor | None = None,
    ) -> None:
        """`executor` runs plain (non-async) handlers; None means the loop's default pool."""
        self.function = function
        self.payload_version = payload_version
        self.timeout_ms = timeout_ms
        self.executor = executor

    async def invoke(self, exchange: Exchange) -> Response:
        method = exchange.method
        if method is None:
            raise IntegrationMalformed("no method was matched for this exchange")
        stage = exchange.stage or method.stage
        body = await exchange.request.body.read()
        source = event_source(exchange, method, stage, body)
        event = build_event(source, stage.protocol, self.payload_version)
        started = time.monotonic()
        try:
            result = await invoke(
                self.function,
                event,
                limit_s=self.timeout_ms / 1000,
                region=stage.region,
                account_id=stage.account_id,
                executor=self.executor,
            )
        except InvokeTimeout as exc:
            raise IntegrationTimeout(str(exc)) from exc
        except FunctionError as exc:
            raise IntegrationMalformed(exc.reason) from exc
        finally:
            exchange.integration_latency_ms = int((time.monotonic() - started) * 1000)
        try:
            parsed = self._read(result, stage, exchange.request)
        except MalformedResponse as exc:
            reason = f"Malformed Lambda proxy response from {self.function.name}: {exc}"
            log.warning("%s (request %s)", reason, exchange.request_id)
            raise IntegrationMalformed(reason) from exc
        return Response(parsed.status, parsed.headers, parsed.body)

    def _read(self, result: object, stage: StagePlan, request: Request) -> ProxyResult:
        if stage.protocol is Protocol.REST:
            return parse_response_v1(result, stage.binary_media_types, request.header("accept"))
        if self.payload_version == "1.0":
            return parse_response_v1(result, _EVERY_TYPE)
        return parse_response_v2(result)


def event_source(
    exchange: Exchange, method: MethodPlan, stage: StagePlan, body: bytes
) -> EventSource:
    """What the event is made of, gathered from a routed exchange and its request body."""
    request = exchange.request
    return EventSource(
        method=request.method,
        path=exchange.path or "/",
        resource_path=method.resource_path,
        route_key=method.route_key,
        headers=request.headers,
        query=request.query,
        path_parameters=exchange.path_parameters,
        stage_variables=stage.variables,
        body=body,
        is_binary=body_is_binary(
            stage.protocol, request.header("content-type"), stage.binary_media_types
        ),
        request_id=exchange.request_id,
        request_time_ms=int(exchange.received_at * 1000),
        source_ip=exchange.source_ip,
        user_agent=request.header("user-agent"),
        protocol=f"HTTP/{request.http_version}",
        stage=stage.stage,
        api_id=stage.api_id,
        account_id=stage.account_id,
        domain_name=stage.domain_name,
        resource_id=method.resource_id if stage.protocol is Protocol.REST else None,
        deployment_id=stage.deployment_id,
        extended_request_id=exchange.extended_request_id,
        authorizer=exchange.authorizer_context,
        identity=exchange.identity,
    )
