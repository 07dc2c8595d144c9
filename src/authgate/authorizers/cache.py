"""Authorizer results cached by identity-source values, for `authorizerResultTtlInSeconds`.

What is cached is the whole result (principal, policy, context, usage identifier key), never a
decision: the authorize step evaluates the cached policy again for every method ARN, so a
result that allowed one route cannot open another its policy does not cover (authorizers.md
§2, "Result caching"). Results with a Deny policy are cached like any other; errors are never
offered to the cache. One cache belongs to one authorizer; it is bounded (the least recently
used entry makes room) and holds no token: entries are found by a BLAKE2s digest of the
values. (Not `token_cache.TokenCache`'s SHA-256: through OpenSSL 3 each digest costs thousands
of instructions, and this runs on every request of a cached route.) Not thread-safe: one per
event loop, used between awaits.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Sequence
from typing import Generic, TypeVar

from authgate.authorizers.token_cache import DEFAULT_MAX_ENTRIES
from authgate.clock import Clock

V = TypeVar("V")

__all__ = ["ResultCache", "cache_key"]


def cache_key(values: Sequence[object]) -> bytes:
    """The digest of a sequence of values (strings, or tuples of them), unambiguous whatever
    they hold: Python's repr quotes and escapes each string."""
    return hashlib.blake2s(repr(tuple(values)).encode("utf-8", "surrogatepass")).digest()


class ResultCache(Generic[V]):
    """Results by identity-source values, each kept `ttl_s` seconds from when it was stored."""

    def __init__(self, ttl_s: int, clock: Clock, *, max_entries: int = DEFAULT_MAX_ENTRIES) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self._ttl = ttl_s
        self._clock = clock
        self._max = max_entries
        self._entries: OrderedDict[bytes, tuple[float, V]] = OrderedDict()

    @property
    def enabled(self) -> bool:
        return self._ttl > 0

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, values: Sequence[object]) -> V | None:
        if self._ttl <= 0:
            return None
        key = cache_key(values)
        entry = self._entries.get(key)
        if entry is None:
            return None
        if self._clock.now() >= entry[0]:
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return entry[1]

    def put(self, values: Sequence[object], result: V) -> None:
        if self._ttl <= 0:
            return
        key = cache_key(values)
        self._entries[key] = (self._clock.now() + self._ttl, result)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        """Flush every entry (AWS's FlushStageAuthorizersCache)."""
        self._entries.clear()
