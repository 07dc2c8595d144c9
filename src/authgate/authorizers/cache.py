"""Authorizer results cached by identity-source values, for `authorizerResultTtlInSeconds`.

What is cached is the whole result (principal, policy, context, usage identifier key), never a
decision: the authorize step evaluates the cached policy again for every method ARN, so a
result that allowed one route cannot open another its policy does not cover (authorizers.md
§2, "Result caching"). Results with a Deny policy are cached like any other; errors are never
offered to the cache. Entries are found by a digest of the values, so the cache holds no
tokens; it is bounded (least recently used entries make room) and one belongs to one
authorizer. Not thread-safe: one per event loop, used between awaits.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Generic, TypeVar

from authgate.authorizers.token_cache import DEFAULT_MAX_ENTRIES, TokenCache
from authgate.clock import Clock

V = TypeVar("V")

__all__ = ["ResultCache", "cache_key"]


def cache_key(values: Sequence[str]) -> str:
    """One string per tuple of values, unambiguous whatever the values hold (length-prefixed)."""
    return "".join(f"{len(value)}:{value}" for value in values)


class ResultCache(Generic[V]):
    """Results by identity-source values, each kept `ttl_s` seconds from when it was stored."""

    def __init__(self, ttl_s: int, clock: Clock, *, max_entries: int = DEFAULT_MAX_ENTRIES) -> None:
        self._ttl = ttl_s
        self._clock = clock
        self._entries: TokenCache[V] = TokenCache(clock, max_entries=max_entries)

    @property
    def enabled(self) -> bool:
        return self._ttl > 0

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, values: Sequence[str]) -> V | None:
        if self._ttl <= 0:
            return None
        return self._entries.get(cache_key(values))

    def put(self, values: Sequence[str], result: V) -> None:
        if self._ttl > 0:
            self._entries.put(cache_key(values), result, expires_at=self._clock.now() + self._ttl)

    def clear(self) -> None:
        """Flush every entry (AWS's FlushStageAuthorizersCache)."""
        self._entries.clear()
