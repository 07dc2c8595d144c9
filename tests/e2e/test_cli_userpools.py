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


def authgate(world: PoolsGateway, *commands: list[str], remote: bool = True) -> list[str]:
    """`authgate ARGS` for each command line, side by side; their standard outputs."""
    target = ["--endpoint-url", world.url] if remote else []
    processes = [
        subprocess.Popen(  # our own CLI with test arguments
            [*AUTHGATE, *args, *target, "--data-dir", str(world.data_dir)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for args in commands
    ]
    outputs = []
    for process in processes:
        out, err = process.communicate(timeout=60)
        assert process.returncode == 0, err
        outputs.append(out)
    return outputs


def test_pools_users_and_the_outbox(world: PoolsGateway) -> None:
    (created,) = authgate(world, ["pools", "create", "shop", "--email-username", "--json"])
    pool_id = json.loads(created)["Id"]
    assert json.loads(created)["UsernameAttributes"] == ["email"]
    listed, described, made = authgate(
        world,
        ["pools", "list"],
        ["pools", "describe", pool_id],
        ["pools", "clients", "create", pool_id, "web", "--json"],
    )
    assert pool_id in listed
    assert f"{world.url}/{pool_id}" in described
    client = json.loads(made)
    client_id = client["ClientId"]
    assert "ClientSecret" not in client

    world.public.sign_up(ClientId=client_id, Username="ada@example.com", Password=PASSWORD)
    code = world.last_code("ada@example.com")
    (clients,) = authgate(world, ["pools", "clients", "list", pool_id])
    printed, last = authgate(
        world,
        ["outbox", "--to", "ada@example.com"],
        ["outbox", "--json", "--last", "1"],
        remote=False,
    )
    assert client_id in clients
    assert code in printed
    assert "sign_up" in printed
    assert json.loads(last.splitlines()[0])["code"] == code

    authgate(
        world,
        ["users", "confirm", pool_id, "ada@example.com"],
        ["users", "create", pool_id, "bob@example.com", "--suppress",
         "--temporary-password", "Temp-pass-123", "--attribute", "given_name=Bob"],
    )  # fmt: skip
    authgate(
        world,
        ["users", "add-to-group", pool_id, "ada@example.com", "admins"],
        ["users", "set-password", pool_id, "bob@example.com", "--password", PASSWORD],
    )
    shown, filtered = authgate(
        world,
        ["users", "get", pool_id, "ada@example.com"],
        ["users", "list", pool_id, "--filter", 'email ^= "bob"'],
    )
    assert "CONFIRMED" in shown
    assert "admins" in shown
    assert "bob@example.com" in filtered
    assert "ada@example.com" not in filtered
    assert "CONFIRMED" in filtered
    for email in ("ada@example.com", "bob@example.com"):
        assert world.sign_in(client_id, email)["AuthenticationResult"]["AccessToken"]

    authgate(world, ["users", "delete", pool_id, "bob@example.com"])
    (remaining,) = authgate(world, ["users", "list", pool_id])
    assert "bob@example.com" not in remaining
    assert "ada@example.com" in remaining
    authgate(world, ["pools", "delete", pool_id])
    assert pool_id not in authgate(world, ["pools", "list"])[0]


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
