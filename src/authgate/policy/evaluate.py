"""Decisions: IAM's explicit-deny > allow > implicit-deny rule over a set of policies, and the
way API Gateway combines a method's identity side with the API's resource policy.

Combination by method authorization type (resource policy present):

    NONE                  the resource policy alone; it must explicitly allow
    AWS_IAM, same account Table A: allowed if either side allows and neither denies
    AWS_IAM, cross account Table B: both sides must allow
    CUSTOM                Table A, the authorizer's policy playing the identity side
    COGNITO_USER_POOLS    the resource policy must explicitly allow (configurable: Table A
                          with a valid token counted as an identity-side allow)
    JWT                   HTTP APIs only, which have no resource policy: a valid token allows

Without a resource policy the identity side decides alone (NONE and Cognito are allowed,
cross-account IAM callers are not), and a private API denies everything.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from authgate.policy.context import RequestContext
from authgate.policy.document import Policy, PolicyKind, StatementRef

DecisionEffect = Literal["Allow", "Deny", "ImplicitDeny"]

NO_STATEMENT = "no statement allowed it"


class AuthorizationType(StrEnum):
    """A method's `authorizationType`."""

    NONE = "NONE"
    AWS_IAM = "AWS_IAM"
    CUSTOM = "CUSTOM"
    COGNITO_USER_POOLS = "COGNITO_USER_POOLS"
    JWT = "JWT"


@dataclass(frozen=True, slots=True)
class Decision:
    effect: DecisionEffect
    deciding: StatementRef | None = None
    """The Deny that won, or the Allow that granted; None for an implicit deny."""
    matched: tuple[StatementRef, ...] = ()
    """Every statement that applied to the request, in evaluation order (for explain)."""
    missing_allow: PolicyKind | None = None
    """On an implicit deny, the side whose allow was missing (the AWS message names it)."""

    @property
    def allowed(self) -> bool:
        return self.effect == "Allow"

    @property
    def reason(self) -> str:
        if self.deciding is not None:
            return str(self.deciding)
        return "no policy restricts it" if self.allowed else NO_STATEMENT

    def explain(self) -> str:
        lines = [f"{self.effect}: {self.reason}"]
        lines += [f"  matched: {ref}" for ref in self.matched]
        if self.missing_allow is not None:
            lines.append(f"  missing: an allow in the {self.missing_allow.value} policy")
        return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class MethodPolicies:
    """Everything that decides one method call besides the request itself."""

    authorization: AuthorizationType
    identity: tuple[Policy, ...] = ()
    """AWS_IAM: the caller's identity policies. CUSTOM: the authorizer's returned policy."""
    resource: Policy | None = None
    """The API's resource policy, if it has one."""
    resource_account: str | None = None
    """The account owning the API; default: the account in the request's resource ARN."""
    private_api: bool = False
    cognito_requires_resource_allow: bool = True
    """The docs disagree; the prose (explicit allow required) is the default."""


def evaluate(request: RequestContext, policies: Iterable[Policy] | MethodPolicies) -> Decision:
    """Decide `request`. A plain collection of policies is evaluated as one side (IAM's rule);
    `MethodPolicies` applies API Gateway's combination for the method's authorization type."""
    if isinstance(policies, MethodPolicies):
        return _method(request, policies)
    return evaluate_policies(request, policies)


def evaluate_policies(request: RequestContext, policies: Iterable[Policy]) -> Decision:
    """Explicit Deny beats Allow beats the implicit deny; every matching statement is listed."""
    side = _side(request, policies)
    return _decide(side, side.kind)


@dataclass(slots=True)
class _Side:
    """One side's outcome before it becomes a Decision (cheaper to combine)."""

    deny: StatementRef | None
    allow: StatementRef | None
    matched: tuple[StatementRef, ...]
    kind: PolicyKind | None


def _side(request: RequestContext, policies: Iterable[Policy]) -> _Side:
    matched: list[StatementRef] = []
    deny: StatementRef | None = None
    allow: StatementRef | None = None
    kind: PolicyKind | None = None
    for policy in policies:
        kind = kind or policy.kind
        for statement in policy.statements:
            if statement.matches(request):
                ref = statement.ref
                matched.append(ref)
                if ref.effect == "Deny":
                    if deny is None:
                        deny = ref
                elif allow is None:
                    allow = ref
    return _Side(deny, allow, tuple(matched), kind)


def _decide(side: _Side, kind: PolicyKind | None) -> Decision:
    if side.deny is not None:
        return Decision("Deny", side.deny, side.matched)
    if side.allow is not None:
        return Decision("Allow", side.allow, side.matched)
    return Decision("ImplicitDeny", None, side.matched, kind)


_TOKEN_ALLOWS = (
    AuthorizationType.NONE,
    AuthorizationType.COGNITO_USER_POOLS,
    AuthorizationType.JWT,
)
"""Without a resource policy: nothing more to check once the caller is authenticated."""


def _method(request: RequestContext, setup: MethodPolicies) -> Decision:
    auth = setup.authorization
    resource = None if setup.resource is None else _side(request, (setup.resource,))
    if resource is None:
        if setup.private_api:
            return Decision("ImplicitDeny", missing_allow=PolicyKind.RESOURCE)
        if auth in _TOKEN_ALLOWS:
            return Decision("Allow")
    elif auth is AuthorizationType.NONE:
        return _decide(resource, PolicyKind.RESOURCE)
    elif auth is AuthorizationType.COGNITO_USER_POOLS or auth is AuthorizationType.JWT:
        if setup.cognito_requires_resource_allow or resource.deny is not None:
            return _decide(resource, PolicyKind.RESOURCE)
        return Decision("Allow", resource.allow, resource.matched)

    identity = _side(request, setup.identity)
    identity.kind = (
        PolicyKind.IDENTITY if auth is AuthorizationType.AWS_IAM else PolicyKind.AUTHORIZER
    )
    if auth is AuthorizationType.AWS_IAM and _cross_account(request, setup):
        return _table_b(identity, resource)
    if resource is None:
        return _decide(identity, identity.kind)
    return _table_a(identity, resource)


def _table_a(identity: _Side, resource: _Side) -> Decision:
    """Same account: either side may allow; any explicit deny wins (resource side first)."""
    matched = identity.matched + resource.matched
    deny = resource.deny or identity.deny
    if deny is not None:
        return Decision("Deny", deny, matched)
    allow = identity.allow or resource.allow
    if allow is not None:
        return Decision("Allow", allow, matched)
    return Decision("ImplicitDeny", None, matched, identity.kind)


def _table_b(identity: _Side, resource: _Side | None) -> Decision:
    """Cross account: both sides must allow; any explicit deny wins (resource side first)."""
    if resource is None:
        resource = _Side(None, None, (), PolicyKind.RESOURCE)
    matched = identity.matched + resource.matched
    deny = resource.deny or identity.deny
    if deny is not None:
        return Decision("Deny", deny, matched)
    if identity.allow is None:
        return Decision("ImplicitDeny", None, matched, identity.kind)
    if resource.allow is None:
        return Decision("ImplicitDeny", None, matched, PolicyKind.RESOURCE)
    return Decision("Allow", identity.allow, matched)


def _cross_account(request: RequestContext, setup: MethodPolicies) -> bool:
    """A caller is cross-account unless its account is known to own the API (fail closed)."""
    owner = setup.resource_account
    if owner is None:
        parts = request.resource.split(":", 5)
        owner = parts[4] if len(parts) == 6 else ""
    return not owner or request.principal.account != owner
