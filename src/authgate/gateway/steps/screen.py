"""Screen: what is decided before anyone is authenticated.

Private APIs answer only on VPC-endpoint listeners, and the resource policy's explicit
denies (by source address, endpoint, time, ...) apply before any authorizer runs, as on AWS.
The request's condition keys are gathered here once for every later decision.
"""

from __future__ import annotations

import time
from typing import ClassVar

from authgate.gateway.exchange import Exchange
from authgate.gateway.responses import Rejection, ResponseType
from authgate.policy import (
    ANONYMOUS,
    ContextKeys,
    Decision,
    Policy,
    RequestContext,
    evaluate_policies,
    mask_account,
)

INVOKE = "execute-api:Invoke"

_FORBIDDEN = Rejection(
    ResponseType.ACCESS_DENIED, "Forbidden", reason="private API, public listener"
)


_clock_keys: tuple[int, dict[str, str]] = (-1, {})


def _time_keys(now: float) -> dict[str, str]:
    """aws:CurrentTime and aws:EpochTime, formatted once a second."""
    global _clock_keys
    second = int(now)
    if _clock_keys[0] != second:
        _clock_keys = (
            second,
            {
                "aws:currenttime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(second)),
                "aws:epochtime": str(second),
            },
        )
    return _clock_keys[1]


def request_keys(exchange: Exchange) -> ContextKeys:
    """The global condition keys API Gateway puts in a resource-policy request context."""
    request = exchange.request
    keys = dict(_time_keys(exchange.received_at))
    keys["aws:securetransport"] = "true" if request.scheme == "https" else "false"
    if exchange.endpoint is None:
        keys["aws:sourceip"] = exchange.source_ip
    else:
        keys["aws:vpcsourceip"] = exchange.source_ip
        keys["aws:sourcevpc"], keys["aws:sourcevpce"] = exchange.endpoint
    user_agent = request.header("user-agent")
    if user_agent is not None:
        keys["aws:useragent"] = user_agent
    referer = request.header("referer")
    if referer is not None:
        keys["aws:referer"] = referer
    return ContextKeys.of_strings(keys)


def denial_message(caller: str, resource: str, *, explicit: bool, side: str) -> str:
    """AWS's AccessDenied text (the 2024 wording); `side` is resource-based or identity-based."""
    head = f"User: {caller} is not authorized to perform: {INVOKE} on resource: "
    head += mask_account(resource)
    if explicit:
        article = "an" if side[0] in "aeiou" else "a"
        return f"{head} with an explicit deny in {article} {side} policy"
    return f"{head} because no {side} policy allows the {INVOKE} action"


class ScreenStep:
    name: ClassVar[str] = "screen"

    def __init__(
        self, resource_policy: Policy | None, *, private_endpoints: tuple[str, ...] | None
    ) -> None:
        """`private_endpoints`: None for a public API; for a PRIVATE one, the VPC endpoint ids
        allowed to reach it (empty: any VPC-endpoint listener)."""
        self._policy = resource_policy
        self._private = private_endpoints

    async def __call__(self, exchange: Exchange) -> Rejection | None:
        outcome = self.check(exchange)
        if outcome is None:
            return None
        rejection, decision = outcome
        if decision is not None:
            exchange.record("screen", "explicit deny", decision.reason)
        return rejection

    def check(self, exchange: Exchange) -> tuple[Rejection, Decision | None] | None:
        """None to go on; else the rejection and, when the resource policy refused, its
        decision. Sets the exchange's condition keys when there is anything to screen.
        Shared with `authgate policy simulate`."""
        if self._private is not None:
            endpoint = exchange.endpoint
            if endpoint is None or (self._private and endpoint[1] not in self._private):
                return _FORBIDDEN, None
        elif self._policy is None:
            return None  # nothing to screen: the authorize step gathers keys if it needs them
        keys = request_keys(exchange)
        exchange.context_keys = keys
        if self._policy is None:
            return None
        arn = exchange.method_arn
        decision = evaluate_policies(RequestContext(INVOKE, arn, ANONYMOUS, keys), (self._policy,))
        if decision.effect != "Deny":
            return None
        rejection = Rejection(
            ResponseType.ACCESS_DENIED,
            denial_message("anonymous", arn, explicit=True, side="resource-based"),
            message_key="Message",
            reason=decision.reason,
        )
        return rejection, decision
