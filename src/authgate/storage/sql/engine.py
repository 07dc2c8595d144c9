"""Open the records database: URL scheme → async driver, tables created on first open.

`sqlite:///path` (relative paths resolve against the caller's base directory) runs on aiosqlite
in WAL mode with foreign keys enforced; `postgresql://…` runs on psycopg 3. SQLAlchemy imports
a driver only when an engine for it is created, so neither is loaded unless chosen.

Stores check rules inside their write transactions (limits, expected versions, one plan per
API stage), so write transactions of one store must not interleave, on one host or across a
fleet. Each backend gets that its own way, through `writer(engine, lock)`:
- SQLite begins them IMMEDIATE: the database's one write lock is taken up front, and a writer
  waits for it (`busy_timeout`) instead of failing with SQLITE_BUSY halfway through.
- PostgreSQL takes the transaction-scoped advisory lock named `lock` as its first statement,
  so the writers holding one name queue across every process, while other stores' writers and
  all readers go on. Statements after it run under READ COMMITTED, so they see every write
  committed before the lock was granted.
Single-statement reads (through `single_reads(engine)`) send no BEGIN at all (SQLite) or run
in autocommit (PostgreSQL): one statement is atomic on its own, and every round trip saved
counts. Reads of several statements (through `snapshot_reads(engine)`) see one snapshot:
SQLite's deferred transaction gives that, PostgreSQL needs REPEATABLE READ for it.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

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
_LOCK_OPTION = "authgate_write_lock"
_LOCK_NAMESPACE = b"authgate.records:"
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
        engine = _postgres_engine(target)
    try:
        async with writer(engine).begin() as conn:
            await conn.run_sync(metadata.create_all)
    except BaseException:
        await engine.dispose()
        raise
    return engine


def writer(engine: AsyncEngine, lock: str = "records") -> AsyncEngine:
    """The same engine (same pool), for write transactions: serialized with every other one
    under the same `lock` name (see the module docstring)."""
    return engine.execution_options(**{_BEGIN_OPTION: "IMMEDIATE", _LOCK_OPTION: lock})


def single_reads(engine: AsyncEngine) -> AsyncEngine:
    """The same engine, for connections that run exactly one read statement."""
    if _is_postgres(engine):
        return engine.execution_options(isolation_level="AUTOCOMMIT")
    return engine.execution_options(**{_BEGIN_OPTION: "NONE"})


def snapshot_reads(engine: AsyncEngine) -> AsyncEngine:
    """The same engine, for reads of several statements that must agree with each other."""
    if _is_postgres(engine):
        return engine.execution_options(isolation_level="REPEATABLE READ")
    return engine


def _is_postgres(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "postgresql"


def advisory_key(lock: str) -> int:
    """The 64-bit key of PostgreSQL's advisory lock for `lock`: the same in every process."""
    digest = hashlib.sha256(_LOCK_NAMESPACE + lock.encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _postgres_engine(url: URL) -> AsyncEngine:
    engine = create_async_engine(url, pool_pre_ping=True)

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(conn: Any) -> None:
        lock = conn.get_execution_options().get(_LOCK_OPTION)
        if lock is not None:
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({advisory_key(lock)})")

    return engine


def _use_wal(cursor: Any) -> None:
    """WAL belongs to the database file and is set by whichever process gets there first.
    Switching to it needs the file to itself, and SQLite does not wait for that (busy_timeout
    does not apply): processes opening a new database together retry for as long as the busy
    timeout instead of failing with "database is locked". Runs on the driver's thread."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except Exception as exc:  # the driver's OperationalError, however it is wrapped
            if "database is locked" not in str(exc) or time.monotonic() >= deadline:
                raise
        time.sleep(0.01)


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
                _use_wal(cursor)
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
    """What every SQL store shares: its engine, a reader for single-statement reads, one for
    reads of several statements, a writer, and the two read helpers.

    WRITE_LOCK names what this store's write transactions are serialized by on PostgreSQL."""

    WRITE_LOCK: ClassVar[str] = "records"

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._reader = single_reads(engine)
        self._snapshots = snapshot_reads(engine)
        self._writer = writer(engine, self.WRITE_LOCK)

    async def _rows(self, query: Select[Any]) -> Sequence[Row[Any]]:
        async with self._reader.connect() as conn:
            rows: Sequence[Row[Any]] = (await conn.execute(query)).all()
        return rows

    async def _row(self, query: Select[Any]) -> Row[Any] | None:
        async with self._reader.connect() as conn:
            row: Row[Any] | None = (await conn.execute(query)).first()
        return row
