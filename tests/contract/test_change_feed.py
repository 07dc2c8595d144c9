"""The change feed on every records backend: gateway processes starting at once on an empty
database all open, and a change announced by one is heard by the others."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from authgate.storage.changes import ChangeFeed
from authgate.storage.sql.engine import open_engine


class Generation:
    """A process's local cache generation."""

    def __init__(self) -> None:
        self.generation = 0

    def bump(self) -> None:
        self.generation += 1


@dataclass
class Processes:
    """Gateway processes' records on one database: each start opens an engine and a feed."""

    url: str
    base_dir: Path
    engines: list[AsyncEngine] = field(default_factory=list)

    async def start(self, source: Generation) -> ChangeFeed:
        engine = await open_engine(self.url, base_dir=self.base_dir)
        self.engines.append(engine)
        feed = ChangeFeed(engine, [source], interval=3600)
        await feed.open()
        return feed


@pytest.fixture(params=["sqlite", "postgres"])
async def processes(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Processes]:
    """On a records database with no tables yet."""
    if request.param == "sqlite":
        url = "sqlite:///fresh/records.db"
    else:
        url = request.getfixturevalue("postgres_database")
    made = Processes(url, tmp_path)
    yield made
    for engine in made.engines:
        await engine.dispose()


async def test_processes_starting_at_once_on_an_empty_database_all_start(
    processes: Processes,
) -> None:
    sources = [Generation() for _ in range(8)]
    feeds = await asyncio.wait_for(
        asyncio.gather(*(processes.start(source) for source in sources)), timeout=30
    )
    assert len(feeds) == 8


async def test_a_change_announced_by_one_process_reaches_the_others(
    processes: Processes,
) -> None:
    first, second, third = Generation(), Generation(), Generation()
    feeds = [await processes.start(source) for source in (first, second, third)]
    first.bump()  # a change made through the first process
    await feeds[0].poll()
    for feed in feeds[1:]:
        await feed.poll()
    assert (second.generation, third.generation) == (1, 1)
    assert first.generation == 1, "the announcing process is not told its own change again"
    for feed in feeds:
        await feed.poll()
    assert (first.generation, second.generation, third.generation) == (1, 1, 1)
