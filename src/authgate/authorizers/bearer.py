"""What the JWT, shared-secret and user-pool authorizers share: finding the bearer token in the
request, and verifying it once per token.

`VerifiedTokens` keeps each token it verified (by SHA-256 digest, until `exp`, bounded; see
`token_cache`) with what was built from it, so a repeat caller costs a hash and a dictionary
lookup instead of a signature check. Per-method requirements (`token_use`, scopes) are checked
on every request, hit or miss. Revocation (`Revocations`) empties the cache the moment its
generation moves, and a token is only remembered after its session was found active.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, TypeVar

from authgate.authorizers.base import Authenticated, Principal
from authgate.authorizers.jwks import KeySet
from authgate.authorizers.jwt_verify import (
    JwtVerifier,
    Reason,
    Rejected,
    Requirement,
    Verified,
    check_requirement,
)
from authgate.authorizers.token_cache import DEFAULT_MAX_ENTRIES, TokenCache
from authgate.clock import Clock
from authgate.policy import ANONYMOUS

if TYPE_CHECKING:
    from authgate.authorizers.issuer_keys import IssuerKeys


def bearer_token(value: str | None) -> str | None:
    """The token in an identity-source value: the bare JWT or `Bearer <jwt>` (the scheme name
    in any case, RFC 7235 §2.1); None when there is nothing."""
    if value is None:
        return None
    if value[:7].lower() == "bearer ":
        value = value[7:]
    value = value.strip()
    return value or None


class Revocations(Protocol):
    """User-pool sessions: signed out, revoked and disabled users' tokens stop working."""

    @property
    def generation(self) -> int:
        """Moves on every revocation: anything verified before it must be checked again."""
        ...

    async def is_active(self, verified: Verified) -> bool:
        """Whether the token's session and user still stand."""
        ...


@dataclass(frozen=True, slots=True)
class TokenIssuer:
    """One issuer an authorizer accepts: the verifier for its tokens, and its keys when they
    are fetched over HTTP (and so may be fetched again for an unknown kid)."""

    verifier: JwtVerifier
    keys: IssuerKeys | None = None


H = TypeVar("H", bound=Hashable)
"""A shape of method: what a verdict for the same token differs by."""


@dataclass(slots=True)
class Caller:
    """A verified token and the verdicts built from it, one per shape of method: every later
    request with the token reuses them as they are."""

    verified: Verified
    verdicts: dict[Hashable, Authenticated] = field(default_factory=dict)

    def authenticated(self, shape: H, build: Callable[[Verified, H], Principal]) -> Authenticated:
        """The verdict for `shape`, built by `build(verified, shape)` the first time."""
        found = self.verdicts.get(shape)
        if found is None:
            found = self.verdicts[shape] = Authenticated(build(self.verified, shape))
        return found


class VerifiedTokens:
    """Verify bearer tokens against one or more issuers, remembering the ones that passed."""

    def __init__(
        self,
        issuers: Sequence[TokenIssuer],
        clock: Clock,
        *,
        revocations: Revocations | None = None,
        max_entries: int = DEFAULT_MAX_ENTRIES,
    ) -> None:
        if not issuers:
            raise ValueError("at least one issuer is needed")
        self._issuers = tuple(issuers)
        self._revocations = revocations
        self._generation = revocations.generation if revocations is not None else 0
        self._cache: TokenCache[Caller] = TokenCache(clock, max_entries=max_entries)
        for issuer in self._issuers:
            if issuer.keys is not None:
                issuer.keys.subscribe(self)

    def __len__(self) -> int:
        return len(self._cache)

    def check_cached(self, token: str, requirement: Requirement) -> Caller | Rejected | None:
        """`check` for a token verified before, without suspending; None when it was not."""
        revocations = self._revocations
        if revocations is not None and revocations.generation != self._generation:
            self._generation = revocations.generation
            self._cache.clear()
        caller = self._cache.get(token)
        if caller is None:
            return None
        checked = check_requirement(caller.verified, requirement)
        return checked if isinstance(checked, Rejected) else caller

    async def check(self, token: str, requirement: Requirement) -> Caller | Rejected:
        """The caller a token proves, or why it does not."""
        found = self.check_cached(token, requirement)
        if found is not None:
            return found
        revocations = self._revocations
        caller = self._cache.get(token)
        if caller is None:
            verified = await self._verify(token)
            if isinstance(verified, Rejected):
                return verified
            if revocations is not None:
                generation = revocations.generation
                if not await revocations.is_active(verified):
                    return Rejected(Reason.REVOKED, "session revoked or user disabled")
                if revocations.generation != generation:  # revoked while we asked: ask again
                    return await self.check(token, requirement)
            caller = Caller(verified)
            self._cache.put(token, caller, expires_at=verified.expires_at)
        checked = check_requirement(caller.verified, requirement)
        return checked if isinstance(checked, Rejected) else caller

    async def _verify(self, token: str) -> Verified | Rejected:
        result: Verified | Rejected = Rejected(Reason.UNKNOWN_KID, "no issuer")
        for issuer in self._issuers:
            keys = issuer.keys
            if keys is not None:
                keys.refresh_if_due()
            result = issuer.verifier.verify(token)
            if (
                isinstance(result, Rejected)
                and result.reason is Reason.UNKNOWN_KID
                and keys is not None
                and (result.refetch_keys or keys.refreshing)
            ):
                await keys.refresh()
                result = issuer.verifier.verify(token)
            if not (isinstance(result, Rejected) and result.reason is Reason.UNKNOWN_KID):
                return result
        return result

    def keys_replaced(self, keys: KeySet) -> None:
        """A token whose key left its issuer's JWKS is verified again (and refused) next time."""
        self._cache.invalidate(lambda entry: keys.find(entry.value.verified.kid) is None)


def token_principal(kind: str, verified: Verified, context: Mapping[str, object]) -> Principal:
    """The caller a token proves. Policies see token callers as anonymous: only SigV4 callers
    are IAM principals (arns-and-policies.md)."""
    return Principal(
        subject=verified.subject or "",
        kind=kind,
        policy_principal=ANONYMOUS,
        authorizer_context=context,
        decisions={},
    )
