"""What the data plane would answer one request, decided by its live routes, without sending it.

An authgate extension (`POST /_authgate/simulate`, `authgate policy simulate`). The method's own
compiled steps run on a stand-in exchange: screen and authorize exactly as for a real request,
authenticate replaced by the simulated caller (an anonymous caller goes through the real
authenticate step and is refused as an unsigned request is). So a simulation cannot disagree
with the gateway; it only adds the statements that matched along the way.
"""

from __future__ import annotations

from dataclasses import dataclass

from authgate.authorizers.base import Principal
from authgate.gateway.exchange import Exchange
from authgate.gateway.responses import Rejection, ResponseType, render
from authgate.gateway.routing import Router
from authgate.gateway.steps.authenticate import AuthenticateStep
from authgate.gateway.steps.authorize import AuthorizeStep
from authgate.gateway.steps.screen import ScreenStep
from authgate.http1.message import BytesBody, Request
from authgate.policy import AuthorizationType, Decision

Record = dict[str, object]

_NOT_SIMULATED = {"meter": "API keys, throttles and quotas", "validate": "request validation"}
"""Steps after authorize, which a simulation does not run: they need the request itself."""

_NO_ROUTE = Rejection(ResponseType.MISSING_AUTHENTICATION_TOKEN, reason="no route")


class SimulationError(Exception):
    """The question cannot be simulated (unknown API stage, unsupported authorizer)."""


@dataclass(frozen=True, slots=True)
class InvokeQuestion:
    api_id: str
    stage: str
    method: str
    """The HTTP verb, as the client would send it."""
    path: str
    """Below the stage, starting with '/', as it would be sent (percent-escapes kept)."""
    source_ip: str
    endpoint: tuple[str, str] | None = None
    """(VPC id, VPC endpoint id) when the request would come in on a private listener."""
    received_at: float = 0.0


@dataclass(frozen=True, slots=True)
class _Outcome:
    decided_by: str | None = None
    """The step that refused the request; None when it would reach its integration."""
    rejection: Rejection | None = None
    decision: Decision | None = None
    """The policy decision that settled it, when policies did."""


async def simulate_invoke(
    router: Router, question: InvokeQuestion, principal: Principal | None
) -> Record:
    """The answer to `question` for `principal` (None: anonymous), as a JSON-ready record.

    Raises SimulationError when no such API stage is deployed."""
    if "/" in question.api_id or "/" in question.stage or not question.path.startswith("/"):
        raise SimulationError("api and stage are names, and the path starts with '/'")
    invoke_path = f"/restapis/{question.api_id}/{question.stage}/_user_request_{question.path}"
    target = router.resolve(None, invoke_path)
    if target is None:
        raise SimulationError(f"no API {question.api_id} with a stage {question.stage} is deployed")
    request = Request(
        method=question.method,
        path=invoke_path,
        query="",
        headers=[],
        body=BytesBody(b""),
        client=(question.source_ip, 0),
        server=("", 0),
    )
    exchange = Exchange(
        request=request,
        request_id="simulation",
        extended_request_id="simulation",
        trace_id="simulation",
        received_at=question.received_at,
        started=0.0,
        source_ip=question.source_ip,
        stage=target.routes.plan,
        path=target.path,
        endpoint=question.endpoint,
    )
    notes: list[str] = []
    authorization: AuthorizationType | None = None
    match = target.routes.match(question.method, target.path)
    if match is None:
        exchange.record("route", "no match")
        outcome = _Outcome("route", _NO_ROUTE)
    else:
        exchange.method = match.method
        exchange.path_parameters = match.path_parameters
        authorization = match.method.authorization
        if principal is not None and authorization is AuthorizationType.NONE:
            notes.append(
                "the method's authorization is NONE: the gateway authenticates no caller of "
                "it, so its policies see every caller as anonymous"
            )
        outcome = await _run_steps(exchange, principal, authorization, notes)
    return _record(exchange, principal, authorization, outcome, notes)


async def _run_steps(
    exchange: Exchange,
    principal: Principal | None,
    authorization: AuthorizationType,
    notes: list[str],
) -> _Outcome:
    method = exchange.method
    assert method is not None
    allowed: Decision | None = None
    for step in method.steps:
        if isinstance(step, ScreenStep):
            screened = step.check(exchange)
            if screened is not None:
                rejection, decision = screened
                if decision is not None:
                    exchange.record("screen", "explicit deny", decision.reason)
                else:
                    exchange.record("screen", "rejected", rejection.reason)
                return _Outcome("screen", rejection, decision)
            exchange.passed("screen")
        elif isinstance(step, AuthenticateStep):
            if principal is None:  # unsigned: the real step refuses it, as it would
                refused = await step(exchange)
                if refused is not None:
                    exchange.record("authenticate", "rejected", refused.reason)
                    notes.append(
                        f"{authorization.value} methods need a signed request; simulate a caller "
                        "by its ARN"
                    )
                    return _Outcome("authenticate", refused)
            elif authorization is not AuthorizationType.AWS_IAM:
                raise SimulationError(
                    f"callers of {authorization.value} methods cannot be simulated yet; "
                    "simulate them as anonymous"
                )
            else:
                exchange.principal = principal
                exchange.record("authenticate", authorization.value, principal.subject)
        elif isinstance(step, AuthorizeStep):
            decision = step.decide(exchange, exchange.principal)
            exchange.record("authorize", decision.effect, decision.reason)
            if not decision.allowed:
                rejection = step.rejection(exchange, exchange.principal, decision)
                return _Outcome("authorize", rejection, decision)
            allowed = decision
        else:
            what = _NOT_SIMULATED.get(step.name, step.name)
            notes.append(f"not simulated: the {step.name} step ({what})")
    return _Outcome(None, None, allowed)


def _record(
    exchange: Exchange,
    principal: Principal | None,
    authorization: AuthorizationType | None,
    outcome: _Outcome,
    notes: list[str],
) -> Record:
    stage, method, decision = exchange.stage, exchange.method, outcome.decision
    assert stage is not None
    record: Record = {
        "allowed": outcome.rejection is None,
        "decidedBy": outcome.decided_by,
        "effect": decision.effect if decision else None,
        "deciding": str(decision.deciding) if decision and decision.deciding else None,
        "reason": decision.reason if decision else _reason(exchange, outcome),
        "matched": [str(ref) for ref in decision.matched] if decision else [],
        "principal": principal.subject if principal else "anonymous",
        "apiId": stage.api_id,
        "stage": stage.stage,
        "httpMethod": exchange.request.method,
        "path": exchange.path,
        "resourcePath": method.resource_path if method else None,
        "authorizationType": authorization.value if authorization else None,
        "methodArn": exchange.method_arn,
        "contextKeys": {key: list(values) for key, values in exchange.context_keys.items()},
        "trail": [
            {"step": step, "outcome": outcome, "detail": detail}
            for step, outcome, detail in exchange.trail
        ],
        "notes": notes,
    }
    if outcome.rejection is not None:
        response = render(outcome.rejection, exchange)
        body = response.body
        record["status"] = response.status
        record["gatewayResponse"] = outcome.rejection.type.name
        record["body"] = body.decode("utf-8", "replace") if isinstance(body, bytes) else None
    return record


def _reason(exchange: Exchange, outcome: _Outcome) -> str:
    if outcome.rejection is None:
        return "no policy restricts it"
    if outcome.decided_by == "route":
        return f"no method of the stage matches {exchange.request.method} {exchange.path}"
    return outcome.rejection.reason or outcome.rejection.type.name
