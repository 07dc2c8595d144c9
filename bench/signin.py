"""USER_PASSWORD_AUTH sign-ins per second through a real gateway on 127.0.0.1.

Each sign-in is one InitiateAuth over HTTP: client and user lookups, one argon2id check
(OWASP's profile, about 25 ms of one core), a session row, and two RS256 signatures. argon2
runs in worker threads and releases the GIL, so sign-ins use several cores. The gateway runs
on its own event loop in a thread; the load comes from httpx with CONCURRENCY requests in
flight for SECONDS seconds (a short run: it is CPU-bound and should not disturb others).

Run: `.venv/bin/python bench/signin.py [seconds] [concurrency]`
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import uvloop

from authgate.app import Application
from authgate.identity.passwords import PasswordHasher
from authgate.settings import load_settings

SECONDS = float(sys.argv[1]) if len(sys.argv) > 1 else 5.0
CONCURRENCY = int(sys.argv[2]) if len(sys.argv) > 2 else 8
USERS = 20
PASSWORD = "Correct-horse-7"  # noqa: S105 - the bench users' password
TARGET = "AWSCognitoIdentityProviderService.InitiateAuth"


class Server:
    """The gateway on its own loop in a daemon thread."""

    def __init__(self, config: Path) -> None:
        self.loop = uvloop.new_event_loop()
        threading.Thread(target=self.loop.run_forever, daemon=True).start()
        self.app = Application(load_settings(config))
        host, port = self.run(self.app.start("127.0.0.1", 0))
        self.url = f"http://{host}:{port}"

    def run(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(60)

    def stop(self) -> None:
        self.run(self.app.stop(grace=1.0))
        self.loop.call_soon_threadsafe(self.loop.stop)


async def seed(app: Application) -> tuple[str, list[str]]:
    pools = app.user_pools
    pool = await pools.pools.create_pool("bench", {"UsernameAttributes": ["email"]})
    client = await pools.pools.create_client(
        pool.id, "bench", {"ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH"]}
    )
    emails = [f"user{i}@example.com" for i in range(USERS)]
    for email in emails:
        signed = await pools.users.sign_up(
            {"ClientId": client.id, "Username": email, "Password": PASSWORD}
        )
        await pools.users.confirm(pool, signed.user)
    return client.id, emails


async def load(url: str, client_id: str, emails: list[str]) -> tuple[int, list[float]]:
    deadline = time.perf_counter() + SECONDS
    latencies: list[float] = []
    headers = {"content-type": "application/x-amz-json-1.1", "x-amz-target": TARGET}

    async def worker(n: int, http: httpx.AsyncClient) -> None:
        i = n
        while time.perf_counter() < deadline:
            body = {
                "ClientId": client_id,
                "AuthFlow": "USER_PASSWORD_AUTH",
                "AuthParameters": {"USERNAME": emails[i % len(emails)], "PASSWORD": PASSWORD},
            }
            started = time.perf_counter()
            response = await http.post(url, headers=headers, content=json.dumps(body))
            if response.status_code != 200:
                raise SystemExit(f"sign-in failed: {response.status_code} {response.text}")
            latencies.append(time.perf_counter() - started)
            i += CONCURRENCY

    limits = httpx.Limits(max_connections=CONCURRENCY)
    async with httpx.AsyncClient(limits=limits, timeout=30) as http:
        await asyncio.gather(*(worker(n, http) for n in range(CONCURRENCY)))
    return len(latencies), latencies


def argon2_check_ms() -> float:
    hasher = PasswordHasher()
    stored = hasher.hash(PASSWORD)
    started = time.perf_counter()
    for _ in range(10):
        hasher.verify(stored, PASSWORD)
    return (time.perf_counter() - started) / 10 * 1000


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "authgate.yaml"
        config.write_text(json.dumps({"data_dir": "data", "access_log": "access.log"}))
        server = Server(config)
        try:
            client_id, emails = server.run(seed(server.app))
            count, latencies = asyncio.run(load(server.url, client_id, emails))
        finally:
            server.stop()
    latencies.sort()
    print(f"cores: {os.cpu_count()}, concurrency: {CONCURRENCY}, seconds: {SECONDS:g}")
    print(f"argon2id check alone: {argon2_check_ms():.1f} ms (one core)")
    print(f"USER_PASSWORD_AUTH sign-ins: {count / SECONDS:.0f}/s")
    print(
        f"latency ms: p50 {statistics.median(latencies) * 1000:.1f}, "
        f"p99 {latencies[int(len(latencies) * 0.99)] * 1000:.1f}"
    )


if __name__ == "__main__":
    main()
