"""A management API on 127.0.0.1, on real IAM/STS services over SQLite, driven by boto3.

The HTTP handler stands in for the gateway's wiring: it does not check signatures. It takes
the service from the SigV4 scope boto3 signs with, and the caller from the access key id when
the services know it (keys and sessions made during a test), else the fixed `admin` user.
Authorization is allow-all unless a test lists actions to deny; every check is recorded.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from authgate.admin import iam as iam_operations
from authgate.admin.context import AdminContext, Operation
from authgate.admin.query_api import handle_query
from authgate.clock import SystemClock
from authgate.http1.message import Request, Response
from authgate.http1.server import HttpServer
from authgate.iam.errors import InvalidClientTokenId
from authgate.iam.model import Caller
from authgate.iam.service import IamService, user_caller
from authgate.iam.sts import StsService
from authgate.security.secrets import SecretBox
from authgate.storage.sql.engine import open_engine
from authgate.storage.sql.iam import SqlIamStore
from tests.support import LoopThread

ACCOUNT = "123456789012"
ADMIN_ARN = f"arn:aws:iam::{ACCOUNT}:user/admin"
_SCOPE = re.compile(r"Credential=([A-Z0-9]+)/\d{8}/[^/]+/([a-z]+)/aws4_request")
_NO_RETRIES = Config(
    retries={"total_max_attempts": 1, "mode": "standard"}, connect_timeout=5, read_timeout=10
)


@dataclass
class AdminApi:
    url: str
    iam: IamService
    sts: StsService
    loop: LoopThread
    admin: Caller
    deny: dict[str, bool | str] = field(default_factory=dict)
    """Action → what `authorize` answers for it (False, or a reason string)."""
    fail: set[str] = field(default_factory=set)
    """Actions for which `authorize` raises, to exercise the 500 path."""
    checks: list[tuple[str, str, str]] = field(default_factory=list)
    """(caller ARN, action, resource) of every authorization asked for."""
    rejected_keys: set[str] = field(default_factory=set)
    """Access key ids whose calls fail authentication (InvalidClientTokenId)."""
    extra: dict[str, Operation] = field(default_factory=dict)
    """Operations added to the IAM table."""

    def client(
        self,
        service: str,
        key: str = "AKIAIOSFODNN7EXAMPLE",
        secret: str = "x" * 40,
        token: str | None = None,
        *,
        validate: bool = True,
    ) -> Any:
        """A boto3 client; `validate=False` lets values botocore would refuse reach us."""
        config = _NO_RETRIES.merge(Config(parameter_validation=validate))
        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name="us-east-1",
            aws_access_key_id=key,
            aws_secret_access_key=secret,
            aws_session_token=token,
            config=config,
        )

    def run(self, coro: Any) -> Any:
        return self.loop.run(coro, timeout=10)


@pytest.fixture
def admin_api(tmp_path: Path, loop_thread: LoopThread) -> Iterator[AdminApi]:
    async def services() -> tuple[IamService, StsService, Caller, Any]:
        engine = await open_engine(f"sqlite:///{tmp_path / 'iam.db'}", base_dir=tmp_path)
        store = SqlIamStore(engine)
        box = SecretBox(os.urandom(32))
        clock = SystemClock()
        iam = IamService(store, box, account_id=ACCOUNT, clock=clock)
        sts = StsService(iam, store, box, account_id=ACCOUNT, clock=clock)
        admin = user_caller(await iam.create_user("admin"), ACCOUNT)
        return iam, sts, admin, engine

    iam, sts, admin, engine = loop_thread.run(services())
    api = AdminApi("", iam, sts, loop_thread, admin)

    async def make_context(request: Request, body: bytes, request_id: str) -> AdminContext:
        match = _SCOPE.search(request.header("authorization") or "")
        if match and match.group(1) in api.rejected_keys:
            raise InvalidClientTokenId()
        resolved = await iam.resolve(match.group(1)) if match else None
        if resolved is not None and resolved.active:
            caller, credential = resolved.caller, resolved
        else:
            caller, credential = admin, None
        return AdminContext(caller, request_id, ACCOUNT, iam, sts, credential)

    async def authorize(caller: Caller, action: str, resource: str) -> bool | str:
        api.checks.append((caller.arn, action, resource))
        if action in api.fail:
            raise RuntimeError("authorizer exploded: secret detail 42")
        return api.deny.get(action, True)

    async def handler(request: Request) -> Response:
        match = _SCOPE.search(request.header("authorization") or "")
        service = match.group(2) if match else "iam"
        table = {**iam_operations.OPERATIONS, **api.extra} if service == "iam" else None
        return await handle_query(
            make_context, request, service, authorize=authorize, operations=table
        )

    server = HttpServer(handler)
    host, port = loop_thread.run(server.start("127.0.0.1", 0))
    api.url = f"http://{host}:{port}"
    yield api
    loop_thread.run(server.shutdown(1.0))
    loop_thread.run(engine.dispose())
