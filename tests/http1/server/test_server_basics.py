"""The HTTP/1.1 server against a raw client: framing, keep-alive, pipelining, streaming."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import socket
from collections.abc import AsyncIterator

import pytest

from authgate.http1.message import (
    BodyTooLarge,
    ClientDisconnected,
    EmptyBody,
    Request,
    Response,
)
from authgate.http1.server import Limits
from tests.http1.server.conftest import Connect, Serve
from tests.http1.server.raw import Raw, get

MB = 1024 * 1024
DATE = re.compile(r"^[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT$")


async def echo(request: Request) -> Response:
    """Answers with what it saw, so tests can check the Request it was given."""
    body = await request.body.read()
    lines = [
        f"{request.method} {request.path} ?{request.query} HTTP/{request.http_version}",
        *(f"{k}={v}" for k, v in request.headers),
        f"length={request.body.content_length}",
        f"client={request.client[0]} server={request.server[0]}:{request.server[1]}",
    ]
    return Response(200, [("content-type", "text/plain")], "\n".join(lines).encode() + b"\n" + body)


async def test_simple_get(serve: Serve, connect: Connect) -> None:
    _, address = await serve(echo)
    client = await connect(address)
    reply = await client.request(get("/a/b%20c?x=1&y=?z", "X-Thing: Some Value"))
    assert reply.status == 200
    lines = reply.body.decode().splitlines()
    assert lines[0] == "GET /a/b%20c ?x=1&y=?z HTTP/1.1"
    assert "Host=test" in lines
    assert "X-Thing=Some Value" in lines
    assert "length=0" in lines
    assert f"client=127.0.0.1 server=127.0.0.1:{address[1]}" in lines
    assert reply.header("content-length") == str(len(reply.body))
    assert reply.header("content-type") == "text/plain"
    assert DATE.match(reply.header("date") or "")
    assert reply.header("connection") is None  # keep-alive is the HTTP/1.1 default
    assert await client.still_open()
    client.close()


async def test_absolute_form_target_routes_by_path(serve: Serve, connect: Connect) -> None:
    _, address = await serve(echo)
    client = await connect(address)
    reply = await client.request(
        b"GET http://Example.com:8080/p/q?r=1 HTTP/1.1\r\nHost: example.com:8080\r\n\r\n"
    )
    assert reply.body.decode().splitlines()[0] == "GET /p/q ?r=1 HTTP/1.1"
    client.close()


@pytest.mark.parametrize(
    "data",
    [
        b"GET http://other.example/p HTTP/1.1\r\nHost: example.com\r\n\r\n",
        b"GET / HTTP/1.1\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\n\r\n",
        b"GET / HTTP/1.0\r\nHost: a.example\r\nHost: a.example\r\n\r\n",
    ],
    ids=["target-names-another-host", "no-host", "two-hosts", "two-hosts-http10"],
)
async def test_ambiguous_host_is_refused(serve: Serve, connect: Connect, data: bytes) -> None:
    _, address = await serve(echo)
    client = await connect(address)
    reply = await client.request(data)
    assert reply.status == 400
    assert await client.closed()


async def test_http10_needs_no_host(serve: Serve, connect: Connect) -> None:
    _, address = await serve(echo)
    client = await connect(address)
    reply = await client.request(b"GET /old HTTP/1.0\r\n\r\n")
    assert reply.status == 200


async def test_keep_alive_reuses_the_connection(serve: Serve, connect: Connect) -> None:
    ports: list[int] = []

    async def handler(request: Request) -> Response:
        ports.append(request.client[1])
        return Response(200, body=str(len(ports)).encode())

    _, address = await serve(handler)
    client = await connect(address)
    for n in range(1, 4):
        reply = await client.request(get(f"/{n}"))
        assert reply.body == str(n).encode()
    assert len(set(ports)) == 1
    client.close()


async def test_pipelined_requests_are_answered_in_order_one_at_a_time(
    serve: Serve, connect: Connect
) -> None:
    running = 0
    overlap = False
    delays = {"/1": 0.15, "/2": 0.0, "/3": 0.05}

    async def handler(request: Request) -> Response:
        nonlocal running, overlap
        running += 1
        overlap = overlap or running > 1
        await asyncio.sleep(delays[request.path])
        running -= 1
        return Response(200, body=request.path.encode())

    _, address = await serve(handler)
    client = await connect(address)
    await client.send(get("/1") + get("/2") + get("/3"))
    bodies = [(await client.reply()).body for _ in range(3)]
    assert bodies == [b"/1", b"/2", b"/3"]
    assert not overlap
    client.close()


async def test_many_pipelined_requests_beyond_the_queue_limit(
    serve: Serve, connect: Connect
) -> None:
    async def handler(request: Request) -> Response:
        await asyncio.sleep(0)
        return Response(200, body=request.path.encode())

    _, address = await serve(handler, Limits(max_pipelined=2))
    client = await connect(address)
    await client.send(b"".join(get(f"/{n}") for n in range(200)))
    for n in range(200):
        assert (await client.reply()).body == f"/{n}".encode()
    assert await client.still_open()
    client.close()


async def test_chunked_request_body_is_decoded(serve: Serve, connect: Connect) -> None:
    _, address = await serve(echo)
    client = await connect(address)
    await client.send(
        b"POST /up HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5\r\nhello\r\n1;ext=1\r\n \r\n"
    )
    await asyncio.sleep(0.05)  # the rest arrives later, as a stream would
    await client.send(b"5\r\nworld\r\n0\r\nX-Trailer: dropped\r\n\r\n")
    reply = await client.reply()
    assert reply.status == 200
    assert reply.body.endswith(b"\nhello world")
    assert "length=None" in reply.body.decode()
    assert "X-Trailer" not in reply.body.decode()
    # The connection is still in step for the next request.
    assert (await client.request(get("/after"))).body.startswith(b"GET /after")
    client.close()


async def test_streamed_response_is_chunked_and_arrives_as_it_is_produced(
    serve: Serve, connect: Connect
) -> None:
    proceed = asyncio.Event()

    async def parts() -> AsyncIterator[bytes]:
        yield b"first"
        await asyncio.wait_for(proceed.wait(), 5)
        yield b""  # empty parts are skipped, never sent as a terminating chunk
        yield b"second"

    async def handler(request: Request) -> Response:
        return Response(200, [("Transfer-Encoding", "gzip"), ("Connection", "bogus")], parts())

    _, address = await serve(handler)
    client = await connect(address)
    await client.send(get())
    head = await client.head()
    assert head.header("transfer-encoding") == "chunked"  # ours, not the handler's
    assert "connection" not in head.names()
    first = await asyncio.wait_for(client.reader.readuntil(b"first\r\n"), 5)
    assert first == b"5\r\nfirst\r\n"
    proceed.set()
    rest = await asyncio.wait_for(client.reader.readuntil(b"0\r\n\r\n"), 5)
    assert rest == b"6\r\nsecond\r\n0\r\n\r\n"
    assert (await client.request(get())).status == 200
    client.close()


async def test_streamed_response_with_content_length_is_sent_raw(
    serve: Serve, connect: Connect
) -> None:
    async def parts() -> AsyncIterator[bytes]:
        yield b"abc"
        yield b"def"

    async def handler(request: Request) -> Response:
        return Response(200, [("Content-Length", "6")], parts())

    _, address = await serve(handler)
    client = await connect(address)
    reply = await client.request(get())
    assert reply.body == b"abcdef"
    assert reply.header("transfer-encoding") is None
    assert (await client.request(get())).body == b"abcdef"
    client.close()


@pytest.mark.parametrize("parts", [[b"abc"], [b"abc", b"defg"]], ids=["short", "long"])
async def test_streamed_body_not_matching_its_content_length_closes(
    serve: Serve, connect: Connect, parts: list[bytes], caplog: pytest.LogCaptureFixture
) -> None:
    async def body() -> AsyncIterator[bytes]:
        for part in parts:
            yield part

    async def handler(request: Request) -> Response:
        return Response(200, [("content-length", "6")], body())

    _, address = await serve(handler)
    client = await connect(address)
    await client.send(get())
    head = await client.head()
    assert head.header("content-length") == "6"
    received = await asyncio.wait_for(client.reader.read(), 5)  # up to EOF
    assert len(received) < 6
    assert "content-length" in caplog.text


async def test_large_body_streams_through(serve: Serve, connect: Connect) -> None:
    async def handler(request: Request) -> Response:
        digest = hashlib.sha256()
        pieces = 0
        async for piece in request.body.stream():
            digest.update(piece)
            pieces += 1
        return Response(200, body=f"{digest.hexdigest()} {pieces}".encode())

    _, address = await serve(handler)
    payload = bytes(range(256)) * (8 * MB // 256)
    client = await connect(address)
    await client.send(b"PUT /big HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n" % len(payload))
    client.writer.write(payload)
    reply = await client.reply()
    digest, pieces = reply.body.decode().split()
    assert digest == hashlib.sha256(payload).hexdigest()
    assert int(pieces) > 1  # streamed, not buffered whole
    client.close()


async def test_a_body_nobody_reads_stops_the_client_from_sending(
    serve: Serve, connect: Connect
) -> None:
    """Backpressure: the server buffers a bounded amount, then stops reading the socket."""
    gate = asyncio.Event()

    async def handler(request: Request) -> Response:
        await asyncio.wait_for(gate.wait(), 10)
        data = await request.body.read()
        return Response(200, body=hashlib.sha256(data).hexdigest().encode())

    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
    listener.bind(("127.0.0.1", 0))
    _, address = await serve(handler, sock=listener)
    sock = socket.create_connection(address, timeout=5)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 64 * 1024)
    sock.setblocking(False)
    reader, writer = await asyncio.open_connection(sock=sock)
    client = Raw(reader, writer)
    try:
        payload = b"x" * (8 * MB)
        head = b"PUT / HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n" % len(payload)
        await client.send(head)
        writer.write(payload)
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(asyncio.shield(writer.drain()), 0.5)
        assert writer.transport.get_write_buffer_size() > 4 * MB  # most of it is still ours
        gate.set()
        await asyncio.wait_for(writer.drain(), 5)
        reply = await client.reply()
        assert reply.body == hashlib.sha256(payload).hexdigest().encode()
    finally:
        await client.aclose()


async def test_expect_continue_is_sent_when_the_handler_reads(
    serve: Serve, connect: Connect
) -> None:
    _, address = await serve(echo)
    client = await connect(address)
    await client.send(
        b"POST / HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n"
    )
    interim = await client.head()
    assert interim.status == 100
    await client.send(b"hello")
    reply = await client.reply()
    assert reply.status == 200
    assert reply.body.endswith(b"\nhello")
    assert reply.header("connection") is None
    client.close()


async def test_expect_continue_is_never_sent_when_the_handler_does_not_read(
    serve: Serve, connect: Connect
) -> None:
    async def handler(request: Request) -> Response:
        return Response(401, body=b"no")

    _, address = await serve(handler)
    client = await connect(address)
    await client.send(
        b"POST / HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n"
    )
    reply = await client.reply()
    assert reply.status == 401
    assert reply.body == b"no"
    assert reply.header("connection") == "close"  # the unread body ends the connection
    assert await client.closed()


async def test_expect_continue_over_the_limit_is_refused_at_once(
    serve: Serve, connect: Connect
) -> None:
    called = []

    async def handler(request: Request) -> Response:
        called.append(request)
        return Response(200)

    _, address = await serve(handler, Limits(max_body_bytes=1000))
    client = await connect(address)
    reply = await client.request(
        b"POST / HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 1001\r\n\r\n"
    )
    assert reply.status == 413
    assert reply.body == b"HTTP content length exceeded 1000 bytes."
    assert await client.closed()
    assert not called


async def test_http10_closes_unless_asked_to_keep_alive(serve: Serve, connect: Connect) -> None:
    _, address = await serve(echo)
    client = await connect(address)
    reply = await client.request(get(version="1.0"))
    assert reply.body.startswith(b"GET / ? HTTP/1.0")
    assert reply.header("connection") == "close"
    assert await client.closed()

    client = await connect(address)
    for _ in range(2):
        reply = await client.request(get("/", "Connection: keep-alive", version="1.0"))
        assert reply.status == 200
        assert reply.header("connection") == "keep-alive"
    client.close()


async def test_http10_streamed_response_is_ended_by_closing(serve: Serve, connect: Connect) -> None:
    async def parts() -> AsyncIterator[bytes]:
        yield b"one "
        yield b"two"

    async def handler(request: Request) -> Response:
        return Response(200, body=parts())

    _, address = await serve(handler)
    client = await connect(address)
    reply = await client.request(get("/", "Connection: keep-alive", version="1.0"))
    assert reply.header("transfer-encoding") is None
    assert reply.header("connection") == "close"
    assert reply.body == b"one two"  # read up to EOF


async def test_head_gets_the_headers_and_no_body(serve: Serve, connect: Connect) -> None:
    async def handler(request: Request) -> Response:
        return Response(200, [("content-type", "text/plain")], b"twelve bytes")

    _, address = await serve(handler)
    client = await connect(address)
    reply = await client.request(get(method="HEAD"), head_only=True)
    assert reply.header("content-length") == "12"
    # No body bytes followed: the next response starts right away.
    assert (await client.request(get())).body == b"twelve bytes"
    client.close()


@pytest.mark.parametrize("status", [204, 304])
async def test_bodyless_statuses_send_no_body(serve: Serve, connect: Connect, status: int) -> None:
    async def handler(request: Request) -> Response:
        return Response(status, body=b"ignored")

    _, address = await serve(handler)
    client = await connect(address)
    reply = await client.request(get())
    assert reply.status == status
    assert reply.header("content-length") is None
    assert (await client.request(get())).status == status  # nothing stray in between
    client.close()


async def test_handler_exception_is_a_logged_500(
    serve: Serve, connect: Connect, caplog: pytest.LogCaptureFixture
) -> None:
    async def handler(request: Request) -> Response:
        if request.path == "/boom":
            raise LookupError("kaput")
        return Response(200, body=b"fine")

    _, address = await serve(handler)
    client = await connect(address)
    with caplog.at_level(logging.ERROR, logger="authgate.http"):
        reply = await client.request(get("/boom"))
    assert reply.status == 500
    assert reply.body == b"Internal Server Error"
    assert any(
        r.name == "authgate.http" and r.exc_info and r.exc_info[0] is LookupError
        for r in caplog.records
    )
    assert (await client.request(get("/ok"))).body == b"fine"  # the connection survives
    client.close()


async def test_exception_in_a_streamed_body_cuts_the_response(
    serve: Serve, connect: Connect, caplog: pytest.LogCaptureFixture
) -> None:
    async def parts() -> AsyncIterator[bytes]:
        yield b"partial"
        raise LookupError("mid-stream")

    async def handler(request: Request) -> Response:
        return Response(200, body=parts())

    _, address = await serve(handler)
    client = await connect(address)
    await client.send(get())
    await client.head()
    rest = await asyncio.wait_for(client.reader.read(), 5)
    assert rest == b"7\r\npartial\r\n"  # no terminating chunk: the client sees it failed
    assert "mid-stream" in caplog.text


@pytest.mark.parametrize(
    "headers",
    [
        [("x-evil", "a\r\nset-cookie: injected")],
        [("x-evil\r\nset-cookie", "injected")],
        [("x-uni", "snowman \u2603")],
        [("content-length", "-1")],
    ],
    ids=["crlf-in-value", "crlf-in-name", "not-latin-1", "bad-length"],
)
async def test_unsendable_response_headers_become_500(
    serve: Serve, connect: Connect, headers: list[tuple[str, str]], caplog: pytest.LogCaptureFixture
) -> None:
    async def handler(request: Request) -> Response:
        return Response(200, headers, b"x")

    _, address = await serve(handler)
    client = await connect(address)
    reply = await client.request(get())
    assert reply.status == 500
    assert "injected" not in str(reply.headers)
    assert "cannot be sent" in caplog.text
    client.close()


async def test_date_and_server_headers(serve: Serve, connect: Connect) -> None:
    async def handler(request: Request) -> Response:
        if request.path == "/own":
            return Response(200, [("Server", "mine"), ("Date", "then")])
        return Response(200)

    _, address = await serve(handler, server_header="authgate")
    client = await connect(address)
    reply = await client.request(get())
    assert reply.header("server") == "authgate"
    assert DATE.match(reply.header("date") or "")
    own = await client.request(get("/own"))
    assert own.header("server") == "mine"
    assert own.header("date") == "then"
    client.close()


async def test_client_gone_mid_body_raises_in_the_reader(serve: Serve, connect: Connect) -> None:
    seen: asyncio.Future[BaseException] = asyncio.get_running_loop().create_future()

    async def handler(request: Request) -> Response:
        try:
            await request.body.read()
        except Exception as exc:
            seen.set_result(exc)
            raise
        return Response(200)

    _, address = await serve(handler)
    client = await connect(address)
    await client.send(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\nonly some")
    await asyncio.sleep(0.05)
    client.close()
    assert isinstance(await asyncio.wait_for(seen, 5), ClientDisconnected)


async def test_handler_in_flight_is_cancelled_when_the_client_goes(
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
    assert server.active_requests == 1
    client.close()
    await asyncio.wait_for(cancelled, 5)
    for _ in range(100):
        if server.active_requests == 0:
            break
        await asyncio.sleep(0.01)
    assert server.active_requests == 0


async def test_body_can_be_read_only_once(serve: Serve, connect: Connect) -> None:
    async def handler(request: Request) -> Response:
        first = await request.body.read()
        with pytest.raises(RuntimeError):
            request.body.stream()
        return Response(200, body=first)

    _, address = await serve(handler)
    client = await connect(address)
    reply = await client.request(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc")
    assert reply.body == b"abc"
    client.close()


async def test_requests_without_a_body_get_an_empty_one(serve: Serve, connect: Connect) -> None:
    bodies: list[object] = []

    async def handler(request: Request) -> Response:
        bodies.append(request.body)
        return Response(200, body=await request.body.read())

    _, address = await serve(handler)
    client = await connect(address)
    reply = await client.request(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n")
    assert reply.status == 200
    assert reply.body == b""
    assert isinstance(bodies[0], EmptyBody)
    client.close()


async def test_body_too_large_from_the_reader_becomes_the_too_large_answer(
    serve: Serve, connect: Connect
) -> None:
    raised: list[BaseException] = []

    async def handler(request: Request) -> Response:
        try:
            await request.body.read()
        except BodyTooLarge as exc:
            raised.append(exc)
            raise
        return Response(200)

    too_large = Response(413, [("content-type", "text/plain")], b"custom")
    _, address = await serve(handler, Limits(max_body_bytes=10), too_large=too_large)
    client = await connect(address)
    await client.send(b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n")
    await asyncio.sleep(0.05)  # the handler is reading by now
    await client.send(b"8\r\n12345678\r\n8\r\n12345678\r\n0\r\n\r\n")
    reply = await client.reply()
    assert reply.status == 413
    assert reply.body == b"custom"
    assert reply.header("connection") == "close"
    assert await client.closed()
    assert len(raised) == 1
    assert isinstance(raised[0], BodyTooLarge)
    assert raised[0].limit == 10


async def test_header_bytes_are_decoded_as_latin_1(serve: Serve, connect: Connect) -> None:
    seen: list[str | None] = []

    async def handler(request: Request) -> Response:
        seen.append(request.header("x-name"))
        return Response(200, [("x-echo", request.header("x-name") or "")])

    _, address = await serve(handler)
    client = await connect(address)
    reply = await client.request(b"GET / HTTP/1.1\r\nHost: t\r\nX-Name: caf\xe9\r\n\r\n")
    assert seen == ["caf\u00e9"]
    assert reply.header("x-echo") == "caf\u00e9"  # and encoded back the same way
