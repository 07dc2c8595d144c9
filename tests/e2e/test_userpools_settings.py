"""User pools declared in authgate.yaml, the public URL in tokens, and codes sent by SMTP."""

from __future__ import annotations

import asyncio
import email
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from authgate.errors import ConfigError
from authgate.settings import parse_settings
from tests.e2e.test_userpools_signup import claims
from tests.e2e.userpools import PASSWORD, PoolsGateway, start_pools_gateway
from tests.support import LoopThread

POOL_ID = "us-east-1_Seeded123"
CLIENT_ID = "seededclient0000000000000"
SEEDS = {
    "public_url": "https://id.example.com/auth",
    "user_pools": [
        {
            "id": POOL_ID,
            "name": "seeded",
            "settings": {"UsernameAttributes": ["email"], "AutoVerifiedAttributes": ["email"]},
            "clients": [
                {
                    "id": CLIENT_ID,
                    "name": "app",
                    "settings": {"ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH"]},
                }
            ],
        }
    ],
}


@pytest.fixture
def seeded(tmp_path: Path, loop_thread: LoopThread) -> Iterator[PoolsGateway]:
    setup, running = start_pools_gateway(tmp_path, loop_thread, SEEDS)
    yield setup
    running.stop()


def test_seeds_create_the_pool_and_client_once(
    seeded: PoolsGateway, tmp_path: Path, loop_thread: LoopThread
) -> None:
    pool = seeded.admin.describe_user_pool(UserPoolId=POOL_ID)["UserPool"]
    assert pool["Name"] == "seeded"
    assert pool["UsernameAttributes"] == ["email"]
    seeded.confirmed_user(POOL_ID, CLIENT_ID, "sia@example.com")
    tokens = seeded.sign_in(CLIENT_ID, "sia@example.com")["AuthenticationResult"]
    assert claims(tokens["IdToken"])["iss"] == f"https://id.example.com/auth/{POOL_ID}"
    seeded.gateway.stop()
    again, running = start_pools_gateway(tmp_path, loop_thread, SEEDS)  # same data dir
    try:
        assert again.sign_in(CLIENT_ID, "sia@example.com")["AuthenticationResult"]
    finally:
        running.stop()


def test_seed_settings_the_api_would_refuse_stop_the_start(
    tmp_path: Path, loop_thread: LoopThread
) -> None:
    bad = {"user_pools": [{"id": POOL_ID, "settings": {"MfaConfiguration": "SOMETIMES"}}]}
    with pytest.raises(ConfigError) as raised:
        start_pools_gateway(tmp_path, loop_thread, bad)
    assert "#/user_pools/0" in str(raised.value)
    assert "MfaConfiguration" in str(raised.value)


@pytest.mark.parametrize(
    ("raw", "where"),
    [
        ({"public_url": "https://example.com/"}, "#/public_url"),
        ({"public_url": "ftp://example.com"}, "#/public_url"),
        ({"user_pools": [{"id": "nope"}]}, "#/user_pools/0/id"),
        (
            {"user_pools": [{"id": POOL_ID, "clients": [{"id": "a b"}]}]},
            "#/user_pools/0/clients/0/id",
        ),
        ({"user_pools": [{"id": POOL_ID, "colour": "red"}]}, "#/user_pools/0/colour"),
        ({"user_pools": [{"id": POOL_ID, "settings": []}]}, "#/user_pools/0/settings"),
        ({"smtp": {"port": 25}}, "#/smtp/host"),
        ({"smtp": {"host": "mail", "starttls": "yes"}}, "#/smtp/starttls"),
    ],
)
def test_settings_problems_are_named(raw: dict[str, Any], where: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_settings(raw, Path("/tmp"))
    assert where in str(raised.value)


class SmtpSink:
    """A minimal SMTP server on 127.0.0.1 that keeps every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[email.message.Message] = []

    async def session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 sink ready\r\n")
        while line := await reader.readline():
            verb = line.decode().strip().split(" ")[0].upper()
            if verb == "DATA":
                writer.write(b"354 go on\r\n")
                data = await reader.readuntil(b"\r\n.\r\n")
                self.messages.append(email.message_from_bytes(data[:-5]))
                writer.write(b"250 queued\r\n")
            elif verb == "QUIT":
                writer.write(b"221 bye\r\n")
                break
            elif verb == "EHLO":
                writer.write(b"250 sink\r\n")
            else:
                writer.write(b"250 ok\r\n")
            await writer.drain()
        writer.close()


def test_codes_go_by_smtp_when_configured(tmp_path: Path, loop_thread: LoopThread) -> None:
    sink = SmtpSink()
    server = loop_thread.run(asyncio.start_server(sink.session, "127.0.0.1", 0))
    port = server.sockets[0].getsockname()[1]
    smtp = {"host": "127.0.0.1", "port": port, "from": "auth@example.com", "starttls": False}
    setup, running = start_pools_gateway(tmp_path, loop_thread, {"smtp": smtp})
    try:
        pool_id = setup.pool()
        client_id = setup.app_client(pool_id)["ClientId"]
        setup.public.sign_up(ClientId=client_id, Username="mo@example.com", Password=PASSWORD)
        assert setup.outbox() == []
        assert len(sink.messages) == 1
        message = sink.messages[0]
        assert message["To"] == "mo@example.com"
        assert message["From"] == "auth@example.com"
        assert message["Subject"] == "Your verification code"
        code = str(message.get_payload()).split("Your verification code is ")[1][:6]
        setup.public.confirm_sign_up(
            ClientId=client_id, Username="mo@example.com", ConfirmationCode=code
        )
    finally:
        running.stop()
        server.close()
