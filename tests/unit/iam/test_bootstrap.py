"""First start: the admin user, its key, and the AWS profile files (read back by botocore)."""

from __future__ import annotations

import asyncio
import configparser
import os
import stat
from pathlib import Path

import boto3
import pytest

from authgate.iam.bootstrap import ADMIN_POLICY_NAME, bootstrap, write_private
from authgate.iam.model import PrincipalKind
from authgate.policy import Principal, RequestContext, evaluate, parse_policy
from tests.unit.iam.conftest import IamWorld


def _read(path: Path) -> tuple[str, int]:
    return path.read_text(encoding="utf-8"), stat.S_IMODE(path.stat().st_mode)


async def read(path: Path) -> tuple[str, int]:
    return await asyncio.to_thread(_read, path)


async def test_first_start_creates_admin_and_profile(world: IamWorld, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    key = await bootstrap(world.iam, data_dir, region="eu-west-1")
    assert key is not None
    assert key.key.user_name == "admin"

    credentials, mode = await read(data_dir / "credentials")
    assert mode == 0o600
    assert credentials == (
        f"[default]\naws_access_key_id = {key.key.id}\naws_secret_access_key = {key.secret}\n"
    )
    config, _ = await read(data_dir / "config")
    assert config == "[default]\nregion = eu-west-1\n"
    parsed = configparser.ConfigParser()
    parsed.read_string(credentials)
    assert dict(parsed["default"]) == {
        "aws_access_key_id": key.key.id,
        "aws_secret_access_key": key.secret,
    }


async def test_admin_may_do_anything(world: IamWorld, tmp_path: Path) -> None:
    key = await bootstrap(world.iam, tmp_path, region="us-east-1")
    assert key is not None
    resolved = await world.iam.resolve(key.key.id)
    assert resolved is not None
    assert (resolved.active, resolved.secret, resolved.caller.name) == (True, key.secret, "admin")
    assert [name for name, _ in resolved.policies] == [f"user/admin/{ADMIN_POLICY_NAME}"]
    policies = [parse_policy(doc, name=name) for name, doc in resolved.policies]
    principal = Principal.from_arn(resolved.caller.arn)
    for action, resource in [
        ("iam:CreateUser", "arn:aws:iam::123456789012:user/x"),
        ("sts:AssumeRole", "arn:aws:iam::123456789012:role/r"),
        ("apigateway:POST", "arn:aws:apigateway:us-east-1::/restapis"),
    ]:
        assert evaluate(RequestContext(action, resource, principal), policies).allowed
    inline = await world.iam.get_inline_policy(PrincipalKind.USER, "admin", ADMIN_POLICY_NAME)
    assert inline.owner == "admin"


async def test_botocore_reads_the_profile(
    world: IamWorld, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = await bootstrap(world.iam, tmp_path, region="ap-south-1")
    assert key is not None
    for name in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_DEFAULT_REGION",
        "AWS_REGION",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    session = boto3.Session()
    credentials = session.get_credentials()
    assert credentials is not None
    frozen = credentials.get_frozen_credentials()
    assert (frozen.access_key, frozen.secret_key, frozen.token) == (key.key.id, key.secret, None)
    assert session.region_name == "ap-south-1"


async def test_second_start_changes_nothing(world: IamWorld, tmp_path: Path) -> None:
    first = await bootstrap(world.iam, tmp_path, region="us-east-1")
    assert first is not None
    before = await read(tmp_path / "credentials")
    generation = world.iam.generation
    assert await bootstrap(world.iam, tmp_path, region="eu-west-1") is None
    assert await read(tmp_path / "credentials") == before
    assert (await read(tmp_path / "config"))[0] == "[default]\nregion = us-east-1\n"
    assert world.iam.generation == generation
    assert [k.id for k in await world.iam.list_access_keys("admin")] == [first.key.id]


async def test_existing_users_mean_no_bootstrap(world: IamWorld, tmp_path: Path) -> None:
    await world.iam.create_user("alice")
    assert await bootstrap(world.iam, tmp_path / "data", region="us-east-1") is None
    assert not await asyncio.to_thread((tmp_path / "data").exists)
    assert [u.name for u in await world.iam.list_users()] == ["alice"]


async def test_concurrent_first_starts_make_one_admin(world: IamWorld, tmp_path: Path) -> None:
    results = await asyncio.wait_for(
        asyncio.gather(*(bootstrap(world.iam, tmp_path, region="us-east-1") for _ in range(3))),
        timeout=20,
    )
    made = [r for r in results if r is not None]
    assert len(made) == 1
    credentials, _ = await read(tmp_path / "credentials")
    assert made[0].secret in credentials
    assert len(await world.iam.list_access_keys("admin")) == 1


def test_private_files_replace_exposed_ones_and_ignore_the_umask(tmp_path: Path) -> None:
    path = tmp_path / "credentials"
    path.write_text("old", encoding="utf-8")
    path.chmod(0o644)
    old = os.umask(0)
    try:
        write_private(path, "new secret\n")
    finally:
        os.umask(old)
    assert path.read_text(encoding="utf-8") == "new secret\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["credentials"], "no temporary file left"


def test_private_file_is_0600_from_creation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The content only ever exists in files created 0600: watch the mode of every file
    opened while writing (with a umask that would not narrow it)."""
    seen: list[int] = []
    original = os.open

    def watching_open(path: str | os.PathLike[str], flags: int, mode: int = 0o777) -> int:
        fd = original(path, flags, mode)
        seen.append(stat.S_IMODE(os.fstat(fd).st_mode))
        return fd

    monkeypatch.setattr(os, "open", watching_open)
    old = os.umask(0)
    try:
        write_private(tmp_path / "credentials", "secret\n")
    finally:
        os.umask(old)
    assert seen == [0o600]
