"""Authorize: the resource policy and the caller's policies, combined as AWS combines them."""

from __future__ import annotations

from typing import ClassVar

from authgate.authorizers.base import Principal
from authgate.gateway.exchange import Exchange
from authgate.gateway.responses import Rejection, ResponseType
from authgate.gateway.steps.screen import INVOKE, denial_message, request_keys
from authgate.policy import (
    ANONYMOUS,
    AuthorizationType,
    Decision,
    MethodPolicies,
    Policy,
    PolicyKind,
    RequestContext,
    evaluate,
    evaluate_policies,
)
from authgate.policy.context import EMPTY_KEYS

_CACHED_DECISIONS = 1024
"""Per caller; past it the cache starts again (callers rarely touch that many methods)."""

_SIDE = {PolicyKind.RESOURCE: "resource-based", PolicyKind.IDENTITY: "identity-based"}

AUTHORIZER_DENIAL = "User is not authorized to access this resource"
"""What a Lambda authorizer's policy earns when it does not allow the method ARN; an explicit
Deny adds EXPLICIT_DENY (the current text; it used to end at "explicit deny")."""
EXPLICIT_DENY = " with an explicit deny in an identity-based policy"


class AuthorizeStep:
    name: ClassVar[str] = "authorize"

    def __init__(
        self,
        authorization: AuthorizationType,
        resource_policy: Policy | None,
        *,
        account: str,
        private_api: bool = False,
    ) -> None:
        self._authorization = authorization
        self._policy = resource_policy
        self._account = account
        self._private = private_api
        self._cacheable = resource_policy is None or not resource_policy.conditional

    async def __call__(self, exchange: Exchange) -> Rejection | None:
        principal = exchange.principal
        cache = principal.decisions if principal is not None and self._cacheable else None
        if cache is not None:
            # the method ARN of this stage's method, without building it
            key = (self, exchange.request.method, exchange.path)
            found = cache.get(key)
            if found is None:
                decision = self.decide(exchange, principal)
                found = decision, ("authorize", decision.effect, decision.reason)
                if len(cache) >= _CACHED_DECISIONS:
                    cache.clear()
                cache[key] = found
            decision, entry = found
            exchange.add_entry(entry)
        else:
            decision = self.decide(exchange, principal)
            exchange.record("authorize", decision.effect, decision.reason)
        if decision.allowed:
            return None
        return self.rejection(exchange, principal, decision)

    @property
    def authorization(self) -> AuthorizationType:
        return self._authorization

    def decide(self, exchange: Exchange, principal: Principal | None) -> Decision:
        """The resource policy and the caller's policies on this request's method ARN and
        condition keys (set by screen, or gathered here when no screen step ran). Shared with
        `authgate policy simulate`."""
        keys = exchange.context_keys
        if keys is EMPTY_KEYS:
            keys = exchange.context_keys = request_keys(exchange)
        if principal is not None:
            keys = keys | principal.context_keys
        arn = exchange.method_arn
        request = RequestContext(
            INVOKE, arn, principal.policy_principal if principal else ANONYMOUS, keys
        )
        policies = MethodPolicies(
            self._authorization,
            identity=principal.policies if principal else (),
            resource=self._policy,
            resource_account=self._account,
            private_api=self._private,
        )
        decision = evaluate(request, policies)
        if decision.allowed and principal is not None and principal.session_policy is not None:
            decision = evaluate_policies(request, (principal.session_policy,))
        return decision

    def rejection(
        self, exchange: Exchange, principal: Principal | None, decision: Decision
    ) -> Rejection:
        arn = exchange.method_arn
        explicit = decision.effect == "Deny"
        kind = decision.deciding.kind if decision.deciding else decision.missing_allow
        if kind is PolicyKind.AUTHORIZER:
            message = AUTHORIZER_DENIAL + (EXPLICIT_DENY if explicit else "")
            return Rejection(
                ResponseType.ACCESS_DENIED, message, message_key="Message", reason=decision.reason
            )
        side = _SIDE.get(kind or PolicyKind.RESOURCE, "resource-based")
        caller = principal.subject if principal else "anonymous"
        return Rejection(
            ResponseType.ACCESS_DENIED,
            denial_message(caller, arn, explicit=explicit, side=side),
            message_key="Message",
            reason=decision.reason,
        )
