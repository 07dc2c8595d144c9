"""Tokens already verified, so a repeat caller skips the signature check (~100 µs → ~1 µs).

Keyed by SHA-256 of the token, so the cache never holds bearer tokens themselves; an entry
lives until the token's `exp` at the latest, and the least recently used entry makes room when
the cache is full. Revocation (GlobalSignOut, RevokeToken, a disabled user, a key withdrawn from
the JWKS) drops entries at once through `invalidate*`. One cache belongs to one verifier
configuration: a token verified for one issuer/audience set says nothing about another.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from authgate.clock import Clock

V = TypeVar("V")

DEFAULT_MAX_ENTRIES = 10_000


@dataclass(frozen=True, slots=True)
class CacheEntry(Generic[V]):
    value: V
    expires_at: float
    """Epoch seconds; the entry is gone from this instant on."""
    subject: str | None = None
    jti: str | None = None
    origin_jti: str | None = None
    """Cognito's refresh-token family: RevokeToken revokes every token that shares it."""


def token_digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


class TokenCache(Generic[V]):
    """A bounded LRU map from token digest to a verified result. Not thread-safe: one per
    event loop, used between awaits."""

    def __init__(self, clock: Clock, *, max_entries: int = DEFAULT_MAX_ENTRIES) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self._clock = clock
        self._max = max_entries
        self._entries: OrderedDict[bytes, CacheEntry[V]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, token: str) -> V | None:
        digest = token_digest(token)
        entry = self._entries.get(digest)
        if entry is None:
            return None
        if self._clock.now() >= entry.expires_at:
            del self._entries[digest]
            return None
        self._entries.move_to_end(digest)
        return entry.value

    def put(
        self,
        token: str,
        value: V,
        *,
        expires_at: float,
        subject: str | None = None,
        jti: str | None = None,
        origin_jti: str | None = None,
    ) -> bool:
        """Remember `value` until `expires_at`; False (nothing stored) if that is already past."""
        if self._clock.now() >= expires_at:
            return False
        digest = token_digest(token)
        self._entries[digest] = CacheEntry(value, expires_at, subject, jti, origin_jti)
        self._entries.move_to_end(digest)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)
        return True

    def invalidate(self, predicate: Callable[[CacheEntry[V]], bool]) -> int:
        """Drop every entry the predicate selects; returns how many. O(entries): revocations
        are rare, lookups are not, so no secondary index slows every `put`."""
        doomed = [digest for digest, entry in self._entries.items() if predicate(entry)]
        for digest in doomed:
            del self._entries[digest]
        return len(doomed)

    def invalidate_subject(self, subject: str) -> int:
        """GlobalSignOut, a disabled or deleted user: every token of that `sub`."""
        return self.invalidate(lambda entry: entry.subject == subject)

    def invalidate_jti(self, jti: str) -> int:
        """One token, or a whole refresh-token family (RevokeToken) by its `origin_jti`."""
        return self.invalidate(lambda entry: jti in (entry.jti, entry.origin_jti))

    def invalidate_token(self, token: str) -> bool:
        return self._entries.pop(token_digest(token), None) is not None

    def clear(self) -> None:
        self._entries.clear()
