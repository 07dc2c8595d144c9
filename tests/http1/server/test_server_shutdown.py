"""Graceful shutdown: requests in flight finish, idle connections go at once, nothing new
is accepted, and a request that outlives the grace period is cancelled."""

from __future__ import annotations

import asyncio
import time

from authgate.http1.message import Request, Response
from tests.http1.server.conftest import Connect, Serve
from tests.http1.server.raw import Raw, get


async def test_shutdown_finishes_in_flight_requests_and_refuses_new_ones(
    serve: Serve, connect: Connect
) -> None:
    loop = asyncio.get_running_loop()
    entered: asyncio.Future[None] = loop.create_future()

    async def handler(request: Request) -> Response:
        if request.path == "/slow":
            entered.set_result(None)
            await asyncio.sleep(0.3)
        return Response(200, body=request.path.encode())

    server, address = await serve(handler)
    idle = await connect(address)
    assert (await idle.request(get("/fast"))).status == 200
    busy = await connect(address)
    await busy.send(get("/slow"))
    await asyncio.wait_for(entered, 5)
    assert server.active_requests == 1

    stopping = asyncio.create_task(server.shutdown(grace=5.0))
    assert await idle.closed(within=1.0)  # idle keep-alive connections close at once
    try:
        late = await Raw.open(address)
    except ConnectionRefusedError:
        pass
    else:
        await late.aclose()
        raise AssertionError("a new connection was accepted during shutdown")
    reply = await busy.reply()
    assert reply.body == b"/slow"
    assert reply.header("connection") == "close"
    assert await busy.closed()
    await asyncio.wait_for(stopping, 5)
    assert server.active_requests == 0


async def test_shutdown_cancels_what_outlives_the_grace_period(
    serve: Serve, connect: Connect
) -> None:
    loop = asyncio.get_running_loop()
    entered: asyncio.Future[None] = loop.create_future()
    cancelled: asyncio.Future[None] = loop.create_future()

    async def handler(request: Request) -> Response:
        entered.set_result(None)
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.set_result(None)
            raise
        return Response(200)

    server, address = await serve(handler)
    client = await connect(address)
    await client.send(get())
    await asyncio.wait_for(entered, 5)
    started = time.monotonic()
    await asyncio.wait_for(server.shutdown(grace=0.2), 5)
    assert 0.18 <= time.monotonic() - started < 2
    assert cancelled.done()
    assert await client.closed()
    assert server.active_requests == 0
