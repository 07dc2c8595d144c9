"""Counters in Redis, shared by a fleet of gateways.

Each verb that reads and writes is one Lua script run by EVALSHA: Redis runs a script alone, so
two gateways never interleave a read-modify-write, and the request costs one round trip. Scripts
are loaded once per server (at open, and again after a NOSCRIPT answer, e.g. when Redis
restarted). Time comes from the caller, as in every counter store, and becomes relative TTLs
here, so expiry works whatever the caller's clock says.

Keys are `authgate:` namespaced. The counts of one plan carry the plan id as a hash tag
(`authgate:{plan}:...`), so the quota and usage keys one script touches share a cluster slot.
A connection failure, a timeout, or a server that cannot take writes raises
`CounterUnavailable`; other errors are bugs and surface as they are.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import (
    ConnectionError as RedisConnectionError,
)
from redis.exceptions import (
    MasterDownError,
    NoScriptError,
    OutOfMemoryError,
    ReadOnlyError,
)
from redis.exceptions import (
    TimeoutError as RedisTimeoutError,
)

from authgate.storage.counters import USAGE_RETENTION_DAYS, CounterUnavailable
from authgate.usage.quota import DAY_SECONDS, days

PREFIX = "authgate:"
BUCKET_TTL_FLOOR_MS = 60_000
"""Idle buckets live at least this long: expiry runs on Redis's clock, the arithmetic on the
callers', and a minute covers any sane difference between them."""
MAX_TTL_MS = 400 * DAY_SECONDS * 1000

_UNAVAILABLE = (
    RedisConnectionError,
    RedisTimeoutError,
    ReadOnlyError,
    MasterDownError,
    OutOfMemoryError,
    OSError,
)

# Token bucket, the arithmetic of `authgate.usage.bucket.take`. Numbers are stored with 17
# significant digits (Lua would otherwise write 14, losing sub-millisecond stamps).
# KEYS[1] bucket hash {t = tokens, s = stamp}; ARGV rate, burst, now, ttl floor ms, ttl max ms
TAKE = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local tokens = burst
local stamp = now
local saved = redis.call('HMGET', KEYS[1], 't', 's')
if saved[1] then
  tokens = tonumber(saved[1])
  stamp = tonumber(saved[2])
  if now > stamp then
    tokens = tokens + (now - stamp) * rate
    stamp = now
  end
  if tokens > burst then tokens = burst end
end
local cost = tonumber(ARGV[6])
local admitted = 0
if tokens >= cost then
  tokens = tokens - cost
  admitted = 1
end
redis.call('HSET', KEYS[1], 't', string.format('%.17g', tokens), 's', string.format('%.17g', stamp))
if rate > 0 then
  local ttl = math.ceil((burst - tokens) / rate * 1000) + tonumber(ARGV[4])
  if ttl > tonumber(ARGV[5]) then ttl = tonumber(ARGV[5]) end
  redis.call('PEXPIRE', KEYS[1], string.format('%d', ttl))
else
  redis.call('PERSIST', KEYS[1])
end
return admitted
"""

# Quota window count, then the day's usage when admitted.
# KEYS[1] window count, KEYS[2] day usage hash; ARGV limit, window ttl ms, key id, usage ttl s
CONSUME = """
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
if used >= tonumber(ARGV[1]) then
  return {0, used}
end
used = redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('HINCRBY', KEYS[2], ARGV[3], 1)
redis.call('EXPIRE', KEYS[2], ARGV[4])
return {1, used}
"""

# KEYS[1] day usage hash; ARGV key id, n, usage ttl s
RECORD = """
redis.call('HINCRBY', KEYS[1], ARGV[1], ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[3])
return 0
"""


class _Script:
    __slots__ = ("sha", "source")

    def __init__(self, source: str) -> None:
        self.source = source
        self.sha = hashlib.sha1(source.encode(), usedforsecurity=False).hexdigest()


_TAKE = _Script(TAKE)
_CONSUME = _Script(CONSUME)
_RECORD = _Script(RECORD)
_SCRIPTS = (_TAKE, _CONSUME, _RECORD)


def _ms(seconds: float) -> int:
    return min(MAX_TTL_MS, max(1000, math.ceil(seconds * 1000)))


class RedisCounters:
    """`CounterStore` on Redis through `client`, which the store owns and closes."""

    def __init__(
        self,
        client: Redis,
        *,
        prefix: str = PREFIX,
        usage_retention_days: int = USAGE_RETENTION_DAYS,
    ) -> None:
        self._client = client
        # Every command goes through here; redis-py leaves it untyped, this names its type.
        self._execute: Callable[..., Awaitable[Any]] = client.execute_command
        self._prefix = prefix
        self._usage_ttl = str(usage_retention_days * DAY_SECONDS)

    @classmethod
    async def open(
        cls,
        url: str,
        *,
        prefix: str = PREFIX,
        max_connections: int = 64,
        socket_timeout: float = 1.0,
    ) -> RedisCounters:
        """A store on `url` (`redis://[user:password@]host:port/db`, `rediss://` for TLS; URL
        options such as `socket_timeout` win over the arguments). Does not fail when Redis is down:
        requests will, with CounterUnavailable, until it is back."""
        pool = BlockingConnectionPool.from_url(
            url,
            max_connections=max_connections,
            timeout=socket_timeout,
            socket_timeout=socket_timeout,
            socket_connect_timeout=socket_timeout,
            retry=Retry(NoBackoff(), 1),
        )
        counters = cls(Redis.from_pool(pool), prefix=prefix)
        with contextlib.suppress(CounterUnavailable):
            await counters.load_scripts()
        return counters

    async def load_scripts(self) -> None:
        """Load every script (each later call then needs only its digest)."""
        try:
            for script in _SCRIPTS:
                await self._execute("SCRIPT", "LOAD", script.source)
        except _UNAVAILABLE as exc:
            raise CounterUnavailable(f"redis: {exc}") from exc

    async def _run(self, script: _Script, *keys_and_args: str | int | float) -> Any:
        try:
            try:
                return await self._execute("EVALSHA", script.sha, *keys_and_args)
            except NoScriptError:
                await self._execute("SCRIPT", "LOAD", script.source)
                return await self._execute("EVALSHA", script.sha, *keys_and_args)
        except _UNAVAILABLE as exc:
            raise CounterUnavailable(f"redis: {exc}") from exc

    async def _call(self, *args: str | int | float) -> Any:
        try:
            return await self._execute(*args)
        except _UNAVAILABLE as exc:
            raise CounterUnavailable(f"redis: {exc}") from exc

    def _quota_key(self, key_id: str, plan_id: str, window: str) -> str:
        return f"{self._prefix}{{{plan_id}}}:quota:{key_id}:{window}"

    def _usage_key(self, plan_id: str, day: str) -> str:
        return f"{self._prefix}{{{plan_id}}}:usage:{day}"

    # -- the verbs -------------------------------------------------------------------------------

    async def take(self, key: str, rate: float, burst: int, now: float, cost: int = 1) -> bool:
        admitted = await self._run(
            _TAKE,
            1,
            f"{self._prefix}bucket:{key}",
            repr(float(rate)),
            burst,
            repr(float(now)),
            BUCKET_TTL_FLOOR_MS,
            MAX_TTL_MS,
            cost,
        )
        return bool(admitted == 1)

    async def consume(
        self,
        key_id: str,
        plan_id: str,
        day: str,
        *,
        limit: int,
        window: str,
        expires_at: float,
        now: float,
    ) -> tuple[bool, int]:
        admitted, used = await self._run(
            _CONSUME,
            2,
            self._quota_key(key_id, plan_id, window),
            self._usage_key(plan_id, day),
            limit,
            _ms(expires_at - now),
            key_id,
            self._usage_ttl,
        )
        return admitted == 1, int(used)

    async def record(self, key_id: str, plan_id: str, day: str, n: int = 1) -> None:
        await self._run(_RECORD, 1, self._usage_key(plan_id, day), key_id, n, self._usage_ttl)

    async def quota_used(self, key_id: str, plan_id: str, window: str) -> int:
        used = await self._call("GET", self._quota_key(key_id, plan_id, window))
        return 0 if used is None else int(used)

    async def set_used(
        self,
        key_id: str,
        plan_id: str,
        *,
        window: str,
        used: int,
        expires_at: float,
        now: float,
    ) -> None:
        await self._call(
            "SET", self._quota_key(key_id, plan_id, window), used, "PX", _ms(expires_at - now)
        )

    async def usage(
        self, plan_id: str, key_ids: Sequence[str] | None, start_day: str, end_day: str
    ) -> dict[str, list[int]]:
        span = days(start_day, end_day)
        if not span:
            return {key: [] for key in key_ids or ()}
        try:
            async with self._client.pipeline(transaction=False) as pipe:
                for day in span:
                    if key_ids is None:
                        pipe.hgetall(self._usage_key(plan_id, day))
                    else:
                        pipe.hmget(self._usage_key(plan_id, day), list(key_ids))
                replies: list[Any] = await pipe.execute()
        except _UNAVAILABLE as exc:
            raise CounterUnavailable(f"redis: {exc}") from exc
        if key_ids is None:
            per_day = [{k.decode(): int(v) for k, v in reply.items()} for reply in replies]
            key_ids = sorted({key for counts in per_day for key in counts})
            return {key: [counts.get(key, 0) for counts in per_day] for key in key_ids}
        return {
            key: [0 if reply[i] is None else int(reply[i]) for reply in replies]
            for i, key in enumerate(key_ids)
        }

    async def close(self) -> None:
        await self._client.aclose()
