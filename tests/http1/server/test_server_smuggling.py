"""Request-smuggling vectors: each one is refused with 400 and a closed connection, and the
handler never sees it. llhttp is strict; these tests pin that it stays so through our layer."""

from __future__ import annotations

import asyncio

import pytest

from authgate.http1.message import MalformedBody, Request, Response
from authgate.http1.server import Limits
from tests.http1.server.conftest import Connect, Serve
from tests.http1.server.raw import get

HEAD = b"POST / HTTP/1.1\r\nHost: t\r\n"

VECTORS = {
    "cl-and-te": HEAD + b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "te-and-cl": HEAD + b"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n",
    "cl-cl-conflicting": HEAD + b"Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
    "cl-cl-equal": HEAD + b"Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello",
    "cl-list": HEAD + b"Content-Length: 5, 5\r\n\r\nhello",
    "cl-negative": HEAD + b"Content-Length: -1\r\n\r\n",
    "cl-plus-sign": HEAD + b"Content-Length: +5\r\n\r\nhello",
    "cl-overflow": HEAD + b"Content-Length: 99999999999999999999999\r\n\r\n",
    "te-chunked-identity": HEAD + b"Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n",
    "te-identity": HEAD + b"Transfer-Encoding: identity\r\n\r\nhello",
    "te-gzip-chunked": HEAD + b"Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
    "te-twice": HEAD + b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "te-xchunked": HEAD + b"Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n",
    "te-on-http10": b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "obs-fold": b"GET / HTTP/1.1\r\nHost: t\r\nX-A: a\r\n b\r\n\r\n",
    "space-before-colon": b"GET / HTTP/1.1\r\nHost: t\r\nContent-Length : 0\r\n\r\n",
    "space-before-first-header": b"GET / HTTP/1.1\r\n Host: t\r\n\r\n",
    "bad-header-token": b"GET / HTTP/1.1\r\nHost: t\r\nX(y): a\r\n\r\n",
    "empty-header-name": b"GET / HTTP/1.1\r\nHost: t\r\n: a\r\n\r\n",
    "nul-in-value": b"GET / HTTP/1.1\r\nHost: t\r\nX: a\x00b\r\n\r\n",
    "ctl-in-value": b"GET / HTTP/1.1\r\nHost: t\r\nX: a\x01b\r\n\r\n",
    "bad-chunk-size": HEAD + b"Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
    "chunk-size-overflow": HEAD + b"Transfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFF\r\n",
    "space-after-chunk-size": HEAD + b"Transfer-Encoding: chunked\r\n\r\n5 \r\nhello\r\n0\r\n\r\n",
    "chunk-missing-crlf": HEAD + b"Transfer-Encoding: chunked\r\n\r\n5\r\nhelloX\r\n0\r\n\r\n",
    "lf-only-request-line": b"GET / HTTP/1.1\nHost: t\n\n",
    "lf-only-header": b"GET / HTTP/1.1\r\nHost: t\nX: y\r\n\r\n",
    "cr-only": b"GET / HTTP/1.1\rHost: t\r\r",
    "bad-method": b"G@T / HTTP/1.1\r\nHost: t\r\n\r\n",
    "space-in-target": b"GET /a b HTTP/1.1\r\nHost: t\r\n\r\n",
    "http-1.2": b"GET / HTTP/1.2\r\nHost: t\r\n\r\n",
}


class Recorder:
    def __init__(self) -> None:
        self.calls: list[str] = []

    async def __call__(self, request: Request) -> Response:
        self.calls.append(request.path)
        await request.body.read()
        return Response(200, body=b"handled")


@pytest.mark.parametrize("data", VECTORS.values(), ids=VECTORS.keys())
async def test_vector_is_refused(serve: Serve, connect: Connect, data: bytes) -> None:
    handler = Recorder()
    _, address = await serve(handler)
    client = await connect(address)
    reply = await client.request(data)
    assert reply.status == 400
    assert reply.body == b"Bad Request"
    assert reply.header("connection") == "close"
    assert await client.closed()
    assert handler.calls == []


@pytest.mark.parametrize("data", VECTORS.values(), ids=VECTORS.keys())
async def test_vector_after_a_good_request_on_the_same_connection(
    serve: Serve, connect: Connect, data: bytes
) -> None:
    """The good request is answered; the smuggled one is refused, never handled."""
    handler = Recorder()
    _, address = await serve(handler)
    client = await connect(address)
    await client.send(get("/good") + data)
    first = await client.reply()
    assert first.body == b"handled"
    assert (await client.reply()).status == 400
    assert await client.closed()
    assert handler.calls == ["/good"]


@pytest.mark.parametrize(
    ("data", "status"),
    [
        (b"GET / HTTP/2.0\r\nHost: t\r\n\r\n", 505),
        (b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 400),  # llhttp refuses the preface itself
        (b"GET /\r\n\r\n", 505),  # HTTP/0.9
        (HEAD + b"Connection: Upgrade\r\nUpgrade: h2c\r\nContent-Length: 5\r\n\r\nhello", 501),
    ],
    ids=["http2", "h2-preface", "http09", "upgrade-with-body"],
)
async def test_unsupported_protocols(
    serve: Serve, connect: Connect, data: bytes, status: int
) -> None:
    handler = Recorder()
    _, address = await serve(handler)
    client = await connect(address)
    reply = await client.request(data)
    assert reply.status == status
    assert await client.closed()
    assert handler.calls == []


async def test_upgrade_without_body_is_ignored(serve: Serve, connect: Connect) -> None:
    """curl's `Upgrade: h2c` on a GET: answered as plain HTTP/1.1, parsing goes on."""
    handler = Recorder()
    _, address = await serve(handler)
    client = await connect(address)
    await client.send(
        get("/up", "Connection: Upgrade, HTTP2-Settings", "Upgrade: h2c", "HTTP2-Settings: AA")
        + get("/next")
    )
    assert (await client.reply()).status == 200
    assert (await client.reply()).status == 200
    assert handler.calls == ["/up", "/next"]


async def test_data_after_connection_close_is_not_parsed(serve: Serve, connect: Connect) -> None:
    handler = Recorder()
    _, address = await serve(handler)
    client = await connect(address)
    await client.send(get("/last", "Connection: close") + get("/smuggled"))
    reply = await client.reply()
    assert reply.header("connection") == "close"
    assert await client.closed()
    assert handler.calls == ["/last"]


async def test_bad_chunk_after_the_handler_started_reaches_it(
    serve: Serve, connect: Connect
) -> None:
    """A body that goes bad mid-stream: the reader gets MalformedBody, the client 400."""
    seen: list[BaseException] = []

    async def handler(request: Request) -> Response:
        try:
            await request.body.read()
        except MalformedBody as exc:
            seen.append(exc)
            raise
        return Response(200)

    _, address = await serve(handler)
    client = await connect(address)
    await client.send(HEAD + b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")
    await asyncio.sleep(0.05)
    await client.send(b"zz\r\n")
    reply = await client.reply()
    assert reply.status == 400
    assert await client.closed()
    assert len(seen) == 1


async def test_oversized_trailers_are_refused(serve: Serve, connect: Connect) -> None:
    handler = Recorder()
    _, address = await serve(handler, Limits(max_head_bytes=1024))
    client = await connect(address)
    reply = await client.request(
        HEAD + b"Transfer-Encoding: chunked\r\n\r\n0\r\nX-T: " + b"t" * 2000 + b"\r\n\r\n"
    )
    assert reply.status == 431
    assert await client.closed()
    assert handler.calls == []


async def test_endless_chunk_extension_is_refused(serve: Serve, connect: Connect) -> None:
    """llhttp skips chunk extensions without a callback; the bytes still count."""
    handler = Recorder()
    _, address = await serve(handler, Limits(max_head_bytes=4096))
    client = await connect(address)
    await client.send(HEAD + b"Transfer-Encoding: chunked\r\n\r\n5;x=")
    status = None
    for _ in range(100):
        try:
            await client.send(b"e" * 4096)
        except ConnectionError:
            break
        try:
            status = (await client.head(within=0.01)).status
        except TimeoutError:
            continue
        break
    if status is None:
        status = (await client.head()).status
    assert status == 400
    assert handler.calls in ([], ["/"])  # the handler may have started: it got MalformedBody
