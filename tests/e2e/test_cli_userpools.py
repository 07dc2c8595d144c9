"""User pools from the command line: `authgate pools`, `users` and `outbox`, run as separate
processes against a real gateway, signed with the administrator key it wrote; boto3 signs up
and signs in as an app would."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.userpools import PASSWORD, PoolsGateway, start_pools_gateway
from tests.support import LoopThread

AUTHGATE = [sys.executable, "-m", "authgate"]


@pytest.fixture
def world(tmp_path: Path, loop_thread: LoopThread) -> Iterator[PoolsGateway]:
    setup, running = start_pools_gateway(tmp_path, loop_thread)
    yield setup
    running.stop()


def authgate(world: PoolsGateway, *args: str, remote: bool = True) -> str:
    target = ["--endpoint-url", world.url] if remote else []
    result = subprocess.run(
        [*AUTHGATE, *args, *target, "--data-dir", str(world.data_dir)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_pools_users_and_the_outbox(world: PoolsGateway) -> None:
    created = json.loads(authgate(world, "pools", "create", "shop", "--email-username", "--json"))
    pool_id = created["Id"]
    assert created["UsernameAttributes"] == ["email"]
    assert pool_id in authgate(world, "pools", "list")
    described = authgate(world, "pools", "describe", pool_id)
    assert f"{world.url}/{pool_id}" in described
    client = json.loads(authgate(world, "pools", "clients", "create", pool_id, "web", "--json"))
    client_id = client["ClientId"]
    assert "ClientSecret" not in client
    assert client_id in authgate(world, "pools", "clients", "list", pool_id)

    world.public.sign_up(ClientId=client_id, Username="ada@example.com", Password=PASSWORD)
    printed = authgate(world, "outbox", "--to", "ada@example.com", remote=False)
    code = world.last_code("ada@example.com")
    assert code in printed
    assert "sign_up" in printed
    lines = authgate(world, "outbox", "--json", "--last", "1", remote=False).splitlines()
    assert json.loads(lines[0])["code"] == code

    authgate(world, "users", "confirm", pool_id, "ada@example.com")
    authgate(world, "users", "add-to-group", pool_id, "ada@example.com", "admins")
    shown = authgate(world, "users", "get", pool_id, "ada@example.com")
    assert "CONFIRMED" in shown
    assert "admins" in shown
    tokens = world.sign_in(client_id, "ada@example.com")["AuthenticationResult"]
    assert tokens["IdToken"]

    authgate(
        world,
        "users",
        "create",
        pool_id,
        "bob@example.com",
        "--suppress",
        "--temporary-password",
        "Temp-pass-123",
        "--attribute",
        "given_name=Bob",
    )
    authgate(world, "users", "set-password", pool_id, "bob@example.com", "--password", PASSWORD)
    listed = authgate(world, "users", "list", pool_id, "--filter", 'email ^= "bob"')
    assert "bob@example.com" in listed
    assert "ada@example.com" not in listed
    assert "CONFIRMED" in listed
    assert world.sign_in(client_id, "bob@example.com")["AuthenticationResult"]["AccessToken"]

    authgate(world, "users", "delete", pool_id, "bob@example.com")
    assert "bob@example.com" not in authgate(world, "users", "list", pool_id)
    authgate(world, "pools", "delete", pool_id)
    assert pool_id not in authgate(world, "pools", "list")


def test_errors_are_one_line(world: PoolsGateway) -> None:
    result = subprocess.run(
        [
            *AUTHGATE,
            "pools",
            "describe",
            "us-east-1_Missing1",
            "--endpoint-url",
            world.url,
            "--data-dir",
            str(world.data_dir),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "error: ResourceNotFoundException: User pool us-east-1_Missing1 does not exist."
    )
