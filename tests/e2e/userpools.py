"""A gateway with user pools on 127.0.0.1, and the boto3 `cognito-idp` clients that drive it.

`admin` signs with the administrator key the gateway wrote to its data dir; `public` sends
no credentials at all (botocore's UNSIGNED), as an app in a browser or phone would.
"""

from __future__ import annotations

import configparser
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore import UNSIGNED
from botocore.config import Config

from authgate.app import Application
from authgate.clock import ManualClock
from authgate.settings import load_settings
from tests.support import LoopThread, RunningGateway

PASSWORD = "Correct-horse-7"
NO_RETRIES = Config(retries={"total_max_attempts": 1}, connect_timeout=5, read_timeout=30)


@dataclass
class PoolsGateway:
    gateway: RunningGateway
    clock: ManualClock
    data_dir: Path
    admin: Any
    public: Any
    loop: LoopThread

    def run(self, coro: Any) -> Any:
        """Run a coroutine on the gateway's loop (to reach its services directly)."""
        return self.loop.run(coro)

    @property
    def url(self) -> str:
        return self.gateway.url

    def client(self, key: str, secret: str) -> Any:
        return boto3.client(
            "cognito-idp",
            endpoint_url=self.url,
            region_name="us-east-1",
            aws_access_key_id=key,
            aws_secret_access_key=secret,
            config=NO_RETRIES,
        )

    def outbox(self) -> list[dict[str, Any]]:
        path = self.data_dir / "outbox"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines()]

    def last_code(self, destination: str, purpose: str | None = None) -> str:
        for message in reversed(self.outbox()):
            if message["destination"] == destination and purpose in (None, message["purpose"]):
                return str(message["code"])
        raise AssertionError(f"no message to {destination} in the outbox")

    def pool(self, **settings: Any) -> str:
        """A new pool (email as username, email auto-verified unless overridden)."""
        request = {
            "PoolName": "test",
            "UsernameAttributes": ["email"],
            "AutoVerifiedAttributes": ["email"],
            **settings,
        }
        return str(self.admin.create_user_pool(**request)["UserPool"]["Id"])

    def app_client(self, pool_id: str, **settings: Any) -> dict[str, Any]:
        request = {
            "UserPoolId": pool_id,
            "ClientName": "app",
            "ExplicitAuthFlows": [
                "ALLOW_USER_PASSWORD_AUTH",
                "ALLOW_USER_SRP_AUTH",
                "ALLOW_REFRESH_TOKEN_AUTH",
                "ALLOW_ADMIN_USER_PASSWORD_AUTH",
            ],
            **settings,
        }
        client: dict[str, Any] = self.admin.create_user_pool_client(**request)["UserPoolClient"]
        return client

    def confirmed_user(self, pool_id: str, client_id: str, email: str, **extra: Any) -> str:
        """Sign up and confirm through the API; returns the user's sub."""
        sub = self.public.sign_up(ClientId=client_id, Username=email, Password=PASSWORD, **extra)[
            "UserSub"
        ]
        self.public.confirm_sign_up(
            ClientId=client_id, Username=email, ConfirmationCode=self.last_code(email), **extra
        )
        return str(sub)

    def sign_in(self, client_id: str, email: str, password: str = PASSWORD, **extra: Any) -> Any:
        return self.public.initiate_auth(
            ClientId=client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": email, "PASSWORD": password, **extra},
        )


def start_pools_gateway(
    tmp_path: Path,
    loop_thread: LoopThread,
    settings: dict[str, Any] | None = None,
    port: int = 0,
) -> tuple[PoolsGateway, RunningGateway]:
    config = {"data_dir": "data", "access_log": "access.log", **(settings or {})}
    (tmp_path / "authgate.yaml").write_text(json.dumps(config))
    clock = ManualClock(time.time())  # SigV4 and SRP clients use the real time
    app = Application(load_settings(tmp_path / "authgate.yaml"), clock=clock)
    running = RunningGateway(app, loop_thread, port)
    profile = configparser.ConfigParser()
    profile.read(tmp_path / "data" / "credentials")
    admin = boto3.client(
        "cognito-idp",
        endpoint_url=running.url,
        region_name="us-east-1",
        aws_access_key_id=profile["default"]["aws_access_key_id"],
        aws_secret_access_key=profile["default"]["aws_secret_access_key"],
        config=NO_RETRIES,
    )
    public = boto3.client(
        "cognito-idp",
        endpoint_url=running.url,
        region_name="us-east-1",
        config=NO_RETRIES.merge(Config(signature_version=UNSIGNED)),
    )
    return PoolsGateway(running, clock, tmp_path / "data", admin, public, loop_thread), running


@pytest.fixture
def pools(tmp_path: Path, loop_thread: LoopThread) -> Iterator[PoolsGateway]:
    setup, running = start_pools_gateway(tmp_path, loop_thread)
    yield setup
    running.stop()
