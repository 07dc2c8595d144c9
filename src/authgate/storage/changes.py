"""Tell the other gateway processes of a fleet that records changed, and hear them.

Each process keeps its hot caches (credentials, compiled policies, the API-key snapshot)
in memory, dropped when a local generation counter moves. Across processes, one version row
in the shared records database is bumped whenever a local generation moves, and every process
polls it: a change made through any process reaches all of them within one poll interval.
It works the same on SQLite (one host) and PostgreSQL, and costs one small read a second.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from typing import Protocol

from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from authgate.storage.sql.engine import writer

log = logging.getLogger("authgate.changes")

_metadata = MetaData()
versions = Table(
    "record_versions",
    _metadata,
    Column("name", String(32), primary_key=True),
    Column("version", Integer, nullable=False),
)
_ROW = "records"


class Generational(Protocol):
    """A local cache generation: read it, or move it when another process changed records."""

    @property
    def generation(self) -> int: ...

    def bump(self) -> None: ...


class Watched:
    """A generation read and bumped through two callables (for services that own theirs)."""

    def __init__(self, read: Callable[[], int], bump: Callable[[], None]) -> None:
        self._read = read
        self.bump = bump

    @property
    def generation(self) -> int:
        return self._read()


class ChangeFeed:
    def __init__(
        self, engine: AsyncEngine, sources: Sequence[Generational], *, interval: float = 1.0
    ) -> None:
        self._engine = engine
        self._sources = sources
        self._interval = interval
        self._local = self._local_sum()
        self._seen = 0

    def _local_sum(self) -> int:
        return sum(source.generation for source in self._sources)

    async def open(self) -> None:
        # As a write (engine.py): processes starting at once would otherwise both create it.
        async with writer(self._engine).begin() as conn:
            await conn.run_sync(_metadata.create_all)
        with contextlib.suppress(IntegrityError):  # another process created the row first
            async with self._engine.begin() as conn:
                await conn.execute(insert(versions).values(name=_ROW, version=0))
        async with self._engine.begin() as conn:
            self._seen = await self._read(conn)

    async def _read(self, conn: AsyncConnection) -> int:
        result = await conn.execute(select(versions.c.version).where(versions.c.name == _ROW))
        return int(result.scalar_one())

    async def poll(self) -> None:
        """Announce local changes, then take in the others'. One round of `run`."""
        local = self._local_sum()
        async with self._engine.begin() as conn:
            if local != self._local:
                await conn.execute(
                    update(versions)
                    .where(versions.c.name == _ROW)
                    .values(version=versions.c.version + 1)
                )
                self._local = local
                self._seen += 1
            current = await self._read(conn)
        if current != self._seen:
            for source in self._sources:
                source.bump()
            self._local = self._local_sum()
            self._seen = current

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                await self.poll()
            except Exception:
                log.exception("could not exchange change notices with the records database")
