"""Open the records database: URL scheme → async driver, tables created on first open.

`sqlite:///path` (relative paths resolve against the caller's base directory) runs on aiosqlite
in WAL mode with foreign keys enforced; `postgresql://…` runs on psycopg 3. SQLAlchemy imports
a driver only when an engine for it is created, so neither is loaded unless chosen.

SQLite write transactions start with BEGIN IMMEDIATE (through `writer(engine)`): a deferred
transaction that reads and then writes can fail outright with SQLITE_BUSY when another
connection wrote in between, while an immediate one waits for the lock (`busy_timeout`).
Single-statement reads (through `single_reads(engine)`) send no BEGIN at all: one statement is
atomic on its own, and with aiosqlite every statement saved is a thread round trip saved.
Reads of several statements use the engine as is (BEGIN DEFERRED: one snapshot).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Row, Select, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from authgate.errors import ConfigError, Problem
from authgate.storage.sql.schema import metadata

SQLITE_DRIVER = "sqlite+aiosqlite"
POSTGRES_DRIVER = "postgresql+psycopg"
BUSY_TIMEOUT_MS = 5000

_BEGIN_OPTION = "authgate_sqlite_begin"
_BEGIN_MODES = frozenset({"DEFERRED", "IMMEDIATE", "NONE"})
_SQLITE_SCHEMES = frozenset({"sqlite", SQLITE_DRIVER})
_POSTGRES_SCHEMES = frozenset({"postgresql", "postgres", POSTGRES_DRIVER})
_MEMORY = frozenset({"", ":memory:"})


def async_url(url: str, *, base_dir: Path) -> URL:
    """The SQLAlchemy URL with its async driver; ConfigError for an unsupported scheme."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError([Problem("records", "is not a database URL")]) from None
    scheme = parsed.drivername
    if scheme in _SQLITE_SCHEMES:
        database = parsed.database or ""
        if database not in _MEMORY:
            path = Path(database).expanduser()
            if not path.is_absolute():
                path = base_dir / path
            database = str(path.resolve())
        return parsed.set(drivername=SQLITE_DRIVER, database=database)
    if scheme in _POSTGRES_SCHEMES:
        return parsed.set(drivername=POSTGRES_DRIVER)
    raise ConfigError(
        [
            Problem(
                "records",
                f"unsupported database scheme {scheme!r} (use sqlite:///PATH or postgresql://...)",
            )
        ]
    )


async def open_engine(url: str, *, base_dir: Path) -> AsyncEngine:
    """An engine for `url` with every table created (existing ones are left alone)."""
    target = async_url(url, base_dir=base_dir)
    if target.drivername == SQLITE_DRIVER:
        engine = _sqlite_engine(target)
    else:
        engine = create_async_engine(target, pool_pre_ping=True)
    try:
        async with writer(engine).begin() as conn:
            await conn.run_sync(metadata.create_all)
    except BaseException:
        await engine.dispose()
        raise
    return engine


def writer(engine: AsyncEngine) -> AsyncEngine:
    """The same engine (same pool), marked so SQLite write transactions begin IMMEDIATE."""
    return engine.execution_options(**{_BEGIN_OPTION: "IMMEDIATE"})


def single_reads(engine: AsyncEngine) -> AsyncEngine:
    """The same engine, marked for connections that run exactly one read statement."""
    return engine.execution_options(**{_BEGIN_OPTION: "NONE"})


def _sqlite_engine(url: URL) -> AsyncEngine:
    database = url.database or ""
    in_file = database not in _MEMORY
    if in_file:
        Path(database).parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    engine = create_async_engine(url)

    @event.listens_for(engine.sync_engine, "connect")
    def _connected(dbapi_connection: Any, _record: Any) -> None:
        # Let BEGIN come from the "begin" hook below instead of the driver's implicit one.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            if in_file:
                cursor.execute("PRAGMA journal_mode=WAL")
        finally:
            cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(conn: Any) -> None:
        mode = conn.get_execution_options().get(_BEGIN_OPTION, "DEFERRED")
        if mode not in _BEGIN_MODES:
            raise ValueError(f"unknown SQLite transaction mode {mode!r}")
        if mode != "NONE":
            conn.exec_driver_sql(f"BEGIN {mode}")

    return engine


class SqlStore:
    """What every SQL store shares: its engine, a reader for single-statement reads, a writer,
    and the two read helpers."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._reader = single_reads(engine)
        self._writer = writer(engine)

    async def _rows(self, query: Select[Any]) -> Sequence[Row[Any]]:
        async with self._reader.connect() as conn:
            rows: Sequence[Row[Any]] = (await conn.execute(query)).all()
        return rows

    async def _row(self, query: Select[Any]) -> Row[Any] | None:
        async with self._reader.connect() as conn:
            row: Row[Any] | None = (await conn.execute(query)).first()
        return row
