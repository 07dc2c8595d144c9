"""The data plane: one request, from invoke URL to response, with its log line and metrics."""

from __future__ import annotations

import base64
import hashlib
import os
import random
import time
from binascii import b2a_base64
from collections.abc import AsyncIterable, AsyncIterator

from authgate.gateway import pipeline
from authgate.gateway.client_address import ClientAddress
from authgate.gateway.decisions import DecisionLog
from authgate.gateway.exchange import Exchange
from authgate.gateway.responses import Rejection, ResponseType, render, standard_head
from authgate.gateway.routing import Router
from authgate.http1.message import Request, Response
from authgate.observability.accesslog import AccessLog, LineFormat
from authgate.observability.metrics import GatewayMetrics

_NOT_FOUND = Rejection(ResponseType.MISSING_AUTHENTICATION_TOKEN, reason="no route")


_ids = random.Random(os.urandom(32))  # noqa: S311 - request ids are not secrets
_VARIANTS = "89ab"
_LOW_224 = (1 << 224) - 1
_epoch_hex: tuple[int, str] = (-1, "")


def new_ids() -> tuple[str, str, str]:
    """Request id (UUID 4 form), extended request id and X-Ray-style trace id, from one draw
    of 312 random bits (128 for the UUID, 96 for the trace, 88 for the extended id); the
    trace's epoch is formatted once per second. Runs once per request."""
    global _epoch_hex
    n = _ids.getrandbits(312)
    h = "%056x" % (n & _LOW_224)
    now = int(time.time())
    if _epoch_hex[0] != now:
        _epoch_hex = (now, f"{now:08x}")
    request_id = f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{_VARIANTS[n & 3]}{h[17:20]}-{h[20:32]}"
    extended = b2a_base64((n >> 224).to_bytes(11, "little"), newline=False).decode()
    return request_id, extended, f"Root=1-{_epoch_hex[1]}-{h[32:]}"


def _unknown_route(request: Request) -> Rejection:
    """AWS answers an unknown route with a hint when a non-SigV4 Authorization is present."""
    auth = request.header("authorization")
    if auth is None or auth.startswith("AWS4-HMAC-SHA256 "):
        return _NOT_FOUND
    digest = base64.b64encode(hashlib.sha256(auth.encode("latin-1")).digest()).decode()
    return Rejection(
        ResponseType.MISSING_AUTHENTICATION_TOKEN,
        "Invalid key=value pair (missing equal-sign) in Authorization header "
        f"(hashed with SHA-256 and encoded with Base64): '{digest}'.",
        reason="no route",
    )


class DataPlane:
    def __init__(
        self,
        router: Router,
        access_log: AccessLog,
        metrics: GatewayMetrics,
        client_address: ClientAddress | None = None,
        decisions: DecisionLog | None = None,
    ) -> None:
        self.router = router
        self.access_log = access_log
        self.metrics = metrics
        self.client_address = client_address or ClientAddress(())
        self.decisions = decisions or DecisionLog()
        self._formats: dict[tuple[str, str], LineFormat | None] = {}
        self.swap(router)

    def swap(self, router: Router) -> None:
        """Replace the live routes at once; requests in flight keep the table they started with."""
        self._formats = {
            (r.plan.api_id, r.plan.stage): LineFormat(r.plan.access_log_format)
            if r.plan.access_log_format
            else None
            for r in router.stages()
        }
        self.router = router

    async def __call__(self, request: Request, endpoint: tuple[str, str] | None = None) -> Response:
        """Answer one request; `endpoint` is (VPC id, VPC endpoint id) on a private listener."""
        request_id, extended, trace = new_ids()
        exchange = Exchange(
            request=request,
            request_id=request_id,
            extended_request_id=extended,
            trace_id=trace,
            received_at=time.time(),
            started=time.monotonic(),
            source_ip=self.client_address(request),
            endpoint=endpoint,
        )
        target = self.router.resolve(request.header("host"), request.path)
        if target is None:
            return self._finish(exchange, render(_unknown_route(request), exchange))
        exchange.stage = target.routes.plan
        exchange.path = target.path
        match = target.routes.match(request.method, target.path)
        if match is None:
            exchange.record("route", "no match")
            return self._finish(exchange, render(_unknown_route(request), exchange))
        exchange.method = match.method
        exchange.path_parameters = match.path_parameters
        outcome = await pipeline.run(exchange, match.method)
        if isinstance(outcome, Rejection):
            return self._finish(exchange, render(outcome, exchange))
        outcome.head += standard_head(exchange, target.routes.plan.protocol)
        return self._finish(exchange, outcome)

    def _finish(self, exchange: Exchange, response: Response) -> Response:
        if exchange.error_type is not None:
            self.metrics.gateway_response(exchange.error_type)
            trail, stage = exchange.trail, exchange.stage
            if trail and trail[-1][0] == pipeline.INTEGRATE and stage is not None:
                self.metrics.integration_error(stage.api_id, trail[-1][1])
        body = response.body
        if isinstance(body, bytes | bytearray):
            self._log(exchange, response.status, len(body))
        else:
            response.body = self._counted(exchange, response.status, body)
        return response

    async def _counted(
        self, exchange: Exchange, status: int, body: AsyncIterable[bytes]
    ) -> AsyncIterator[bytes]:
        sent = 0
        try:
            async for chunk in body:
                sent += len(chunk)
                yield chunk
        finally:
            self._log(exchange, status, sent)

    def _log(self, exchange: Exchange, status: int, length: int) -> None:
        stage = exchange.stage
        key = (stage.api_id, stage.stage) if stage else ("-", "-")
        self.access_log.write(exchange, self._formats.get(key), status, length)
        if exchange.decided or exchange.error_type is not None:
            self.decisions.keep(exchange, status)
        self.metrics.observe(key[0], key[1], status, time.monotonic() - exchange.started)
