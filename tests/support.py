"""Test support: real gateways and backends on 127.0.0.1, each on its own event loop in a thread."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import uvloop

from authgate.app import Application

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


class LoopThread:
    """An event loop running in a daemon thread; coroutines are submitted to it."""

    def __init__(self) -> None:
        self.loop = uvloop.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()

    def run(self, coro: Awaitable[Any], timeout: float = 30.0) -> Any:
        async def wrapped() -> Any:
            return await coro

        return asyncio.run_coroutine_threadsafe(wrapped(), self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)


class RunningGateway:
    def __init__(self, application: Application, loop: LoopThread, port: int = 0) -> None:
        self.app = application
        self._loop = loop
        host, port = loop.run(application.start("127.0.0.1", port))
        self.host, self.port = host, port
        self.url = f"http://{host}:{port}"

    def stop(self) -> None:
        self._loop.run(self.app.stop(grace=5.0))


GatewayFactory = Callable[..., RunningGateway]


def lambda_uri(name: str) -> str:
    return (
        "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
        f"arn:aws:lambda:us-east-1:123456789012:function:{name}/invocations"
    )


def proxy_to(name: str, **extra: Any) -> dict[str, Any]:
    return {
        "x-amazon-apigateway-integration": {
            "type": "aws_proxy",
            "httpMethod": "POST",
            "uri": lambda_uri(name),
            **extra,
        }
    }


def http_proxy(uri: str, **extra: Any) -> dict[str, Any]:
    return {"x-amazon-apigateway-integration": {"type": "http_proxy", "uri": uri, **extra}}


def openapi(paths: dict[str, Any], **top: Any) -> dict[str, Any]:
    return {"openapi": "3.0.1", "info": {"title": "test", "version": "1"}, "paths": paths, **top}


def wait_for(predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
    """Poll until true or the time is up; bounded, never hangs."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def free_port() -> int:
    """A port nothing listens on right now (for backends that must be down)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve_gateway(config: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    """`authgate serve` as a separate process, as a fleet member runs; its output goes to `log`."""
    with log.open("ab") as output:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "authgate",
                "serve",
                "--config",
                str(config),
                "--port",
                str(port),
            ],
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
