"""UpstreamPool against real HTTP/1.1 backends on 127.0.0.1, written here on asyncio streams."""

from __future__ import annotations

import asyncio
import datetime
import hashlib
import ipaddress
import socket
import ssl
import time
import tracemalloc
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
import uvloop
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from authgate.errors import IntegrationTimeout, IntegrationUnreachable
from authgate.http1.client import UpstreamPool, UpstreamResponse, Url
from authgate.http1.message import BytesBody
from tests.http1.upstream_backend import Backend, Handler, Seen, reply

MB = 1024 * 1024


async def bytes_iter(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


class StreamBody:
    """A request body that arrives in pieces, like a client's upload through the server."""

    def __init__(self, parts: Callable[[], AsyncIterator[bytes]], length: int | None) -> None:
        self._parts = parts
        self.content_length = length
        self.consumed = False

    async def read(self) -> bytes:
        return b"".join([p async for p in self.stream()])

    async def stream(self) -> AsyncIterator[bytes]:
        self.consumed = True
        async for part in self._parts():
            yield part


@pytest.fixture
async def pool() -> AsyncIterator[UpstreamPool]:
    p = UpstreamPool()
    yield p
    await p.close()


async def test_url_parse() -> None:
    url = Url.parse("https://Example.com/a/b?x=1#frag")
    assert url == Url("https", "example.com", 443, "/a/b?x=1")
    assert url.authority == "example.com"
    assert Url.parse("http://[::1]:8080").authority == "[::1]:8080"
    assert Url.parse("http://h:81").target == "/"
    for bad in ("ftp://h/", "http:///x", "http://u:p@h/", "http://h:99999/"):
        with pytest.raises(ValueError):  # noqa: PT011 - any ValueError names the fault
            Url.parse(bad)


async def test_keep_alive_reuses_one_connection(pool: UpstreamPool) -> None:
    async with Backend(reply(body=b'{"ok":true}')) as backend:
        for _ in range(5):
            response = await pool.request("GET", backend.url("/x?y=1"), [], None, timeout=5)
            assert response.status == 200
            assert await response.read() == b'{"ok":true}'
        assert backend.connections == 1
        assert pool.connections_opened == 1
        seen = backend.requests[0]
        assert (seen.method, seen.target) == ("GET", "/x?y=1")
        assert seen.header("host") == f"127.0.0.1:{backend.port}"
        assert seen.header("content-length") is None  # a GET without a body declares none


async def test_concurrent_requests_open_connections_then_reuse_them(pool: UpstreamPool) -> None:
    async def slow(seen: Seen, r: asyncio.StreamReader, w: asyncio.StreamWriter, n: int) -> bool:
        await asyncio.sleep(0.05)
        return await reply()(seen, r, w, n)

    async with Backend(slow) as backend:

        async def one() -> bytes:
            response = await pool.request("GET", backend.url(), [], None, timeout=5)
            return await response.read()

        assert await asyncio.gather(*(one() for _ in range(8))) == [b"ok"] * 8
        assert backend.connections == 8
        assert await asyncio.gather(*(one() for _ in range(8))) == [b"ok"] * 8
        assert backend.connections == 8


async def test_max_idle_per_host_caps_kept_connections() -> None:
    pool = UpstreamPool(max_idle_per_host=2)

    async def slow(seen: Seen, r: asyncio.StreamReader, w: asyncio.StreamWriter, n: int) -> bool:
        await asyncio.sleep(0.05)
        return await reply()(seen, r, w, n)

    try:
        async with Backend(slow) as backend:

            async def one() -> None:
                response = await pool.request("GET", backend.url(), [], None, timeout=5)
                await response.read()

            await asyncio.gather(*(one() for _ in range(5)))
            await asyncio.gather(*(one() for _ in range(5)))
            assert backend.connections == 5 + 3
    finally:
        await pool.close()


async def test_connection_close_is_not_reused(pool: UpstreamPool) -> None:
    async with Backend(reply(headers=(("Connection", "close"),))) as backend:
        for _ in range(3):
            response = await pool.request("GET", backend.url(), [], None, timeout=5)
            assert await response.read() == b"ok"
        assert backend.connections == 3


async def test_idle_connections_expire() -> None:
    pool = UpstreamPool(idle_timeout=0.05)
    try:
        async with Backend(reply()) as backend:
            response = await pool.request("GET", backend.url(), [], None, timeout=5)
            await response.read()
            await asyncio.sleep(0.2)
            response = await pool.request("GET", backend.url(), [], None, timeout=5)
            await response.read()
            assert backend.connections == 2
    finally:
        await pool.close()


async def test_post_bytes_sends_content_length(pool: UpstreamPool) -> None:
    async with Backend(reply()) as backend:
        body = b'{"a":1}'
        headers = [("Content-Type", "application/json"), ("Content-Length", "999")]
        response = await pool.request("POST", backend.url(), headers, body, timeout=5)
        await response.read()
        response = await pool.request("POST", backend.url(), [], BytesBody(b""), timeout=5)
        await response.read()
        first, second = backend.requests
        assert first.body == body
        assert first.header("content-length") == str(len(body))  # ours, not the caller's
        assert first.header("content-type") == "application/json"
        assert second.header("content-length") == "0"


async def test_large_streamed_upload_with_length_uses_constant_memory(pool: UpstreamPool) -> None:
    size = 16 * MB
    piece = b"u" * 65536

    async def parts() -> AsyncIterator[bytes]:
        for _ in range(size // len(piece)):
            yield piece

    async with Backend(reply(), keep_bodies=False) as backend:
        tracemalloc.start()
        try:
            body = StreamBody(parts, size)
            response = await pool.request("PUT", backend.url("/up"), [], body, timeout=10)
            assert await response.read() == b"ok"
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        seen = backend.requests[0]
        assert seen.body_size == size
        assert seen.body_sha == hashlib.sha256(piece * (size // len(piece))).hexdigest()
        assert seen.header("content-length") == str(size)
        assert peak < 4 * MB
        response = await pool.request("GET", backend.url(), [], None, timeout=5)
        await response.read()
        assert backend.connections == 1  # the connection survived the upload


async def test_unknown_length_upload_is_chunked(pool: UpstreamPool) -> None:
    async with Backend(reply()) as backend:
        body = StreamBody(lambda: bytes_iter(b"hello ", b"", b"chunked ", b"world"), None)
        response = await pool.request("POST", backend.url(), [], body, timeout=5)
        assert await response.read() == b"ok"
        seen = backend.requests[0]
        assert seen.header("transfer-encoding") == "chunked"
        assert seen.header("content-length") is None
        assert seen.body == b"hello chunked world"
        response = await pool.request("GET", backend.url(), [], None, timeout=5)
        await response.read()
        assert backend.connections == 1


async def test_large_streamed_download_uses_constant_memory(pool: UpstreamPool) -> None:
    size = 16 * MB
    piece = b"d" * 65536

    async def big(seen: Seen, r: asyncio.StreamReader, w: asyncio.StreamWriter, n: int) -> bool:
        w.write(f"HTTP/1.1 200 OK\r\nContent-Length: {size}\r\n\r\n".encode())
        for _ in range(size // len(piece)):
            w.write(piece)
            await w.drain()
        return True

    async with Backend(big) as backend:
        tracemalloc.start()
        try:
            response = await pool.request("GET", backend.url(), [], None, timeout=5)
            assert not response.complete
            total = 0
            digest = hashlib.sha256()
            async for chunk in response:
                total += len(chunk)
                digest.update(chunk)
                if total % (4 * MB) < len(chunk):
                    await asyncio.sleep(0.01)  # a slow reader: the socket must wait for us
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert total == size
        assert digest.hexdigest() == hashlib.sha256(piece * (size // len(piece))).hexdigest()
        assert peak < 4 * MB
        response = await pool.request("GET", backend.url(), [], None, timeout=5)
        assert response.status == 200
        await response.aclose()
        assert backend.connections == 1  # read to the end: the connection went back


async def test_chunked_download(pool: UpstreamPool) -> None:
    async def chunked(seen: Seen, r: asyncio.StreamReader, w: asyncio.StreamWriter, n: int) -> bool:
        w.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        for part in (b"alpha-", b"beta-", b"gamma"):
            w.write(b"%x\r\n%b\r\n" % (len(part), part))
            await w.drain()
            await asyncio.sleep(0.01)
        w.write(b"0\r\n\r\n")
        await w.drain()
        return True

    async with Backend(chunked) as backend:
        for _ in range(2):
            response = await pool.request("GET", backend.url(), [], None, timeout=5)
            assert ("Transfer-Encoding", "chunked") in response.headers
            assert await response.read() == b"alpha-beta-gamma"
        assert backend.connections == 1


async def test_body_until_eof(pool: UpstreamPool) -> None:
    async def eof(seen: Seen, r: asyncio.StreamReader, w: asyncio.StreamWriter, n: int) -> bool:
        w.write(b"HTTP/1.0 200 OK\r\n\r\nall of it")
        await w.drain()
        return False

    async with Backend(eof) as backend:
        response = await pool.request("GET", backend.url(), [], None, timeout=5)
        assert await response.read() == b"all of it"


async def test_early_close_discards_the_connection(pool: UpstreamPool) -> None:
    async def big(seen: Seen, r: asyncio.StreamReader, w: asyncio.StreamWriter, n: int) -> bool:
        w.write(b"HTTP/1.1 200 OK\r\nContent-Length: 4000000\r\n\r\n")
        for _ in range(40):
            w.write(b"x" * 100_000)
            await w.drain()
        return True

    async with Backend(big) as backend:
        response = await pool.request("GET", backend.url(), [], None, timeout=5)
        iterator = aiter(response)
        assert await anext(iterator)
        await iterator.aclose()  # type: ignore[attr-defined]
        response = await pool.request("GET", backend.url(), [], None, timeout=5)
        await response.aclose()
        assert backend.connections == 2
        aiter(response)
        with pytest.raises(RuntimeError):
            aiter(response)


async def test_bodyless_responses(pool: UpstreamPool) -> None:
    async def varied(seen: Seen, r: asyncio.StreamReader, w: asyncio.StreamWriter, n: int) -> bool:
        if seen.method == "HEAD":
            w.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n")
        elif seen.target == "/204":
            w.write(b"HTTP/1.1 204 No Content\r\n\r\n")
        elif seen.target == "/304":
            w.write(b"HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n")
        else:
            w.write(b"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n")
            w.write(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfinal")
        await w.drain()
        return True

    async with Backend(varied) as backend:
        response = await pool.request("HEAD", backend.url(), [], None, timeout=5)
        assert (response.status, response.complete) == (200, True)
        assert ("Content-Length", "1234") in response.headers
        assert await response.read() == b""
        for target, status in (("/204", 204), ("/304", 304)):
            response = await pool.request("GET", backend.url(target), [], None, timeout=5)
            assert response.status == status
            assert await response.read() == b""
        response = await pool.request("GET", backend.url("/hints"), [], None, timeout=5)
        assert response.status == 200
        assert response.headers == [("Content-Length", "5")]
        assert await response.read() == b"final"
        response = await pool.request("HEAD", backend.url(), [], None, timeout=5)
        assert response.status == 200
        assert backend.connections == 1


async def test_backend_down_is_unreachable(pool: UpstreamPool) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = Url.parse(f"http://127.0.0.1:{port}/")
    with pytest.raises(IntegrationUnreachable, match="cannot connect"):
        await pool.request("GET", url, [], None, timeout=5)


async def test_unknown_host_is_unreachable(pool: UpstreamPool) -> None:
    url = Url.parse("http://no-such-host.invalid/")
    with pytest.raises(IntegrationUnreachable):
        await pool.request("GET", url, [], None, timeout=5)


async def test_slow_backend_times_out_within_bound(pool: UpstreamPool) -> None:
    async def never(seen: Seen, r: asyncio.StreamReader, w: asyncio.StreamWriter, n: int) -> bool:
        await asyncio.sleep(5)
        return False

    async with Backend(never) as backend:
        started = time.monotonic()
        with pytest.raises(IntegrationTimeout):
            await pool.request("GET", backend.url(), [], None, timeout=0.2)
        assert 0.15 < time.monotonic() - started < 1.0


async def test_timeout_covers_a_stalled_upload(pool: UpstreamPool) -> None:
    async def stalled() -> AsyncIterator[bytes]:
        yield b"first"
        await asyncio.sleep(5)
        yield b"never"

    async with Backend(reply()) as backend:
        for length in (10, 1_000_000):  # buffered, then streamed
            started = time.monotonic()
            body = StreamBody(stalled, length)
            with pytest.raises(IntegrationTimeout):
                await pool.request("POST", backend.url(), [], body, timeout=0.2)
            assert time.monotonic() - started < 1.0


async def test_malformed_response_is_unreachable(pool: UpstreamPool) -> None:
    async def junk(seen: Seen, r: asyncio.StreamReader, w: asyncio.StreamWriter, n: int) -> bool:
        w.write(b"SPDY/9 banana\r\n\r\n")
        await w.drain()
        return True

    async with Backend(junk) as backend:
        with pytest.raises(IntegrationUnreachable, match="malformed"):
            await pool.request("GET", backend.url(), [], None, timeout=5)


async def test_reset_in_the_middle_of_the_body(pool: UpstreamPool) -> None:
    async def cut(seen: Seen, r: asyncio.StreamReader, w: asyncio.StreamWriter, n: int) -> bool:
        w.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten b")
        await w.drain()
        await asyncio.sleep(0.05)
        return False

    async with Backend(cut) as backend:
        response = await pool.request("GET", backend.url(), [], None, timeout=5)
        with pytest.raises(IntegrationUnreachable, match="middle of the body"):
            await response.read()


def _closes_reused_connections() -> Handler:
    """Answer once per connection; on the next request close without a byte, like a peer
    whose idle timer fired just as our request was on its way."""

    answered: set[int] = set()

    async def handle(seen: Seen, r: asyncio.StreamReader, w: asyncio.StreamWriter, n: int) -> bool:
        if n in answered:
            return False
        answered.add(n)
        return await reply(body=f"conn{n}".encode())(seen, r, w, n)

    return handle


async def test_reused_connection_closed_by_peer_is_retried(pool: UpstreamPool) -> None:
    async with Backend(_closes_reused_connections()) as backend:
        response = await pool.request("GET", backend.url(), [], None, timeout=5)
        assert await response.read() == b"conn1"
        response = await pool.request("POST", backend.url(), [], b"again", timeout=5)
        assert await response.read() == b"conn2"
        assert backend.connections == 2
        assert [r.body for r in backend.requests] == [b"", b"again", b"again"]


async def test_reused_connection_closed_with_streamed_body_is_not_retried(
    pool: UpstreamPool,
) -> None:
    async with Backend(_closes_reused_connections()) as backend:
        response = await pool.request("GET", backend.url(), [], None, timeout=5)
        await response.read()
        body = StreamBody(lambda: bytes_iter(b"on", b"ce"), None)
        with pytest.raises(IntegrationUnreachable, match="closed"):
            await pool.request("POST", backend.url(), [], body, timeout=5)
        assert body.consumed
        assert backend.connections == 1


async def test_small_uploads_are_buffered_and_so_retried(pool: UpstreamPool) -> None:
    async with Backend(_closes_reused_connections()) as backend:
        response = await pool.request("GET", backend.url(), [], None, timeout=5)
        await response.read()
        body = StreamBody(lambda: bytes_iter(b"sm", b"all"), 5)
        response = await pool.request("POST", backend.url(), [], body, timeout=5)
        assert await response.read() == b"conn2"
        assert [r.body for r in backend.requests] == [b"", b"small", b"small"]


async def test_connection_closed_while_idle_is_not_used(pool: UpstreamPool) -> None:
    async def once(seen: Seen, r: asyncio.StreamReader, w: asyncio.StreamWriter, n: int) -> bool:
        await reply()(seen, r, w, n)
        return False  # the backend closes right after answering, without saying so

    async with Backend(once) as backend:
        response = await pool.request("GET", backend.url(), [], None, timeout=5)
        await response.read()
        await asyncio.sleep(0.05)
        response = await pool.request("GET", backend.url(), [], None, timeout=5)
        assert await response.read() == b"ok"
        assert backend.connections == 2


def _self_signed(tmp: Path) -> tuple[Path, Path, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "authgate-test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    pem = cert.public_bytes(serialization.Encoding.PEM)
    cert_path, key_path = tmp / "cert.pem", tmp / "key.pem"
    cert_path.write_bytes(pem)
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path, pem


async def test_https_with_a_trusted_self_signed_certificate(tmp_path: Path) -> None:
    cert, key, pem = _self_signed(tmp_path)
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert, key)
    trusting = ssl.create_default_context(cadata=pem.decode())
    pool = UpstreamPool(ssl_context=trusting)
    strict = UpstreamPool()
    try:
        async with Backend(reply(body=b"secure"), ssl_context=server_context) as backend:
            url = backend.url("/tls", scheme="https")
            for _ in range(3):
                response = await pool.request("GET", url, [], None, timeout=5)
                assert await response.read() == b"secure"
            assert backend.connections == 1
            with pytest.raises(IntegrationUnreachable, match="TLS"):
                await strict.request("GET", url, [], None, timeout=5)
    finally:
        await pool.close()
        await strict.close()


async def test_closed_pool_refuses_requests() -> None:
    pool = UpstreamPool()
    async with Backend(reply()) as backend:
        response: UpstreamResponse = await pool.request("GET", backend.url(), [], None, timeout=5)
        await response.read()
        await pool.close()
        with pytest.raises(IntegrationUnreachable, match="closed"):
            await pool.request("GET", backend.url(), [], None, timeout=5)


@pytest.mark.parametrize(
    "scenario",
    [
        test_keep_alive_reuses_one_connection,
        test_unknown_length_upload_is_chunked,
        test_large_streamed_download_uses_constant_memory,
        test_bodyless_responses,
        test_slow_backend_times_out_within_bound,
        test_reused_connection_closed_by_peer_is_retried,
        test_backend_down_is_unreachable,
    ],
)
def test_on_uvloop(scenario: Callable[[UpstreamPool], Awaitable[None]]) -> None:
    """The server runs on uvloop, whose transports differ from asyncio's in small ways."""

    async def run() -> None:
        pool = UpstreamPool()
        try:
            await asyncio.wait_for(scenario(pool), 20)
        finally:
            await pool.close()

    uvloop.run(run())
