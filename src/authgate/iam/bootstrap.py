"""First start: an administrator and its access key, written where AWS tools look for them.

The credentials file is created with mode 0600 from its first byte (a fresh file is written
beside it and renamed over it), so the secret is never readable by others, even briefly.
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

from authgate.iam.errors import EntityAlreadyExists
from authgate.iam.model import NewAccessKey, PrincipalKind
from authgate.iam.service import IamService

ADMIN_USER = "admin"
ADMIN_POLICY_NAME = "AdministratorAccess"
ADMIN_POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
    }
)
CREDENTIALS_FILE = "credentials"
CONFIG_FILE = "config"


async def bootstrap(iam: IamService, data_dir: Path, *, region: str) -> NewAccessKey | None:
    """Create `admin` (allowed everything) and its access key if there is no user yet, and
    write `<data_dir>/credentials` and `<data_dir>/config` for the `[default]` profile.
    None if users exist already (nothing is written)."""
    if await iam.has_users():
        return None
    try:
        await iam.create_user(ADMIN_USER)
    except EntityAlreadyExists:
        return None  # another process bootstrapped at the same moment
    await iam.put_inline_policy(PrincipalKind.USER, ADMIN_USER, ADMIN_POLICY_NAME, ADMIN_POLICY)
    key = await iam.create_access_key(ADMIN_USER)
    await asyncio.to_thread(write_profile, data_dir, key, region)
    return key


def write_profile(data_dir: Path, key: NewAccessKey, region: str) -> None:
    """The `[default]` profile in AWS's shared credentials and config file formats."""
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    write_private(
        data_dir / CREDENTIALS_FILE,
        f"[default]\naws_access_key_id = {key.key.id}\naws_secret_access_key = {key.secret}\n",
    )
    write_private(data_dir / CONFIG_FILE, f"[default]\nregion = {region}\n")


def write_private(path: Path, text: str) -> None:
    """Replace `path` with `text`, readable and writable by the owner only."""
    temp = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(temp, flags, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)
