"""Counters in Redis, shared by a fleet of gateways.

Each verb that reads and writes is one Lua script run by EVALSHA: Redis runs a script alone, so
two gateways never interleave a read-modify-write, and the request costs one round trip. Scripts
are loaded once per server (at open, and again after a NOSCRIPT answer, e.g. when Redis
restarted). Time comes from the caller, as in every counter store, and becomes relative TTLs
here, so expiry works whatever the caller's clock says.

Keys are `authgate:` namespaced. The counts of one plan carry the plan id as a hash tag
(`authgate:{plan}:...`), so the quota and usage keys one script touches share a cluster slot;
`admit` also touches the request's buckets (a stage's bucket is shared by every plan), so it
needs every key on one server, as the single client here has it.
A connection failure, a timeout, or a server that cannot take writes raises
`CounterUnavailable`; other errors are bugs and surface as they are.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import math
from collections.abc import Sequence
from typing import Any, Final

from authgate.storage.counters import (
    USAGE_RETENTION_DAYS,
    CounterUnavailable,
    QuotaWindow,
    TokenBucket,
)
from authgate.storage.resp_client import Address, RespClient, Unavailable
from authgate.storage.resp_wire import Arg, ReplyError
from authgate.usage.quota import DAY_SECONDS, days

PREFIX = "authgate:"
BUCKET_TTL_FLOOR_MS = 60_000
"""Idle buckets live at least this long: expiry runs on Redis's clock, the arithmetic on the
callers', and a minute covers any sane difference between them."""
MAX_TTL_MS = 400 * DAY_SECONDS * 1000

_CANNOT_SERVE: Final = frozenset({"READONLY", "OOM", "MASTERDOWN", "LOADING", "BUSY"})
"""Error replies of a server that cannot take our writes now: the store is unavailable."""


def _unavailable(exc: Exception) -> CounterUnavailable | None:
    if isinstance(exc, Unavailable | OSError):
        return CounterUnavailable(f"redis: {exc}")
    if isinstance(exc, ReplyError) and exc.code in _CANNOT_SERVE:
        return CounterUnavailable(f"redis: {exc}")
    return None


# Functions every script starts with, so each rule is written once in Lua.
# take: the arithmetic of `authgate.usage.bucket.take` (the state is {tokens, stamp}, or nil for
# a bucket never seen). keep: numbers stored with 17 significant digits (Lua would otherwise
# write 14, losing sub-millisecond stamps), the key kept until the bucket is full again plus a
# floor, at most `most` ms, forever when nothing refills it.
COMMON = """
local function saved(key)
  local fields = redis.call('HMGET', key, 't', 's')
  if fields[1] then return {tonumber(fields[1]), tonumber(fields[2])} end
  return nil
end

local function take(state, rate, burst, now, cost)
  local tokens = burst
  local stamp = now
  if state then
    tokens = state[1]
    stamp = state[2]
    if now > stamp then
      tokens = tokens + (now - stamp) * rate
      stamp = now
    end
    if tokens > burst then tokens = burst end
  end
  if tokens >= cost then return true, {tokens - cost, stamp} end
  return false, {tokens, stamp}
end

local function keep(key, state, rate, burst, floor, most)
  redis.call('HSET', key, 't', string.format('%.17g', state[1]),
    's', string.format('%.17g', state[2]))
  if rate > 0 then
    local ttl = math.ceil((burst - state[1]) / rate * 1000) + floor
    if ttl > most then ttl = most end
    redis.call('PEXPIRE', key, string.format('%d', ttl))
  else
    redis.call('PERSIST', key)
  end
end

local function quota_used(key)
  return tonumber(redis.call('GET', key) or '0')
end

local function count_usage(key, key_id, n, ttl)
  redis.call('HINCRBY', key, key_id, n)
  redis.call('EXPIRE', key, ttl)
end

local function charge(quota_key, window_ms, usage_key, key_id, usage_ttl)
  local used = redis.call('INCR', quota_key)
  redis.call('PEXPIRE', quota_key, window_ms)
  count_usage(usage_key, key_id, 1, usage_ttl)
  return used
end
"""

# KEYS[1] bucket hash {t = tokens, s = stamp}; ARGV rate, burst, now, ttl floor ms, ttl max ms,
# cost
TAKE = (
    COMMON
    + """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local admitted, state = take(saved(KEYS[1]), rate, burst, tonumber(ARGV[3]), tonumber(ARGV[6]))
keep(KEYS[1], state, rate, burst, tonumber(ARGV[4]), tonumber(ARGV[5]))
if admitted then return 1 end
return 0
"""
)

# Quota window count, then the day's usage when admitted.
# KEYS[1] window count, KEYS[2] day usage hash; ARGV limit, window ttl ms, key id, usage ttl s
CONSUME = (
    COMMON
    + """
local used = quota_used(KEYS[1])
if used >= tonumber(ARGV[1]) then
  return {0, used}
end
return {1, charge(KEYS[1], ARGV[2], KEYS[2], ARGV[3], ARGV[4])}
"""
)

# KEYS[1] day usage hash; ARGV key id, n, usage ttl s
RECORD = (
    COMMON
    + """
count_usage(KEYS[1], ARGV[1], ARGV[2], ARGV[3])
return 0
"""
)

# A token from each bucket in order, then the quota: nothing is written unless all admit.
# Returns the first level that refused (0-based; n for the quota), or -1 when admitted.
# KEYS[1..n] buckets, KEYS[n+1] day usage hash, KEYS[n+2] window count (with a quota only);
# ARGV n, now, ttl floor ms, ttl max ms, key id, usage ttl s, quota limit ('' for none), window
# ttl ms, then rate and burst of each bucket.
ADMIT = (
    COMMON
    + """
local n = tonumber(ARGV[1])
local now = tonumber(ARGV[2])
local states = {}
local after = {}
for i = 1, n do
  local key = KEYS[i]
  local admitted, state = take(states[key] or saved(key), tonumber(ARGV[7 + 2 * i]),
    tonumber(ARGV[8 + 2 * i]), now, 1)
  if not admitted then return i - 1 end
  states[key] = state
  after[i] = state
end
local quota_key = KEYS[n + 2]
if quota_key and quota_used(quota_key) >= tonumber(ARGV[7]) then return n end
local floor = tonumber(ARGV[3])
local most = tonumber(ARGV[4])
for i = 1, n do
  keep(KEYS[i], after[i], tonumber(ARGV[7 + 2 * i]), tonumber(ARGV[8 + 2 * i]), floor, most)
end
if quota_key then
  charge(quota_key, ARGV[8], KEYS[n + 1], ARGV[5], ARGV[6])
else
  count_usage(KEYS[n + 1], ARGV[5], 1, ARGV[6])
end
return -1
"""
)


class _Script:
    __slots__ = ("sha", "source")

    def __init__(self, source: str) -> None:
        self.source = source
        self.sha = hashlib.sha1(source.encode(), usedforsecurity=False).hexdigest()


_TAKE = _Script(TAKE)
_CONSUME = _Script(CONSUME)
_RECORD = _Script(RECORD)
_ADMIT = _Script(ADMIT)
_SCRIPTS = (_TAKE, _CONSUME, _RECORD, _ADMIT)


def _ms(seconds: float) -> int:
    return min(MAX_TTL_MS, max(1000, math.ceil(seconds * 1000)))


class RedisCounters:
    """`CounterStore` on Redis through `client`, which the store owns and closes."""

    def __init__(
        self,
        client: RespClient,
        *,
        prefix: str = PREFIX,
        usage_retention_days: int = USAGE_RETENTION_DAYS,
    ) -> None:
        self._client = client
        self._prefix = prefix
        self._usage_ttl = str(usage_retention_days * DAY_SECONDS)

    @classmethod
    async def open(
        cls, url: str, *, prefix: str = PREFIX, socket_timeout: float = 1.0
    ) -> RedisCounters:
        """A store on `url` (`redis://[user:password@]host:port/db`, `rediss://` for TLS; a
        `socket_timeout` option in the URL wins over the argument). Does not fail when Redis is
        down: requests will, with CounterUnavailable, until it is back."""
        client = RespClient(Address.from_url(url, timeout=socket_timeout))
        counters = cls(client, prefix=prefix)
        with contextlib.suppress(CounterUnavailable):
            await counters.load_scripts()
        return counters

    async def load_scripts(self) -> None:
        """Load every script (each later call then needs only its digest)."""
        for script in _SCRIPTS:
            await self._call("SCRIPT", "LOAD", script.source)

    async def _run(self, script: _Script, *keys_and_args: Arg) -> Any:
        try:
            return await self._call("EVALSHA", script.sha, *keys_and_args)
        except ReplyError as exc:
            if exc.code != "NOSCRIPT":
                raise
        await self._call("SCRIPT", "LOAD", script.source)  # e.g. Redis restarted empty
        return await self._call("EVALSHA", script.sha, *keys_and_args)

    async def _call(self, *args: Arg) -> Any:
        try:
            return await self._client.execute(*args)
        except (Unavailable, ReplyError, OSError) as exc:
            unavailable = _unavailable(exc)
            if unavailable is None:
                raise
            raise unavailable from exc

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

    async def admit(
        self,
        buckets: Sequence[TokenBucket],
        key_id: str,
        plan_id: str,
        day: str,
        *,
        quota: QuotaWindow | None,
        now: float,
    ) -> int | None:
        keys = [f"{self._prefix}bucket:{bucket.key}" for bucket in buckets]
        keys.append(self._usage_key(plan_id, day))
        limit: int | str = ""
        window_ms = 0
        if quota is not None:
            keys.append(self._quota_key(key_id, plan_id, quota.id))
            limit, window_ms = quota.limit, _ms(quota.expires_at - now)
        args: list[str | int] = [
            len(buckets),
            repr(float(now)),
            BUCKET_TTL_FLOOR_MS,
            MAX_TTL_MS,
            key_id,
            self._usage_ttl,
            limit,
            window_ms,
        ]
        for bucket in buckets:
            args += (repr(float(bucket.rate)), bucket.burst)
        refused = int(await self._run(_ADMIT, len(keys), *keys, *args))
        return None if refused < 0 else refused

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
        keys = [self._usage_key(plan_id, day) for day in span]
        # sent together: the connection pipelines them, one round trip for the whole span
        replies: list[Any] = await asyncio.gather(
            *(
                self._call("HGETALL", key)
                if key_ids is None
                else self._call("HMGET", key, *key_ids)
                for key in keys
            )
        )
        if key_ids is None:
            per_day = [
                {k.decode(): int(v) for k, v in zip(reply[::2], reply[1::2], strict=True)}
                for reply in replies
            ]
            key_ids = sorted({key for counts in per_day for key in counts})
            return {key: [counts.get(key, 0) for counts in per_day] for key in key_ids}
        return {
            key: [0 if reply[i] is None else int(reply[i]) for reply in replies]
            for i, key in enumerate(key_ids)
        }

    async def close(self) -> None:
        await self._client.aclose()
