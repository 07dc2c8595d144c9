"""TestInvokeAuthorizer (`POST /restapis/{restapi_id}/authorizers/{authorizer_id}`): call a
Lambda authorizer's function for a made-up request, as the live gateway would, and report the
event sent, the answer, the decision for the method ARN and the latency.

The authorizer is the one the data plane runs (found in the live routes by its name, which is
its id here), but its result cache is neither read nor filled. Input and output members are
botocore's; `log` is authgate's own readable execution log. The request reaches a method the
authorizer protects: the one at `pathWithQueryString`, or else the first such method.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import quote

from authgate.admin.apigateway_input import Call
from authgate.admin.apigateway_ops import Reply, Route, UsageServices
from authgate.authorizers.base import Authenticated, Denied
from authgate.authorizers.custom import FunctionAuthorizer, Trial
from authgate.definition.routes import ANY, MethodPlan, ResourceNode, StagePlan, StageRoutes
from authgate.gateway.dataplane import new_ids
from authgate.gateway.exchange import Exchange
from authgate.gateway.steps.authenticate import AuthenticateStep
from authgate.gateway.steps.screen import INVOKE, request_keys
from authgate.http1.message import BytesBody, Request
from authgate.policy import ANONYMOUS, Policy, RequestContext, evaluate_policies
from authgate.usage.errors import BadRequest, NotFound

__all__ = ["ROUTES", "test_invoke_authorizer"]

SOURCE_IP = "test-invoke-source-ip"
"""What API Gateway puts in `sourceIp` for test invocations."""


@dataclass(frozen=True, slots=True)
class _Protected:
    routes: StageRoutes
    method: MethodPlan
    authorizer: FunctionAuthorizer


async def test_invoke_authorizer(services: UsageServices, call: Call) -> Reply:
    api_id, name = call.path["restapi_id"], call.path["authorizer_id"]
    if services.routes is None:
        raise NotFound("No data plane to test authorizers on")
    protected = list(_protected_by(services.routes().stages(), api_id, name))
    if not protected:
        raise NotFound(f"Invalid Authorizer identifier specified: {name}")
    body = call.json()
    target = _string(body, "pathWithQueryString")
    path, _, query = (target or "").partition("?")
    chosen, verb = _choose(protected, path)
    if not path:
        path = _example_path(chosen.method.resource_path)
    variables = _string_map(body, "stageVariables")
    plan: StagePlan = chosen.routes.plan
    if variables is not None:
        plan = replace(plan, variables=variables)
    exchange = _exchange(chosen, plan, verb, path, query, _headers(body))
    trial = await chosen.authorizer.trial(exchange)
    return 200, _reply(chosen.authorizer, exchange, trial)


def _protected_by(stages: list[StageRoutes], api_id: str, name: str) -> Iterator[_Protected]:
    for routes in stages:
        if routes.plan.api_id != api_id:
            continue
        for method in _methods(routes):
            for step in method.steps:
                if isinstance(step, AuthenticateStep):
                    found = step.authorizer
                    if isinstance(found, FunctionAuthorizer) and found.spec.name == name:
                        yield _Protected(routes, method, found)


def _methods(routes: StageRoutes) -> Iterator[MethodPlan]:
    stack: list[ResourceNode] = [routes.root]
    while stack:
        node = stack.pop()
        if node.methods:
            yield from node.methods.values()
        stack.extend(node.literal.values())
        for branch in (node.param, node.greedy):
            if branch is not None:
                stack.append(branch[1])
    yield from routes.default_route.values()


def _choose(protected: list[_Protected], path: str) -> tuple[_Protected, str]:
    """The protected method at `path` (any, if no path is given) and the verb to use."""
    for candidate in protected:
        verb = "GET" if candidate.method.http_method == ANY else candidate.method.http_method
        if not path:
            return candidate, verb
        found = candidate.routes.match(verb, path)
        if found is not None and found.method is candidate.method:
            return candidate, verb
    raise BadRequest(f"{path} is not a method this authorizer protects")


def _example_path(resource_path: str) -> str:
    """A concrete path for a resource template: each `{name}` or `{name+}` becomes `name`."""
    if resource_path == "/$default":
        return "/"
    parts = [p.strip("{}+") if p.startswith("{") else p for p in resource_path.split("/")]
    return "/".join(parts) or "/"


def _exchange(
    chosen: _Protected,
    plan: StagePlan,
    verb: str,
    path: str,
    query: str,
    headers: list[tuple[str, str]],
) -> Exchange:
    invoke_path = f"/restapis/{plan.api_id}/{quote(plan.stage)}/_user_request_{path}"
    request = Request(
        method=verb,
        path=invoke_path,
        query=query,
        headers=headers,
        body=BytesBody(b""),
        client=(SOURCE_IP, 0),
        server=("", 0),
    )
    match = chosen.routes.match(verb, path)
    request_id, extended, trace = new_ids()
    exchange = Exchange(
        request=request,
        request_id=request_id,
        extended_request_id=extended,
        trace_id=trace,
        received_at=time.time(),
        started=time.monotonic(),
        source_ip=SOURCE_IP,
        stage=plan,
        method=chosen.method,
        path=path,
        path_parameters=match.path_parameters if match is not None else {},
    )
    exchange.context_keys = request_keys(exchange)
    return exchange


def _headers(body: dict[str, Any]) -> list[tuple[str, str]]:
    headers = [(k, v) for k, v in (_string_map(body, "headers") or {}).items()]
    multi = body.get("multiValueHeaders") or {}
    if not isinstance(multi, dict):
        raise BadRequest("multiValueHeaders must be a map of lists of strings")
    for name, values in multi.items():
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise BadRequest("multiValueHeaders must be a map of lists of strings")
        headers.extend((str(name), value) for value in values)
    return headers


def _string(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise BadRequest(f"{name} must be a string")
    return value


def _string_map(body: dict[str, Any], name: str) -> dict[str, str] | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise BadRequest(f"{name} must be a map of strings")
    return {str(k): v for k, v in value.items()}


def _reply(authorizer: FunctionAuthorizer, exchange: Exchange, trial: Trial) -> dict[str, Any]:
    arn = exchange.method_arn
    spec = authorizer.spec
    lines = [
        f"Test invocation of authorizer {spec.name} ({spec.type.value}, function "
        f"{authorizer.function.name}) for {exchange.request.method} {exchange.path}",
        f"Method ARN: {arn}",
    ]
    reply: dict[str, Any] = {"latency": trial.latency_ms}
    verdict = trial.verdict
    if trial.event is None:
        lines.append(f"Function not called: {_reason(verdict)}")
    else:
        lines += ["Event sent:", _json(trial.event)]
        if trial.error is None or trial.response is not None:
            lines += ["Function answer:", _json(trial.response)]
        if trial.error is not None:
            lines.append(f"Refused: {trial.error}")
    if isinstance(verdict, Authenticated):
        principal = verdict.principal
        keys = exchange.context_keys | principal.context_keys
        decision = evaluate_policies(
            RequestContext(INVOKE, arn, ANONYMOUS, keys), principal.policies
        )
        status = 0 if decision.allowed else 403
        lines.append(f"Decision: {decision.effect}: {decision.reason}")
        reply["principalId"] = principal.subject
        reply["policy"] = _json(_policy_document(principal.policies))
        context = principal.authorizer_context or {}
        reply["authorization"] = {k: [_text(v)] for k, v in context.items()}
    else:
        assert isinstance(verdict, Denied)
        rejection = verdict.rejection
        status = rejection.status or rejection.type.status
        lines.append(f"Decision: {rejection.type.name} ({verdict.reason})")
    lines += [f"Client status: {status}", f"Latency: {trial.latency_ms} ms"]
    reply["clientStatus"] = status
    reply["log"] = "\n".join(lines) + "\n"
    return reply


def _policy_document(policies: tuple[Policy, ...]) -> object:
    documents = [dict(policy.document) for policy in policies]
    return documents[0] if len(documents) == 1 else documents


def _reason(verdict: object) -> str:
    return verdict.reason if isinstance(verdict, Denied) else "?"


def _text(value: object) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _json(value: object) -> str:
    return json.dumps(value, indent=2, default=repr)


ROUTES = (
    Route(
        "POST",
        ("restapis", "{restapi_id}", "authorizers", "{authorizer_id}"),
        test_invoke_authorizer,
    ),
)
