"""Microseconds of metering per request, memory and Redis: the separate calls an API-key request
with a plan throttle, a stage throttle and a quota used to cost (`take`, `take`, `consume`)
against the one `admit` that replaced them.

Each request takes a token from one of 1000 plan buckets and from a shared stage bucket and
counts one against that key's quota; the caller's own arithmetic (windows, days) is left out.
Memory runs over a SQLite records file (its once-a-second save included). Redis runs against a
private redis-server on a free loopback port, started here and stopped by PID, one request at a
time (latency) and with 32 requests in flight (throughput per request). Each figure is the best
and the median of five rounds.

Run: `.venv/bin/python bench/counters.py [requests]` (redis-server from scripts/services.sh).
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import uvloop

from authgate.clock import SystemClock
from authgate.storage.counters import CounterStore, QuotaWindow, TokenBucket
from authgate.storage.memory_counters import MemoryCounters
from authgate.storage.sql.engine import open_engine
from authgate.usage.quota import Period, day_of, window_at

KEYS = 1000
CONCURRENCY = 32
ROUNDS = 5
DAY = day_of(time.time())


@contextmanager
def redis_server(directory: Path) -> Iterator[str]:
    executable = shutil.which("redis-server")
    if executable is None:
        raise SystemExit("redis-server is not installed: run `bash scripts/services.sh`")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [executable, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", str(directory)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(16).startswith(b"+PONG"):
                        break
            except OSError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise SystemExit("redis-server did not start")
            time.sleep(0.02)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)


Meter = Callable[[CounterStore, int, float, QuotaWindow], Awaitable[object]]
STAGE = TokenBucket("stage:api1:prod:/pets/GET", 1e9, 10**9)


async def separate(store: CounterStore, i: int, now: float, quota: QuotaWindow) -> None:
    """One request as three calls: the plan's bucket, the stage's, then the quota."""
    key = f"key{i % KEYS}"
    await store.take(f"plan1:{key}", 1e9, 10**9, now)
    await store.take(STAGE.key, STAGE.rate, STAGE.burst, now)
    await store.consume(
        key, "plan1", DAY, limit=quota.limit, window=quota.id, expires_at=quota.expires_at, now=now
    )


async def combined(store: CounterStore, i: int, now: float, quota: QuotaWindow) -> None:
    """The same request as one `admit` (the quota window worked out once, as the meter does)."""
    key = f"key{i % KEYS}"
    await store.admit(
        [TokenBucket(f"plan1:{key}", 1e9, 10**9), STAGE],
        key,
        "plan1",
        DAY,
        quota=quota,
        now=now,
    )


METERS: dict[str, Meter] = {"take+take+consume": separate, "admit": combined}


async def run(store: CounterStore, meter: Meter, count: int, concurrency: int) -> float:
    """Microseconds per request, `concurrency` requests in flight."""
    clock = SystemClock()
    window = window_at(Period.MONTH, clock.now())
    quota = QuotaWindow(window.id, 10**9, window.end)

    async def worker(offset: int) -> None:
        for i in range(offset, count, concurrency):
            await meter(store, i, clock.now(), quota)

    start = time.perf_counter()
    await asyncio.gather(*(worker(n) for n in range(concurrency)))
    return (time.perf_counter() - start) / count * 1e6


async def measure(name: str, store: CounterStore, count: int, concurrency: int) -> None:
    for path, meter in METERS.items():
        await run(store, meter, min(count, 1000), concurrency)  # warm up
        results = sorted([await run(store, meter, count, concurrency) for _ in range(ROUNDS)])
        print(
            f"{name:<7} {path:<17} {concurrency:>3} in flight  best {results[0]:8.2f} µs/request"
            f"  median {results[len(results) // 2]:8.2f}"
        )


async def main(count: int) -> None:
    from authgate.storage.redis_counters import RedisCounters

    with tempfile.TemporaryDirectory() as tmp:
        engine = await open_engine("sqlite:///bench.db", base_dir=Path(tmp))
        memory = await MemoryCounters.open(engine, SystemClock())
        try:
            await measure("memory", memory, count, 1)
        finally:
            await memory.close()
            await engine.dispose()

        with redis_server(Path(tmp)) as url:
            redis = await RedisCounters.open(url)
            try:
                await measure("redis", redis, count // 20, 1)
                await measure("redis", redis, count // 10, CONCURRENCY)
            finally:
                await redis.close()


if __name__ == "__main__":
    uvloop.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 200_000))
