"""How the records engine runs transactions, on every records backend: reads of several
statements see one snapshot, and write transactions under one lock name take turns, so the
rules stores check inside them hold across processes."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from authgate.storage.sql.engine import open_engine, single_reads, snapshot_reads, writer
from authgate.storage.sql.schema import quota_counts
from tests.contract import records

Backend = records.Backend[AsyncEngine]
backend = records.backend_fixture(lambda engine: engine)
BLOCKED = 0.5
"""How long a writer must stay blocked behind another to count as waiting for it."""


def row(n: int) -> dict[str, object]:
    return {"key_id": f"k{n}", "plan_id": "p", "period_id": "w", "used": n, "expires_at": 1.0}


async def count(conn: AsyncConnection) -> int:
    query = select(func.count()).select_from(quota_counts)
    return int((await conn.execute(query)).scalar_one())


async def test_reads_of_several_statements_see_one_snapshot(backend: Backend) -> None:
    engine, other = await backend.open(), await backend.open()
    async with snapshot_reads(engine).connect() as reading:
        assert await count(reading) == 0
        async with writer(other).begin() as conn:
            await conn.execute(insert(quota_counts).values(**row(1)))
        assert await count(reading) == 0, "the write committed meanwhile is not seen"
    async with single_reads(engine).connect() as fresh:
        assert await count(fresh) == 1


async def test_writers_under_one_lock_take_turns(backend: Backend) -> None:
    """A second writer (another engine: another process) waits for the first to commit, then
    sees its row; it never decides on what the first has not finished writing."""
    first, second = await backend.open(), await backend.open()

    async def write_after_counting() -> int:
        async with writer(second, "same").begin() as conn:
            seen = await count(conn)
            await conn.execute(insert(quota_counts).values(**row(seen + 1)))
        return seen

    async with writer(first, "same").begin() as conn:
        await conn.execute(insert(quota_counts).values(**row(1)))
        waiting = asyncio.create_task(write_after_counting())
        done, _ = await asyncio.wait({waiting}, timeout=BLOCKED)
        assert not done, "the second writer went ahead of the first"
    assert await asyncio.wait_for(waiting, 10) == 1


async def test_postgres_writers_under_other_locks_go_on(
    postgres_records: str, tmp_path: Path
) -> None:
    """On PostgreSQL, only writers under the same name wait for each other (SQLite has one
    write lock for the whole database)."""
    first = await open_engine(postgres_records, base_dir=tmp_path)
    second = await open_engine(postgres_records, base_dir=tmp_path)
    try:
        async with writer(first, "iam").begin() as conn:
            await conn.execute(insert(quota_counts).values(**row(1)))

            async def other_store_writes() -> None:
                async with writer(second, "usage").begin() as other:
                    await other.execute(insert(quota_counts).values(**row(2)))

            await asyncio.wait_for(other_store_writes(), BLOCKED * 4)
    finally:
        await first.dispose()
        await second.dispose()
