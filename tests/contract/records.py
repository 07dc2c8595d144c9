"""The records backends every store contract runs against, and how a test opens a store on one.

One place lists the backends: SQLite (a new file in the test's directory) and PostgreSQL (a
new database in the session's private cluster, with the tables and no rows). Every store
contract runs on both.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, TypeVar

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from authgate.storage.sql.engine import open_engine

S = TypeVar("S")


@dataclass
class Backend(Generic[S]):
    """`open()` gives a store on the same database each time (to test reopening)."""

    url: str
    base_dir: Path
    make: Callable[[AsyncEngine], S]
    engines: list[AsyncEngine] = field(default_factory=list)

    async def open(self) -> S:
        engine = await open_engine(self.url, base_dir=self.base_dir)
        self.engines.append(engine)
        return self.make(engine)

    async def close(self) -> None:
        for engine in self.engines:
            await engine.dispose()
        self.engines.clear()


def _sqlite(request: pytest.FixtureRequest) -> str:
    return "sqlite:///records/authgate.db"


def _postgres(request: pytest.FixtureRequest) -> str:
    url: str = request.getfixturevalue("postgres_records")
    return url


BACKENDS = [pytest.param(_sqlite, id="sqlite"), pytest.param(_postgres, id="postgres")]


def backend_fixture(make: Callable[[AsyncEngine], S]) -> Callable[..., AsyncIterator[Backend[S]]]:
    """A `backend` fixture over every records backend, opening stores with `make`."""

    @pytest.fixture(params=BACKENDS)
    async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend[S]]:
        made = Backend(request.param(request), tmp_path, make)
        yield made
        await made.close()

    return backend
