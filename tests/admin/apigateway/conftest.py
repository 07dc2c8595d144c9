"""The API key and usage plan API on 127.0.0.1, on real services over SQLite, driven by boto3.

The HTTP handler stands in for the gateway's wiring: it does not check signatures, and every
call comes from the fixed `admin` caller. Authorization is allow-all unless a test lists
actions to deny; every check is recorded. Time is a manual clock (usage is read by day), and
usage is counted by the real in-memory counter store, charged directly as the meter would.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from sqlalchemy.ext.asyncio import AsyncEngine

from authgate.admin.apigateway import UsageServices, handle_apigateway
from authgate.clock import ManualClock
from authgate.http1.message import Request, Response
from authgate.http1.server import HttpServer
from authgate.iam.model import Caller
from authgate.security.secrets import SecretBox
from authgate.storage.memory_counters import MemoryCounters
from authgate.storage.sql.engine import open_engine
from authgate.storage.sql.usage import SqlUsageStore
from authgate.usage.generation import Generation
from authgate.usage.keys import ApiKeyService
from authgate.usage.plans import UsagePlanService
from authgate.usage.snapshot import UsageView
from authgate.usage.store import Limits
from tests.support import LoopThread

ACCOUNT = "123456789012"
ADMIN = Caller(
    arn=f"arn:aws:iam::{ACCOUNT}:user/admin",
    user_id="AIDAEXAMPLEADMIN00000",
    account=ACCOUNT,
    kind="IAMUser",
    name="admin",
)
START = 1_795_953_600.0
"""2026-11-29 12:00:00 UTC, a Sunday: the last day of an ISO week, near a month's end."""
_NO_RETRIES = Config(
    retries={"total_max_attempts": 1, "mode": "standard"}, connect_timeout=5, read_timeout=10
)


@dataclass
class UsageApi:
    url: str
    keys: ApiKeyService
    plans: UsagePlanService
    view: UsageView
    counters: MemoryCounters
    store: SqlUsageStore
    engine: AsyncEngine
    box: SecretBox
    clock: ManualClock
    loop: LoopThread
    deny: dict[str, bool | str] = field(default_factory=dict)
    checks: list[tuple[str, str]] = field(default_factory=list)
    """(action, resource) of every authorization asked for."""

    def client(self, *, validate: bool = True) -> Any:
        config = _NO_RETRIES.merge(Config(parameter_validation=validate))
        return boto3.client(
            "apigateway",
            endpoint_url=self.url,
            region_name="us-east-1",
            aws_access_key_id="AKIAIOSFODNN7EXAMPLE",
            aws_secret_access_key="x" * 40,
            config=config,
        )

    def run(self, coro: Any) -> Any:
        return self.loop.run(coro, timeout=10)


def limits() -> Limits:
    """Small limits, so that tests can reach them."""
    return Limits(keys=50, plans=5, plans_per_key=3)


@pytest.fixture
def usage_api(tmp_path: Path, loop_thread: LoopThread) -> Iterator[UsageApi]:
    clock = ManualClock(START)

    async def services() -> tuple[Any, ...]:
        engine = await open_engine(f"sqlite:///{tmp_path / 'usage.db'}", base_dir=tmp_path)
        store = SqlUsageStore(engine)
        box = SecretBox(os.urandom(32))
        generation = Generation()
        counters = MemoryCounters(None, clock)
        keys = ApiKeyService(store, box, clock=clock, generation=generation, limits=limits())
        plans = UsagePlanService(
            store, keys, counters, clock=clock, generation=generation, limits=limits()
        )
        return engine, store, box, keys, plans, counters, UsageView(store, box, generation)

    engine, store, box, keys, plans, counters, view = loop_thread.run(services())
    api = UsageApi("", keys, plans, view, counters, store, engine, box, clock, loop_thread)

    async def authenticate(request: Request, body: bytes) -> Caller:
        return ADMIN

    async def authorize(caller: Caller, action: str, resource: str) -> bool | str:
        api.checks.append((action, resource))
        return api.deny.get(action, True)

    async def handler(request: Request) -> Response:
        return await handle_apigateway(
            request,
            authenticate=authenticate,
            authorize=authorize,
            services=UsageServices(keys, plans),
            region="us-east-1",
        )

    server = HttpServer(handler)
    host, port = loop_thread.run(server.start("127.0.0.1", 0))
    api.url = f"http://{host}:{port}"
    yield api
    loop_thread.run(server.shutdown(1.0))
    loop_thread.run(engine.dispose())
