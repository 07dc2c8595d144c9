"""API key values are kept only sealed: not in the database file, opened only in their own
row, and found by their keyed digest."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from authgate.clock import ManualClock
from authgate.security.secrets import SealedValueError, SecretBox
from authgate.storage.sql.engine import open_engine
from authgate.storage.sql.usage import SqlUsageStore
from authgate.usage.generation import Generation
from authgate.usage.keys import ApiKeyService, api_key_context
from authgate.usage.snapshot import API_KEY_DIGEST_CONTEXT, UsageView

VALUE = "ThisIsTheSecretValueOfAnApiKey0123456789"


def database_bytes(directory: Path) -> bytes:
    """Every byte of the database, its journal and WAL included."""
    return b"".join(path.read_bytes() for path in sorted(directory.glob("keys.db*")))


def stored_columns(database: Path) -> tuple[dict[str, bytes], dict[str, str]]:
    with sqlite3.connect(database) as conn:
        rows = dict(conn.execute("SELECT id, value FROM usage_api_keys").fetchall())
        digests = dict(conn.execute("SELECT id, value_digest FROM usage_api_keys").fetchall())
    return rows, digests


async def test_value_is_stored_sealed_and_found_by_digest(tmp_path: Path) -> None:
    engine = await open_engine("sqlite:///keys.db", base_dir=tmp_path)
    try:
        store = SqlUsageStore(engine)
        box = SecretBox(os.urandom(32))
        generation = Generation()
        keys = ApiKeyService(store, box, clock=ManualClock(), generation=generation)
        created = await keys.create(name="k1", value=VALUE, enabled=True)
        other = await keys.create(name="k2")
    finally:
        await engine.dispose()

    raw = database_bytes(tmp_path)
    assert VALUE.encode() not in raw
    assert other.value is not None
    assert other.value.encode() not in raw

    rows, digests = stored_columns(tmp_path / "keys.db")
    sealed = rows[created.key.id]
    assert isinstance(sealed, bytes)
    assert VALUE.encode() not in sealed
    assert box.open(sealed, context=api_key_context(created.key.id)) == VALUE.encode()
    with pytest.raises(SealedValueError):
        box.open(sealed, context=api_key_context(other.key.id))
    with pytest.raises(SealedValueError):
        SecretBox(os.urandom(32)).open(sealed, context=api_key_context(created.key.id))

    expected = box.digest(VALUE.encode(), context=API_KEY_DIGEST_CONTEXT)
    assert digests[created.key.id] == expected
    assert UsageView(store, box, generation).digest(VALUE) == expected
    assert keys.digest(VALUE) == expected
    assert (
        SecretBox(os.urandom(32)).digest(VALUE.encode(), context=API_KEY_DIGEST_CONTEXT) != expected
    )

    engine = await open_engine("sqlite:///keys.db", base_dir=tmp_path)
    try:
        keys = ApiKeyService(
            SqlUsageStore(engine), box, clock=ManualClock(), generation=Generation()
        )
        found = await keys.find(VALUE)
        assert found == created.key
        assert await keys.find(VALUE + "x") is None
        assert (await keys.get(created.key.id, include_value=True)).value == VALUE
        assert (await keys.get(created.key.id)).value is None
    finally:
        await engine.dispose()
