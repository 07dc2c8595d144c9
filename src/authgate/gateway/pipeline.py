"""The pipeline: a method's steps in their fixed order, then its integration.

Fail closed: an exception escaping a step becomes a denial, never a pass. Integration failures
become the gateway responses AWS sends for them.
"""

from __future__ import annotations

import logging

from authgate.definition.model import Protocol
from authgate.definition.routes import MethodPlan
from authgate.errors import IntegrationMalformed, IntegrationTimeout, IntegrationUnreachable
from authgate.gateway.exchange import Exchange
from authgate.gateway.responses import Rejection, ResponseType
from authgate.http1.message import BodyTooLarge, Response

log = logging.getLogger("authgate.gateway")

INTEGRATE = "integrate"
"""The trail's step name for the integration; its outcome names how an integration failed."""
_STEP_FAILED = Rejection(ResponseType.API_CONFIGURATION_ERROR, reason="step raised")
_TOO_LARGE = Rejection(ResponseType.REQUEST_TOO_LARGE, reason="body over the limit")


async def run(exchange: Exchange, method: MethodPlan) -> Response | Rejection:
    trail = exchange.trail
    for step in method.steps:
        recorded = len(trail)
        try:
            rejection = await step(exchange)
        except Exception:
            log.exception("step %s failed; denying request %s", step.name, exchange.request_id)
            exchange.record(step.name, "error")
            return _STEP_FAILED
        if rejection is not None:
            if len(trail) == recorded:
                exchange.record(step.name, "rejected", rejection.reason or rejection.type.name)
            return rejection
        if len(trail) == recorded:  # a step that said nothing about itself
            exchange.passed(step.name)
    try:
        return await method.integration.invoke(exchange)
    except IntegrationTimeout as exc:
        exchange.record(INTEGRATE, "timeout", exc.reason)
        return Rejection(ResponseType.INTEGRATION_TIMEOUT, reason=exc.reason)
    except IntegrationUnreachable as exc:
        exchange.record(INTEGRATE, "unreachable", exc.reason)
        return Rejection(ResponseType.INTEGRATION_FAILURE, reason=exc.reason)
    except IntegrationMalformed as exc:
        exchange.record(INTEGRATE, "malformed", exc.reason)
        status = 502 if method.stage.protocol is Protocol.REST else 500
        return Rejection(
            ResponseType.INTEGRATION_FAILURE, "Internal server error", status, reason=exc.reason
        )
    except BodyTooLarge:
        return _TOO_LARGE
    except Exception:
        log.exception("integration failed for request %s", exchange.request_id)
        exchange.record(INTEGRATE, "error")
        return Rejection(
            ResponseType.INTEGRATION_FAILURE, "Internal server error", 500, reason="raised"
        )
