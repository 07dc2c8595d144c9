"""The Authorizer contract: prove who the caller is, in one of three answers.

An authorizer states *who* the caller is and which policies came with them; it never decides
whether they may call the method (the authorize step does) and never writes a response.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar, Protocol

from authgate.definition.model import empty
from authgate.policy.context import EMPTY_KEYS, ContextKeys

if TYPE_CHECKING:
    from authgate.gateway.exchange import Exchange
    from authgate.gateway.responses import Rejection
    from authgate.policy import Decision, Policy
    from authgate.policy import Principal as PolicyPrincipal


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller and what came with them."""

    subject: str
    """The caller's ARN (IAM) or principal id (custom authorizers) or `sub` (tokens)."""
    kind: str
    """The authorizer type that authenticated it (`AWS_IAM`, ...)."""
    policy_principal: PolicyPrincipal
    """How policies see the caller (ARN, account, type)."""
    policies: tuple[Policy, ...] = ()
    """Identity policies to evaluate for this caller."""
    session_policy: Policy | None = None
    """An AssumeRole session policy: it must allow too (it narrows, never widens)."""
    context_keys: ContextKeys = EMPTY_KEYS
    """Condition keys the caller contributes (aws:username, aws:userid, ...)."""
    identity: Mapping[str, object | None] = field(default_factory=empty)
    """`requestContext.identity` fields for Lambda events."""
    usage_identifier_key: str | None = None
    authorizer_context: Mapping[str, object] | None = None
    """`requestContext.authorizer` for the integration, already shaped for the method's API
    protocol and payload version (claims of a token, context of a custom authorizer)."""
    decisions: dict[object, tuple[Decision, tuple[str, str, str]]] | None = field(
        default=None, compare=False, repr=False
    )
    """Decisions already taken for this caller (with the trail entry each one records), when
    none of its policies has conditions: they depend on the method ARN alone. Lives as long
    as this Principal, which is dropped whenever IAM records change."""


@dataclass(frozen=True, slots=True)
class NotApplicable:
    """No credential of this kind is present."""


@dataclass(frozen=True, slots=True)
class Denied:
    rejection: Rejection
    reason: str
    """Internal reason code, for logs, metrics and explain; never sent."""


@dataclass(frozen=True, slots=True)
class Authenticated:
    principal: Principal


Verdict = NotApplicable | Denied | Authenticated

NOT_APPLICABLE = NotApplicable()


class Authorizer(Protocol):
    kind: ClassVar[str]

    async def authenticate(self, exchange: Exchange) -> Verdict: ...
