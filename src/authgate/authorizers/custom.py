"""TOKEN and REQUEST authorizers: a Python function decides, as a Lambda authorizer would.

The function receives the event AWS sends (`function_events`), runs through the same
invocation machinery as Lambda integrations (`integrations.functions.invoke`), and answers with
a principal id, an IAM policy document and context values, or, on HTTP APIs with simple
responses, `isAuthorized`. The answer becomes a Principal whose policy the authorize step
evaluates against each request's method ARN; this module never decides access itself.

Outcomes, as API Gateway answers them (authorizers.md §2 "Outcomes", §3):

    identity source absent or empty; token not matching the expression  401, no call
    the function raises an error whose message is exactly "Unauthorized" 401
    it raises anything else, times out, or answers in another shape     500 (AUTHORIZER_
                                                                        CONFIGURATION_ERROR)
    isAuthorized false (simple responses)                               403
    a policy that denies or does not allow the method ARN               403 (authorize step)

Results are cached per authorizer by the identity-source values for the declared TTL, Deny
policies included; failures never are (`cache.py`). While the function decides for some values,
requests with the same values wait for its answer rather than call it again (a failure is
shared with them too, but kept by no one).
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Literal

from authgate.authorizers.base import Authenticated, Denied, Principal, Verdict
from authgate.authorizers.cache import ResultCache, cache_key
from authgate.authorizers.function_events import (
    MalformedAnswer,
    PolicyAnswer,
    SimpleAnswer,
    parse_policy_answer,
    parse_simple_answer,
    request_event,
    stringify,
    token_event,
)
from authgate.authorizers.identity_sources import IdentityReader, check_sources
from authgate.clock import Clock
from authgate.definition.model import (
    AuthorizerSpec,
    AuthorizerType,
    FunctionAuthorizerSettings,
    Protocol,
    RestApi,
)
from authgate.errors import ConfigError, Problem
from authgate.gateway.responses import Rejection, ResponseType
from authgate.integrations.functions import (
    FunctionError,
    InvokeTimeout,
    LambdaFunction,
    function_name_from_arn,
    invoke,
)
from authgate.integrations.python import event_source
from authgate.policy import ANONYMOUS, Policy, PolicyKind, parse_policy

if TYPE_CHECKING:
    from authgate.authorizers.services import AuthorizerServices
    from authgate.gateway.exchange import Exchange

__all__ = [
    "AUTHORIZER_TIMEOUT_S",
    "FunctionAuthorizer",
    "RequestAuthorizer",
    "TokenAuthorizer",
    "Trial",
    "build_function_authorizer",
]

log = logging.getLogger("authgate.authorizers")

AUTHORIZER_TIMEOUT_S = 10.0
"""HTTP APIs document 10 000 ms; REST APIs document none (the integration timeout does not
apply to authorizers), so the same limit is used. A function's own shorter timeout wins."""
UNAUTHORIZED = "Unauthorized"
"""The error message that makes API Gateway answer 401 instead of 500."""

Shape = Literal["flat", "lambda"]
"""`requestContext.authorizer` as REST and format 1.0 events show it (context values as
strings beside principalId and integrationLatency), or format 2.0's `{"lambda": context}`."""


def _denied(rtype: ResponseType, reason: str) -> Denied:
    return Denied(Rejection(rtype, reason=reason), reason)


_NO_IDENTITY = _denied(ResponseType.UNAUTHORIZED, "identity source absent or empty")
_NO_MATCH = _denied(ResponseType.UNAUTHORIZED, "token does not match the validation expression")
_SAID_UNAUTHORIZED = _denied(ResponseType.UNAUTHORIZED, "the function said Unauthorized")
_NOT_AUTHORIZED = _denied(ResponseType.ACCESS_DENIED, "isAuthorized is false")
_RAISED = _denied(ResponseType.AUTHORIZER_CONFIGURATION_ERROR, "the function failed")
_TIMED_OUT = _denied(ResponseType.AUTHORIZER_CONFIGURATION_ERROR, "the function timed out")
_MALFORMED = _denied(ResponseType.AUTHORIZER_CONFIGURATION_ERROR, "malformed function answer")

_ALLOW_ALL = parse_policy(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "*"}],
    },
    kind=PolicyKind.AUTHORIZER,
    name="isAuthorized",
)
"""What a simple response's `isAuthorized: true` means: every route of the authorizer."""


class _Result:
    """An accepted answer: what the cache keeps, turned into a Principal per event shape."""

    __slots__ = ("_answer", "_cached", "_kind", "_policies")

    def __init__(self, answer: PolicyAnswer | SimpleAnswer, kind: str) -> None:
        self._answer = answer
        self._kind = kind
        self._policies: tuple[Policy, ...] = (
            (answer.policy,) if isinstance(answer, PolicyAnswer) else (_ALLOW_ALL,)
        )
        self._cached: dict[Shape, Verdict] = {}

    def verdict(self, shape: Shape, latency_ms: int | None = None) -> Verdict:
        """The verdict for one request; `latency_ms` None for a cached answer (AWS reports 0 and
        the Principal, with its decisions by method ARN, is reused)."""
        answer = self._answer
        if isinstance(answer, SimpleAnswer) and not answer.authorized:
            return _NOT_AUTHORIZED
        if latency_ms is not None:
            return Authenticated(self._principal(shape, latency_ms))
        verdict = self._cached.get(shape)
        if verdict is None:
            verdict = self._cached[shape] = Authenticated(self._principal(shape, 0))
        return verdict

    def _principal(self, shape: Shape, latency_ms: int) -> Principal:
        answer = self._answer
        policy = answer.policy if isinstance(answer, PolicyAnswer) else None
        return Principal(
            subject=answer.principal_id if isinstance(answer, PolicyAnswer) else "",
            kind=self._kind,
            policy_principal=ANONYMOUS,
            policies=self._policies,
            usage_identifier_key=(
                answer.usage_identifier_key if isinstance(answer, PolicyAnswer) else None
            ),
            authorizer_context=_shaped(answer, shape, latency_ms),
            decisions=None if policy is not None and policy.conditional else {},
        )


def _shaped(
    answer: PolicyAnswer | SimpleAnswer, shape: Shape, latency_ms: int
) -> dict[str, object]:
    if shape == "lambda":
        return {"lambda": dict(answer.context)}
    if isinstance(answer, SimpleAnswer):
        return {**answer.context, "integrationLatency": latency_ms}
    flat: dict[str, object] = {key: stringify(value) for key, value in answer.context.items()}
    flat["principalId"] = answer.principal_id
    flat["integrationLatency"] = latency_ms
    return flat


@dataclass(frozen=True, slots=True)
class Trial:
    """One call of the function, for TestInvokeAuthorizer: what was sent, what came back."""

    event: dict[str, object] | None
    """None when the function was not called (identity source absent, token not matching)."""
    response: object
    verdict: Verdict
    latency_ms: int
    error: str | None = None
    """Why the answer was refused, if it was (never sent to API callers)."""


class FunctionAuthorizer:
    """What TOKEN and REQUEST authorizers share: invoke, read the answer, cache it."""

    kind: ClassVar[str]

    def __init__(
        self,
        spec: AuthorizerSpec,
        settings: FunctionAuthorizerSettings,
        function: LambdaFunction,
        protocol: Protocol,
        clock: Clock,
    ) -> None:
        self.spec = spec
        self.function = function
        self._protocol = protocol
        self._rest = protocol is Protocol.REST
        self._payload = settings.payload_version
        self._simple = settings.simple_responses
        self._identity = IdentityReader(spec.identity_sources, protocol)
        self.cache: ResultCache[_Result] = ResultCache(spec.result_ttl_s, clock)
        self._calls: dict[bytes, asyncio.Future[_Result | Verdict | None]] = {}
        """Calls in progress, by the cache's digest of their identity values."""
        self._policy_name = f"policy returned by {function.name}"

    async def authenticate(self, exchange: Exchange) -> Verdict:
        values = self.identity(exchange)
        if isinstance(values, Denied):
            return values
        stage = exchange.stage
        key = (stage.stage if stage is not None else "", values)
        cached = self.cache.get(key)
        if cached is not None:
            return cached.verdict("flat" if self._rest else self._shape(exchange))
        if not self.cache.enabled:
            trial, _ = await self._call(exchange, values)
            return trial.verdict
        # One call per identity at a time: requests that miss the cache while the function is
        # already deciding for the same values wait for that answer instead of calling again.
        digest = cache_key(key)
        pending = self._calls.get(digest)
        if pending is not None:
            shared = await asyncio.shield(pending)
            if isinstance(shared, _Result):
                return shared.verdict(self._shape(exchange))
            if shared is not None:
                return shared  # the failure the shared call ended in
            # the request that was calling went away before an answer: call ourselves
        call: asyncio.Future[_Result | Verdict | None] = asyncio.get_running_loop().create_future()
        self._calls[digest] = call
        try:
            trial, result = await self._call(exchange, values)
            if result is not None:
                self.cache.put(key, result)
            call.set_result(result if result is not None else trial.verdict)
        finally:
            del self._calls[digest]
            if not call.done():
                call.set_result(None)
        return trial.verdict

    async def trial(self, exchange: Exchange) -> Trial:
        """Call the function for this request whatever the cache holds (TestInvokeAuthorizer)."""
        values = self.identity(exchange)
        if isinstance(values, Denied):
            return Trial(None, None, values, 0)
        trial, _ = await self._call(exchange, values)
        return trial

    def identity(self, exchange: Exchange) -> tuple[str, ...] | Denied:
        """The identity-source values, or the 401 AWS answers without calling the function."""
        values = self._identity.read(exchange)
        return _NO_IDENTITY if values is None else values

    def event(self, exchange: Exchange, values: tuple[str, ...]) -> dict[str, object]:
        raise NotImplementedError

    async def _call(
        self, exchange: Exchange, values: tuple[str, ...]
    ) -> tuple[Trial, _Result | None]:
        stage = exchange.stage
        assert stage is not None, "authorizers run on routed requests"
        event = self.event(exchange, values)
        started = time.monotonic()
        try:
            response = await invoke(
                self.function,
                event,
                limit_s=AUTHORIZER_TIMEOUT_S,
                region=stage.region,
                account_id=stage.account_id,
            )
        except FunctionError as exc:
            latency = _since(started)
            cause = exc.__cause__
            if isinstance(cause, Exception) and str(cause) == UNAUTHORIZED:
                return Trial(event, None, _SAID_UNAUTHORIZED, latency, exc.reason), None
            timed_out = cause is None and "timed out" in exc.reason
            return Trial(
                event, None, _TIMED_OUT if timed_out else _RAISED, latency, exc.reason
            ), None
        except InvokeTimeout as exc:
            return Trial(event, None, _TIMED_OUT, _since(started), str(exc)), None
        latency = _since(started)
        try:
            answer = self._read(response)
        except MalformedAnswer as exc:
            log.warning(
                "authorizer %s: %s answered in a shape API Gateway refuses: %s (request %s)",
                self.spec.name,
                self.function.name,
                exc,
                exchange.request_id,
            )
            return Trial(event, response, _MALFORMED, latency, str(exc)), None
        result = _Result(answer, self.kind)
        return Trial(
            event, response, result.verdict(self._shape(exchange), latency), latency
        ), result

    def _read(self, response: object) -> PolicyAnswer | SimpleAnswer:
        if self._simple:
            return parse_simple_answer(response)
        return parse_policy_answer(response, name=self._policy_name)

    def _shape(self, exchange: Exchange) -> Shape:
        if self._protocol is Protocol.REST:
            return "flat"
        method = exchange.method
        return "lambda" if method is None or method.payload_version == "2.0" else "flat"


class TokenAuthorizer(FunctionAuthorizer):
    """TOKEN: one header's value, checked against `identityValidationExpression` first."""

    kind: ClassVar[str] = "TOKEN"

    def __init__(
        self,
        spec: AuthorizerSpec,
        settings: FunctionAuthorizerSettings,
        function: LambdaFunction,
        protocol: Protocol,
        clock: Clock,
    ) -> None:
        super().__init__(spec, settings, function, protocol, clock)
        expression = settings.validation_expression
        self._expression = re.compile(expression) if expression else None

    def identity(self, exchange: Exchange) -> tuple[str, ...] | Denied:
        values = self._identity.read(exchange)
        if values is None:
            return _NO_IDENTITY
        # Java's `matches`: the whole token must match, whatever the anchors say.
        if self._expression is not None and self._expression.fullmatch(values[0]) is None:
            return _NO_MATCH
        return values

    def event(self, exchange: Exchange, values: tuple[str, ...]) -> dict[str, object]:
        return token_event(values[0], exchange.method_arn)


class RequestAuthorizer(FunctionAuthorizer):
    """REQUEST: headers, query, path parameters, stage variables and the request context."""

    kind: ClassVar[str] = "REQUEST"

    def event(self, exchange: Exchange, values: tuple[str, ...]) -> dict[str, object]:
        method, stage = exchange.method, exchange.stage
        assert method is not None, "authorizers run on routed requests"
        assert stage is not None, "authorizers run on routed requests"
        source = event_source(exchange, method, stage, b"")
        return request_event(source, stage.protocol, self._payload, exchange.method_arn, values)


def build_function_authorizer(
    spec: AuthorizerSpec, api: RestApi, services: AuthorizerServices
) -> FunctionAuthorizer:
    """The registry's builder for TOKEN and REQUEST declarations."""
    settings = spec.settings
    assert isinstance(settings, FunctionAuthorizerSettings), "parsed with the declaration"
    name = function_name_from_arn(settings.function_uri)
    function = services.functions.get(name) if name else None
    if function is None:
        where = f"{spec.location}/x-amazon-apigateway-authorizer/authorizerUri"
        message = f"names no function in the function map: {settings.function_uri}"
        raise ConfigError([Problem(where, message)])
    check_sources(spec.identity_sources, spec.location)
    kind = TokenAuthorizer if spec.type is AuthorizerType.TOKEN else RequestAuthorizer
    return kind(spec, settings, function, api.protocol, services.clock)


def _since(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
