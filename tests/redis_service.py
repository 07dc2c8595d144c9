"""A private redis-server for tests: loopback only, no persistence, stopped by its PID."""

from __future__ import annotations

import shutil
import socket
import subprocess
from pathlib import Path

from tests.private_servers import die_with_parent, stop, wait_until_ready
from tests.support import free_port


def _answers_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as conn:
            conn.sendall(b"PING\r\n")
            answer = conn.recv(64)  # a server with a password answers NOAUTH: it is up too
            return answer.startswith((b"+PONG", b"-NOAUTH"))
    except OSError:
        return False


class RedisServer:
    """One redis-server process in `directory`; `start()` again reuses its port."""

    def __init__(self, directory: Path, port: int | None = None, *options: str) -> None:
        self.directory = directory
        self.port = port or free_port()
        self.options = options
        """Further redis-server arguments (`--requirepass`, ...)."""
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @staticmethod
    def installed() -> bool:
        return shutil.which("redis-server") is not None

    def start(self) -> None:
        executable = shutil.which("redis-server")
        assert executable is not None, "redis-server is not installed"
        self.directory.mkdir(parents=True, exist_ok=True)
        log = self.directory / "redis.log"
        self.process = subprocess.Popen(
            [
                executable,
                "--port", str(self.port),
                "--bind", "127.0.0.1",
                "--save", "",
                "--appendonly", "no",
                "--dir", str(self.directory),
                "--logfile", str(log),
                *self.options,
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=die_with_parent,
        )  # fmt: skip
        if wait_until_ready(self.process, lambda: _answers_ping(self.port)):
            return
        self.stop()
        tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
        raise RuntimeError(f"redis-server did not answer PING on port {self.port}:\n{tail}")

    def stop(self) -> None:
        process, self.process = self.process, None
        stop(process)
