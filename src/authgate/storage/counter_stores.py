"""The counter store a `counters:` URL names: `memory://` or `redis://` / `rediss://`.

Apart from `counters.py`, which the backends implement, so that choosing one does not tie the
protocol to every backend.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncEngine

from authgate.clock import Clock
from authgate.errors import ConfigError, Problem
from authgate.storage.counters import CounterStore
from authgate.storage.memory_counters import MemoryCounters
from authgate.storage.redis_counters import RedisCounters

Opener = Callable[[str, AsyncEngine, Clock], Awaitable[CounterStore]]


async def _open_memory(url: str, engine: AsyncEngine, clock: Clock) -> CounterStore:
    parts = urlsplit(url)
    if parts.netloc or parts.path not in ("", "/") or parts.query:
        raise ConfigError([Problem("counters", "memory:// takes no host, path or options")])
    return await MemoryCounters.open(engine, clock)


async def _open_redis(url: str, engine: AsyncEngine, clock: Clock) -> CounterStore:
    try:
        return await RedisCounters.open(url)
    except ValueError as exc:
        raise ConfigError([Problem("counters", str(exc))]) from None


SCHEMES: dict[str, Opener] = {
    "memory": _open_memory,
    "redis": _open_redis,
    "rediss": _open_redis,
}


async def open_counters(url: str, *, engine: AsyncEngine, clock: Clock) -> CounterStore:
    """The counter store for a `counters:` URL: `memory://` (persisted to the records database
    `engine`) or `redis://host:port/db` / `rediss://…` (shared by a fleet)."""
    scheme = urlsplit(url).scheme
    opener = SCHEMES.get(scheme)
    if opener is None:
        raise ConfigError(
            [
                Problem(
                    "counters",
                    f"unsupported counters scheme {scheme!r} (use memory:// or redis://...)",
                )
            ]
        )
    return await opener(url, engine, clock)
