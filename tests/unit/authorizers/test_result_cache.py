"""The authorizer result cache on a manual clock."""

from __future__ import annotations

from authgate.authorizers.cache import ResultCache, cache_key
from authgate.clock import ManualClock


def test_entries_live_for_the_ttl_from_when_they_were_stored() -> None:
    clock = ManualClock()
    cache: ResultCache[str] = ResultCache(300, clock)
    cache.put(("prod", "token"), "result")
    clock.advance(299.9)
    assert cache.get(("prod", "token")) == "result"
    clock.advance(0.1)
    assert cache.get(("prod", "token")) is None


def test_ttl_zero_caches_nothing() -> None:
    cache: ResultCache[str] = ResultCache(0, ManualClock())
    cache.put(("prod", "token"), "result")
    assert cache.get(("prod", "token")) is None
    assert len(cache) == 0
    assert not cache.enabled


def test_keys_are_unambiguous_and_the_cache_is_bounded() -> None:
    assert cache_key(("a,b", "c")) != cache_key(("a", "b,c"))
    assert cache_key(("ab", "")) != cache_key(("a", "b"))
    cache: ResultCache[int] = ResultCache(60, ManualClock(), max_entries=2)
    for i in range(3):
        cache.put((str(i),), i)
    assert [cache.get((str(i),)) for i in range(3)] == [None, 1, 2]
