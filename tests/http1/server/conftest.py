"""Servers under test: every test here runs on uvloop and on the default asyncio loop."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

import pytest
import uvloop

from authgate.http1.message import Handler
from authgate.http1.server import HttpServer, Limits
from tests.http1.server.raw import Raw


def pytest_asyncio_loop_factories(
    config: pytest.Config, item: pytest.Item
) -> Mapping[str, Callable[[], asyncio.AbstractEventLoop]]:
    return {"uvloop": uvloop.new_event_loop, "asyncio": asyncio.new_event_loop}


Serve = Callable[..., Awaitable[tuple[HttpServer, tuple[str, int]]]]


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    """Start an HttpServer on 127.0.0.1:0; every one is shut down after the test."""
    servers: list[HttpServer] = []

    async def start(
        handler: Handler, limits: Limits | None = None, **options: Any
    ) -> tuple[HttpServer, tuple[str, int]]:
        sock = options.pop("sock", None)
        server = HttpServer(handler, limits or Limits(), **options)
        address = await server.start("127.0.0.1", 0, sock=sock)
        servers.append(server)
        return server, address

    yield start
    for server in servers:
        await server.shutdown(1.0)


Connect = Callable[[tuple[str, int]], Awaitable[Raw]]


@pytest.fixture
async def connect() -> AsyncIterator[Connect]:
    """Open raw client connections; all are closed after the test."""
    clients: list[Raw] = []

    async def open_one(address: tuple[str, int]) -> Raw:
        client = await Raw.open(address)
        clients.append(client)
        return client

    yield open_one
    for client in clients:
        await client.aclose()
