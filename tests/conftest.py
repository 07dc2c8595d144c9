"""Shared fixtures: real gateways and backends on 127.0.0.1."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import create_engine, make_url

from authgate.app import Application
from authgate.http1.message import Handler
from authgate.http1.server import HttpServer
from authgate.settings import load_settings
from authgate.storage.sql.engine import POSTGRES_DRIVER
from authgate.storage.sql.schema import metadata
from tests.postgres_service import PostgresServer, scratch_database
from tests.private_servers import require
from tests.redis_service import RedisServer
from tests.support import GatewayFactory, LoopThread, RunningGateway


@pytest.fixture
def loop_thread() -> Iterator[LoopThread]:
    thread = LoopThread()
    yield thread
    thread.close()


@pytest.fixture
def gateway(tmp_path: Path, loop_thread: LoopThread) -> Iterator[GatewayFactory]:
    """Start a gateway from a settings dict and files written beside it."""
    started: list[RunningGateway] = []

    def start(settings: dict[str, Any], files: dict[str, Any] | None = None) -> RunningGateway:
        for name, content in (files or {}).items():
            path = tmp_path / name
            path.parent.mkdir(parents=True, exist_ok=True)
            text = content if isinstance(content, str) else yaml.safe_dump(content)
            path.write_text(text, encoding="utf-8")
        settings = {"data_dir": "data", "access_log": "access.log", **settings}
        config = tmp_path / "authgate.yaml"
        config.write_text(yaml.safe_dump(settings), encoding="utf-8")
        running = RunningGateway(Application(load_settings(config)), loop_thread)
        started.append(running)
        return running

    yield start
    for running in started:
        running.stop()


@pytest.fixture
def backend(loop_thread: LoopThread) -> Iterator[Callable[[Handler], str]]:
    """Serve a handler of our HTTP layer as a backend; returns its base URL."""
    servers: list[HttpServer] = []

    def start(handler: Handler) -> str:
        server = HttpServer(handler)
        host, port = loop_thread.run(server.start("127.0.0.1", 0))
        servers.append(server)
        return f"http://{host}:{port}"

    yield start
    for server in servers:
        loop_thread.run(server.shutdown(1.0))


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A private redis-server on a free loopback port for the whole session (tests namespace
    their keys). Skipped where redis-server is not installed, except under CI."""
    require("redis-server", RedisServer.installed(), "run `bash scripts/services.sh`")
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server.url
    server.stop()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A private PostgreSQL cluster on a free loopback port for the whole session: the URL of its
    maintenance database. Skipped where PostgreSQL or its driver is missing, except under CI."""
    require("PostgreSQL", PostgresServer.installed(), "run `bash scripts/services.sh`")
    require(
        "the psycopg driver",
        importlib.util.find_spec("psycopg") is not None,
        "pip install -e '.[test]'",
    )
    server = PostgresServer()
    server.start()
    yield server.url()
    server.stop()


@pytest.fixture
def postgres_database(postgres_url: str) -> Iterator[str]:
    """A new, empty database in the session's cluster, for one test only."""
    with scratch_database(postgres_url) as url:
        yield url


@pytest.fixture(scope="session")
def postgres_records_template(postgres_url: str) -> Iterator[str]:
    """The name of a database holding the records tables, made once per session: copying it
    is several times faster than creating every table again for each test."""
    with scratch_database(postgres_url) as url:
        engine = create_engine(make_url(url).set(drivername=POSTGRES_DRIVER))
        try:
            metadata.create_all(engine)
        finally:
            engine.dispose()
        yield url.rsplit("/", 1)[1]


@pytest.fixture
def postgres_records(postgres_url: str, postgres_records_template: str) -> Iterator[str]:
    """A new database with the records tables and no rows, for one test only."""
    with scratch_database(postgres_url, template=postgres_records_template) as url:
        yield url
