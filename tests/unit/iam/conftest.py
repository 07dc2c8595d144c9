"""IAM services on a real SQLite records file, a fixed master key and a manual clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from authgate.clock import ManualClock
from authgate.iam.service import IamService
from authgate.iam.sts import StsService
from authgate.security.secrets import SecretBox
from authgate.storage.sql.engine import open_engine
from authgate.storage.sql.iam import SqlIamStore

ACCOUNT = "123456789012"
DB_NAME = "records.db"


@dataclass
class IamWorld:
    iam: IamService
    sts: StsService
    store: SqlIamStore
    box: SecretBox
    clock: ManualClock
    engine: AsyncEngine
    db_path: Path

    def raw_database(self) -> bytes:
        """Every byte SQLite has on disk for the records (main file and write-ahead log)."""
        parts = [self.db_path, self.db_path.with_name(DB_NAME + "-wal")]
        return b"".join(p.read_bytes() for p in parts if p.exists())


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[IamWorld]:
    engine = await open_engine(f"sqlite:///{DB_NAME}", base_dir=tmp_path)
    store = SqlIamStore(engine)
    box = SecretBox.load(tmp_path, environ={})
    clock = ManualClock()
    iam = IamService(store, box, account_id=ACCOUNT, clock=clock)
    sts = StsService(iam, store, box, account_id=ACCOUNT, clock=clock)
    yield IamWorld(iam, sts, store, box, clock, engine, tmp_path / DB_NAME)
    await engine.dispose()
