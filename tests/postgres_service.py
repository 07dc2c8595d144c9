"""A private PostgreSQL cluster for tests: initdb into a temporary directory (in memory where
/dev/shm allows), one postgres listening on 127.0.0.1 (and on a unix socket inside that
directory), fsync off, stopped by its PID and removed afterwards. Each test then takes a
scratch database of its own.

initdb and postgres refuse to run as root, so under root the cluster belongs to the `postgres`
system user that Debian's package creates, and both programs run as that user.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.private_servers import die_with_parent, stop, wait_until_ready
from tests.support import free_port

SUPERUSER = "authgate"
DEBIAN_VERSIONS = Path("/usr/lib/postgresql")
SERVER_ACCOUNT = "postgres"
PREFIX = "authgate-pg-"
OWNER = "owner.pid"
"""Holds the PID of the test process that made the cluster, so another run can tell when the
cluster was abandoned (its process killed before it could remove the directory)."""


def find_bindir() -> Path | None:
    """Where initdb and postgres are: `pg_config --bindir`, else Debian's newest version."""
    candidates: list[Path] = []
    pg_config = shutil.which("pg_config")
    if pg_config is not None:
        try:
            found = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, check=True, timeout=10
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            found = ""
        if found:
            candidates.append(Path(found))
    versions = [path for path in DEBIAN_VERSIONS.glob("*/bin") if path.parent.name.isdigit()]
    candidates += sorted(versions, key=lambda path: int(path.parent.name), reverse=True)
    for bindir in candidates:
        if all(os.access(bindir / program, os.X_OK) for program in ("initdb", "postgres")):
            return bindir
    return None


def _server_account() -> tuple[int, int] | None:
    """(uid, gid) to run the server as: the `postgres` user when we are root, else ourselves."""
    if os.geteuid() != 0:
        return None
    try:
        entry = pwd.getpwnam(SERVER_ACCOUNT)
    except KeyError:
        raise RuntimeError(
            f"running as root and there is no {SERVER_ACCOUNT!r} user to run PostgreSQL as "
            "(Debian's postgresql package creates it: run `bash scripts/services.sh`)"
        ) from None
    return entry.pw_uid, entry.pw_gid


class PostgresServer:
    """One throwaway cluster: `start()` runs initdb and postgres, `stop()` ends it by its PID
    and removes its directory."""

    def __init__(self) -> None:
        self.port = free_port()
        self.directory: Path | None = None
        self.process: subprocess.Popen[bytes] | None = None

    @staticmethod
    def installed() -> bool:
        return find_bindir() is not None

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        bindir = find_bindir()
        assert bindir is not None, "PostgreSQL's server programs are not installed"
        account = _server_account()
        parent = _in_memory()
        _remove_abandoned(Path(parent or tempfile.gettempdir()))
        directory = self.directory = Path(tempfile.mkdtemp(prefix=PREFIX, dir=parent))
        (directory / OWNER).write_text(str(os.getpid()))
        data, sockets, log = directory / "data", directory / "sockets", directory / "server.log"
        sockets.mkdir()
        if account is not None:
            for path in (directory, sockets):
                os.chown(path, *account)
        as_owner = _as(account)
        initdb = subprocess.run(
            [
                str(bindir / "initdb"),
                "--pgdata", str(data),
                "--username", SUPERUSER,
                "--auth", "trust",
                "--encoding", "UTF8",
                "--locale", "C",
                "--no-sync",
            ],
            cwd=directory,
            capture_output=True,
            check=False,
            timeout=120,
            **as_owner,
        )  # fmt: skip
        if initdb.returncode != 0:
            self.stop()
            output = (initdb.stdout + initdb.stderr).decode(errors="replace")[-2000:]
            raise RuntimeError(f"initdb failed:\n{output}")
        with log.open("wb") as log_file:
            self.process = subprocess.Popen(
                [
                    str(bindir / "postgres"),
                    "-D", str(data),
                    "-h", "127.0.0.1",
                    "-p", str(self.port),
                    "-k", str(sockets),
                    "-c", "fsync=off",
                    "-c", "synchronous_commit=off",
                    "-c", "full_page_writes=off",
                    "-c", "max_connections=200",
                ],
                cwd=directory,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                preexec_fn=die_with_parent,
                **as_owner,
            )  # fmt: skip
        isready = [str(bindir / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(self.port)]
        if wait_until_ready(self.process, lambda: _answers(isready), timeout=30):
            return
        tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
        self.stop()
        raise RuntimeError(f"PostgreSQL did not accept connections on port {self.port}:\n{tail}")

    def stop(self) -> None:
        """Fast shutdown (SIGINT: clients are disconnected), then the cluster is deleted."""
        process, self.process = self.process, None
        stop(process, signal.SIGINT)
        directory, self.directory = self.directory, None
        if directory is not None:
            shutil.rmtree(directory, ignore_errors=True)


def _in_memory() -> str | None:
    """A memory-backed directory for the cluster where there is one: with fsync off, disk
    writes still cost most of a CREATE DATABASE on a busy disk (about 300 ms, against 20)."""
    shm = Path("/dev/shm")
    return str(shm) if shm.is_dir() and os.access(shm, os.W_OK | os.X_OK) else None


def _remove_abandoned(parent: Path) -> None:
    """Remove clusters whose test process is gone: in memory, they would hold on to RAM."""
    for directory in parent.glob(PREFIX + "*"):
        try:
            owner = int((directory / OWNER).read_text())
        except (OSError, ValueError):
            continue  # being made right now, or not ours
        if owner != os.getpid() and not _alive(owner):
            shutil.rmtree(directory, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # no signal sent: only whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it exists, as another user
    return True


def _as(account: tuple[int, int] | None) -> dict[str, object]:
    """subprocess arguments that run a child as `account` (no supplementary groups)."""
    if account is None:
        return {}
    uid, gid = account
    return {"user": uid, "group": gid, "extra_groups": []}


def _answers(isready: list[str]) -> bool:
    return subprocess.run(isready, check=False, timeout=10).returncode == 0


@contextmanager
def scratch_database(server_url: str, template: str = "template0") -> Iterator[str]:
    """A new database copied from `template` on the server of `server_url` (its maintenance
    database), for one test: dropped afterwards, connections and all."""
    import psycopg
    from psycopg import sql

    name = f"scratch_{uuid.uuid4().hex}"
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(name), sql.Identifier(template)
            )
        )
    try:
        yield database_url(server_url, name)
    finally:
        with psycopg.connect(server_url, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def database_url(server_url: str, name: str) -> str:
    """The URL of database `name` on the same server as `server_url`."""
    return server_url.rsplit("/", 1)[0] + "/" + name
