"""The ASGI bridge: a small Starlette app served by HttpServer, driven by httpx."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request as StarletteRequest
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from authgate.http1.asgi import AsgiHandler, Message, Receive, Scope, Send, lifespan
from authgate.http1.server import Limits
from tests.http1.server.conftest import Connect, Serve
from tests.http1.server.raw import get

MB = 1024 * 1024


class Demo:
    """A Starlette app with one route per behaviour, and a log of what happened."""

    def __init__(self) -> None:
        self.events: list[str] = []
        self.stream_closed = asyncio.Event()
        self.app = Starlette(
            routes=[
                Route("/hello/{name}", self.hello),
                Route("/stream", self.stream),
                Route("/endless", self.endless),
                Route("/upload", self.upload, methods=["POST"]),
                Route("/boom", self.boom),
            ],
            lifespan=self.lifespan,
        )

    @asynccontextmanager
    async def lifespan(self, app: Starlette) -> AsyncIterator[dict[str, Any]]:
        self.events.append("startup")
        yield {"greeting": "hello"}
        self.events.append("shutdown")

    async def hello(self, request: StarletteRequest) -> Response:
        return JSONResponse(
            {
                "name": request.path_params["name"],
                "query": dict(request.query_params),
                "greeting": request.state.greeting,
                "header": request.headers.get("x-test"),
                "client": request.client.host if request.client else None,
            }
        )

    async def stream(self, request: StarletteRequest) -> Response:
        async def parts() -> AsyncIterator[bytes]:
            for n in range(3):
                yield f"part {n}\n".encode()
                await asyncio.sleep(0.01)

        return StreamingResponse(parts(), media_type="text/plain")

    async def endless(self, request: StarletteRequest) -> Response:
        async def parts() -> AsyncIterator[bytes]:
            try:
                while True:
                    yield b"tick\n"
                    await asyncio.sleep(0.01)
            finally:
                self.stream_closed.set()

        return StreamingResponse(parts(), media_type="text/plain")

    async def upload(self, request: StarletteRequest) -> Response:
        digest = hashlib.sha256()
        size = 0
        async for piece in request.stream():
            digest.update(piece)
            size += len(piece)
        return JSONResponse({"size": size, "sha256": digest.hexdigest()})

    async def boom(self, request: StarletteRequest) -> Response:
        raise LookupError("the app failed")


@pytest.fixture
async def demo(serve: Serve) -> AsyncIterator[tuple[Demo, str]]:
    demo = Demo()
    async with lifespan(demo.app) as state:
        _, (host, port) = await serve(AsgiHandler(demo.app, state=state))
        yield demo, f"http://{host}:{port}"
    assert demo.events == ["startup", "shutdown"]


async def test_json_route(demo: tuple[Demo, str]) -> None:
    app, base = demo
    async with httpx.AsyncClient(base_url=base, timeout=5) as client:
        reply = await client.get("/hello/ada%20l", params={"q": "1"}, headers={"X-Test": "yes"})
    assert reply.status_code == 200
    assert reply.headers["content-type"] == "application/json"
    assert reply.json() == {
        "name": "ada l",
        "query": {"q": "1"},
        "greeting": "hello",
        "header": "yes",
        "client": "127.0.0.1",
    }
    assert app.events == ["startup"]


async def test_streaming_route(demo: tuple[Demo, str]) -> None:
    _, base = demo
    async with (
        httpx.AsyncClient(base_url=base, timeout=5) as client,
        client.stream("GET", "/stream") as reply,
    ):
        assert reply.headers["transfer-encoding"] == "chunked"
        pieces = [piece async for piece in reply.aiter_raw()]
    assert b"".join(pieces) == b"part 0\npart 1\npart 2\n"
    assert len(pieces) >= 2  # it came in pieces, not as one body


async def test_route_reading_a_large_body(demo: tuple[Demo, str]) -> None:
    _, base = demo
    payload = bytes(range(256)) * (3 * MB // 256)
    async with httpx.AsyncClient(base_url=base, timeout=10) as client:
        reply = await client.post("/upload", content=payload)

        async def chunks() -> AsyncIterator[bytes]:
            for start in range(0, len(payload), 100_000):
                yield payload[start : start + 100_000]

        chunked = await client.post("/upload", content=chunks())
    expected = {"size": len(payload), "sha256": hashlib.sha256(payload).hexdigest()}
    assert reply.json() == expected
    assert chunked.json() == expected


async def test_exception_becomes_500(
    demo: tuple[Demo, str], caplog: pytest.LogCaptureFixture
) -> None:
    _, base = demo
    async with httpx.AsyncClient(base_url=base, timeout=5) as client:
        reply = await client.get("/boom")
        after = await client.get("/hello/x")
    assert reply.status_code == 500
    assert after.status_code == 200
    assert any(
        r.name == "authgate.http"
        and r.levelno == logging.ERROR
        and "the app failed" in str(r.exc_info)
        for r in caplog.records
    )


async def test_client_leaving_a_stream_stops_the_app(
    demo: tuple[Demo, str], connect: Connect
) -> None:
    app, base = demo
    host, port = base.removeprefix("http://").split(":")
    client = await connect((host, int(port)))
    await client.send(get("/endless"))
    assert (await client.head()).status == 200
    await asyncio.wait_for(client.reader.readuntil(b"tick\n"), 5)
    await client.aclose()
    await asyncio.wait_for(app.stream_closed.wait(), 5)


async def test_scope(serve: Serve) -> None:
    seen: list[Scope] = []
    after: list[Message] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "http"  # no lifespan support: lifespan() must cope
        seen.append(scope)
        first = await receive()
        body = f"{first['body']!r} {first['more_body']}".encode()
        await send({"type": "http.response.start", "status": 201, "headers": [(b"x-a", b"1")]})
        await send({"type": "http.response.body", "body": body})
        after.append(await asyncio.wait_for(receive(), 5))  # the response is complete

    async with lifespan(app) as state:
        assert state == {}
        _, (host, port) = await serve(AsgiHandler(app))
        async with httpx.AsyncClient(timeout=5) as client:
            reply = await client.post(
                f"http://{host}:{port}/a%20b/%C3%BC?x=%20&y", content=b"hi", headers={"X-Up": "v"}
            )
    assert reply.status_code == 201
    assert reply.headers["x-a"] == "1"
    assert reply.content == b"b'hi' False"
    assert after == [{"type": "http.disconnect"}]
    scope = seen[0]
    assert scope["asgi"] == {"version": "3.0", "spec_version": "2.3"}
    assert scope["http_version"] == "1.1"
    assert scope["method"] == "POST"
    assert scope["scheme"] == "http"
    assert scope["path"] == "/a b/ü"
    assert scope["raw_path"] == b"/a%20b/%C3%BC"
    assert scope["query_string"] == b"x=%20&y"
    assert scope["root_path"] == ""
    assert (b"x-up", b"v") in scope["headers"]
    assert all(name == name.lower() for name, _ in scope["headers"])
    assert scope["client"][0] == "127.0.0.1"
    assert scope["server"] == ("127.0.0.1", port)


async def test_failed_startup_raises() -> None:
    @asynccontextmanager
    async def broken(app: Starlette) -> AsyncIterator[None]:
        raise RuntimeError("no database")
        yield

    app = Starlette(lifespan=broken)
    with pytest.raises(RuntimeError, match="no database"):
        async with lifespan(app):
            pass


async def test_app_that_never_answers_is_a_500(
    serve: Serve, caplog: pytest.LogCaptureFixture
) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        return None

    _, (host, port) = await serve(AsgiHandler(app))
    async with httpx.AsyncClient(timeout=5) as client:
        reply = await client.get(f"http://{host}:{port}/")
    assert reply.status_code == 500
    assert "without starting a response" in caplog.text


async def test_body_over_the_limit_is_the_servers_413_not_a_500(
    serve: Serve, connect: Connect
) -> None:
    demo = Demo()
    _, address = await serve(AsgiHandler(demo.app), Limits(max_body_bytes=1000))
    client = await connect(address)
    await client.send(b"POST /upload HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n")
    await asyncio.sleep(0.05)  # the app is reading by now
    await client.send((b"200\r\n" + b"u" * 512 + b"\r\n") * 3 + b"0\r\n\r\n")
    reply = await client.reply()
    assert reply.status == 413
    assert reply.body == b"HTTP content length exceeded 1000 bytes."


async def test_app_reading_a_body_hears_the_client_leave(serve: Serve, connect: Connect) -> None:
    heard: asyncio.Future[Message] = asyncio.get_running_loop().create_future()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                heard.set_result(message)
                return
            if not message["more_body"]:
                break
        await send({"type": "http.response.start", "status": 200})
        await send({"type": "http.response.body"})

    _, address = await serve(AsgiHandler(app))
    client = await connect(address)
    await client.send(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\nsome")
    await asyncio.sleep(0.05)
    await client.aclose()
    assert (await asyncio.wait_for(heard, 5)) == {"type": "http.disconnect"}
