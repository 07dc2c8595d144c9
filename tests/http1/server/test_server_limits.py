"""Limits and timeouts: what a slow or greedy client gets, and that handlers never see it."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator

import pytest

from authgate.http1.message import BodyTimeout, Request, Response
from authgate.http1.server import Limits
from tests.http1.server.conftest import Connect, Serve
from tests.http1.server.raw import get


class Recorder:
    """A handler that counts its calls and reads the whole body."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    async def __call__(self, request: Request) -> Response:
        self.calls.append(request.path)
        body = await request.body.read()
        return Response(200, body=b"ok %d" % len(body))


async def test_oversized_head_gets_431_and_close(serve: Serve, connect: Connect) -> None:
    handler = Recorder()
    _, address = await serve(handler, Limits(max_head_bytes=1024))
    client = await connect(address)
    reply = await client.request(get("/", f"X-Big: {'a' * 1100}"))
    assert reply.status == 431
    assert reply.header("connection") == "close"
    assert await client.closed()
    assert handler.calls == []


async def test_many_small_headers_add_up(serve: Serve, connect: Connect) -> None:
    handler = Recorder()
    _, address = await serve(handler, Limits(max_head_bytes=1024))
    client = await connect(address)
    reply = await client.request(get("/", *(f"X-{n}: {'v' * 20}" for n in range(60))))
    assert reply.status == 431
    assert handler.calls == []


async def test_head_just_under_the_limit_is_fine(serve: Serve, connect: Connect) -> None:
    handler = Recorder()
    _, address = await serve(handler, Limits(max_head_bytes=1024))
    client = await connect(address)
    reply = await client.request(get("/", f"X-Big: {'a' * 900}"))
    assert reply.status == 200


async def test_header_trickled_in_small_pieces_is_cut_off(serve: Serve, connect: Connect) -> None:
    """One endless header value: httptools buffers it whole, so raw bytes are counted too."""
    handler = Recorder()
    _, address = await serve(handler, Limits(max_head_bytes=2048))
    client = await connect(address)
    await client.send(b"GET / HTTP/1.1\r\nHost: t\r\nX-Endless: ")
    status = None
    for _ in range(200):
        try:
            await client.send(b"a" * 512)
        except ConnectionError:
            break
        try:
            reply = await client.head(within=0.01)
        except TimeoutError:
            continue
        status = reply.status
        break
    if status is None:
        status = (await client.head()).status
    assert status == 431
    assert handler.calls == []


async def test_long_target_gets_414(serve: Serve, connect: Connect) -> None:
    handler = Recorder()
    _, address = await serve(handler, Limits(max_head_bytes=1024))
    client = await connect(address)
    reply = await client.request(get("/" + "p" * 2000))
    assert reply.status == 414
    assert await client.closed()
    assert handler.calls == []


async def test_declared_body_over_the_limit_is_refused_unread(
    serve: Serve, connect: Connect
) -> None:
    handler = Recorder()
    _, address = await serve(handler, Limits(max_body_bytes=100))
    client = await connect(address)
    await client.send(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 101\r\n\r\n" + b"x" * 50)
    reply = await client.reply()
    assert reply.status == 413
    assert reply.body == b"HTTP content length exceeded 100 bytes."
    assert reply.header("connection") == "close"
    assert await client.closed()
    assert handler.calls == []


async def test_chunked_body_over_the_limit_in_one_go_is_refused_unread(
    serve: Serve, connect: Connect
) -> None:
    """When the oversized body arrives with its head, the handler is never started."""
    handler = Recorder()
    _, address = await serve(handler, Limits(max_body_bytes=100))
    client = await connect(address)
    chunk = b"40\r\n" + b"x" * 64 + b"\r\n"
    reply = await client.request(
        b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk * 2
    )
    assert reply.status == 413
    assert await client.closed()
    assert handler.calls == []


async def test_body_at_the_limit_is_accepted(serve: Serve, connect: Connect) -> None:
    handler = Recorder()
    _, address = await serve(handler, Limits(max_body_bytes=100))
    client = await connect(address)
    reply = await client.request(
        b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"64\r\n" + b"x" * 100 + b"\r\n0\r\n\r\n"
    )
    assert reply.body == b"ok 100"


async def test_slow_head_gets_408(serve: Serve, connect: Connect) -> None:
    handler = Recorder()
    _, address = await serve(handler, Limits(head_timeout=0.2))
    client = await connect(address)
    started = time.monotonic()
    await client.send(b"GET / HTTP/1.1\r\nHost: t\r\n")
    for _ in range(3):  # a slowloris: a byte now and then, never the end of the head
        await asyncio.sleep(0.05)
        await client.send(b"X: y\r\n")
    reply = await client.reply()
    assert reply.status == 408
    assert 0.18 <= time.monotonic() - started < 2
    assert await client.closed()
    assert handler.calls == []


async def test_silent_new_connection_is_closed_quietly(serve: Serve, connect: Connect) -> None:
    _, address = await serve(Recorder(), Limits(head_timeout=0.2))
    client = await connect(address)
    started = time.monotonic()
    assert await client.closed()  # EOF, and no 408 was written
    assert 0.18 <= time.monotonic() - started < 2


async def test_idle_keep_alive_connection_is_closed(serve: Serve, connect: Connect) -> None:
    _, address = await serve(Recorder(), Limits(keepalive_timeout=0.3))
    client = await connect(address)
    assert (await client.request(get())).status == 200
    await asyncio.sleep(0.1)
    assert (await client.request(get())).status == 200  # still open before the timeout
    answered = time.monotonic()
    assert await client.closed()
    assert 0.28 <= time.monotonic() - answered < 2


async def test_keep_alive_timeout_does_not_cut_a_slow_handler(
    serve: Serve, connect: Connect
) -> None:
    async def slow(request: Request) -> Response:
        await asyncio.sleep(0.4)
        return Response(200, body=b"late")

    _, address = await serve(slow, Limits(keepalive_timeout=0.1, head_timeout=0.1))
    client = await connect(address)
    assert (await client.request(get())).body == b"late"


async def test_stalled_body_times_out(serve: Serve, connect: Connect) -> None:
    loop = asyncio.get_running_loop()
    seen: asyncio.Future[BaseException] = loop.create_future()

    async def handler(request: Request) -> Response:
        try:
            await request.body.read()
        except Exception as exc:
            seen.set_result(exc)
            raise
        return Response(200)

    _, address = await serve(handler, Limits(body_timeout=0.2))
    client = await connect(address)
    await client.send(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc")
    started = time.monotonic()
    assert isinstance(await asyncio.wait_for(seen, 5), BodyTimeout)
    assert 0.18 <= time.monotonic() - started < 2
    assert await client.closed()


async def test_a_slowly_flowing_body_does_not_time_out(serve: Serve, connect: Connect) -> None:
    _, address = await serve(Recorder(), Limits(body_timeout=0.5))
    client = await connect(address)
    await client.send(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 6\r\n\r\n")
    for _ in range(6):  # 0.6 s in all, longer than the timeout, but never a 0.5 s gap
        await asyncio.sleep(0.1)
        await client.send(b"x")
    assert (await client.reply()).body == b"ok 6"


async def test_a_client_that_stops_reading_is_dropped(serve: Serve) -> None:
    """A streamed response to a client that reads nothing stalls; the stall is bounded."""
    loop = asyncio.get_running_loop()
    finished: asyncio.Future[None] = loop.create_future()

    async def endless() -> AsyncIterator[bytes]:
        try:
            while True:
                yield b"z" * 65536
        finally:
            finished.set_result(None)

    async def handler(request: Request) -> Response:
        return Response(200, body=endless())

    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 64 * 1024)
    listener.bind(("127.0.0.1", 0))
    _, address = await serve(handler, Limits(body_timeout=0.3), sock=listener)
    with socket.create_connection(address, timeout=5) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
        sock.sendall(get())
        await asyncio.wait_for(finished, 5)  # the generator was closed: the server gave up


async def test_pipelined_request_after_a_bad_one_is_never_handled(
    serve: Serve, connect: Connect
) -> None:
    handler = Recorder()
    _, address = await serve(handler, Limits(max_head_bytes=1024))
    client = await connect(address)
    await client.send(get("/first") + get("/", f"X-Big: {'a' * 2000}") + get("/third"))
    assert (await client.reply()).body == b"ok 0"
    assert (await client.reply()).status == 431
    assert await client.closed()
    assert handler.calls == ["/first"]


@pytest.mark.parametrize("value", ["gzip", "100-continue, foo"])
async def test_unknown_expectation_gets_417(serve: Serve, connect: Connect, value: str) -> None:
    handler = Recorder()
    _, address = await serve(handler)
    client = await connect(address)
    reply = await client.request(get("/", f"Expect: {value}", "Content-Length: 0"))
    assert reply.status == 417
    assert handler.calls == []
