"""A bare HTTP/1.1 front end over the HTTP_PROXY integration, for when `authgate serve` cannot
run yet: it measures the upstream pool and the integration with no pipeline in front.

    python bench/standin.py --port 8001 --backend http://127.0.0.1:8000
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import time
import uuid
from typing import Any, cast

import httptools
import uvloop

from authgate.definition.model import Integration as IntegrationSpec
from authgate.definition.model import IntegrationType
from authgate.gateway.exchange import Exchange
from authgate.http1.client import UpstreamPool
from authgate.http1.message import BytesBody, EmptyBody, Headers, Request, Response
from authgate.integrations.base import Integration
from authgate.integrations.http import build_http_integration

_REASONS = {200: b"OK", 404: b"Not Found", 502: b"Bad Gateway", 504: b"Gateway Timeout"}


class _Front(asyncio.Protocol):
    """One client connection: parse requests, proxy each, answer in order (no pipelining)."""

    def __init__(self, integration: Integration) -> None:
        self._integration = integration
        self._parser = httptools.HttpRequestParser(self)
        self._transport: asyncio.Transport | None = None
        self._url = b""
        self._headers: Headers = []
        self._body: list[bytes] = []
        self._peer: tuple[str, int] = ("127.0.0.1", 0)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's are not subclasses
        self._peer = transport.get_extra_info("peername")[:2]

    def data_received(self, data: bytes) -> None:
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError:
            if self._transport is not None:
                self._transport.close()

    def on_url(self, url: bytes) -> None:
        self._url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers.append((name.decode("latin-1"), value.decode("latin-1")))

    def on_body(self, body: bytes) -> None:
        self._body.append(body)

    def on_message_complete(self) -> None:
        target = self._url.decode("latin-1")
        path, _, query = target.partition("?")
        body = b"".join(self._body)
        request = Request(
            method=self._parser.get_method().decode("ascii"),
            path=path,
            query=query,
            headers=self._headers,
            body=BytesBody(body) if body else EmptyBody(),
            client=self._peer,
            server=("127.0.0.1", 0),
        )
        keep_alive = self._parser.should_keep_alive()
        self._url, self._headers, self._body = b"", [], []
        asyncio.get_running_loop().create_task(self._answer(request, keep_alive))

    async def _answer(self, request: Request, keep_alive: bool) -> None:
        exchange = Exchange(
            request=request,
            request_id=str(uuid.uuid4()),
            extended_request_id="",
            trace_id="",
            received_at=time.time(),
            started=time.monotonic(),
            source_ip=request.client[0],
            path=request.path,
            path_parameters={"proxy": request.path[1:]},
        )
        try:
            response = await self._integration.invoke(exchange)
        except Exception:
            response = Response(502, [("Content-Type", "application/json")], b"{}")
        await self._write(response, keep_alive)

    async def _write(self, response: Response, keep_alive: bool) -> None:
        transport = self._transport
        if transport is None or transport.is_closing():
            return
        reason = _REASONS.get(response.status, b"")
        lines = [b"HTTP/1.1 %d %b\r\n" % (response.status, reason)]
        lines += [f"{k}: {v}\r\n".encode("latin-1") for k, v in response.headers]
        body = response.body
        if isinstance(body, bytes):
            if not any(k.lower() == "content-length" for k, _ in response.headers):
                lines.append(b"Content-Length: %d\r\n" % len(body))
            transport.write(b"".join(lines) + b"\r\n" + body)
        else:
            lines.append(b"Transfer-Encoding: chunked\r\n")
            transport.write(b"".join(lines) + b"\r\n")
            async for chunk in body:
                transport.write(b"%x\r\n%b\r\n" % (len(chunk), chunk))
            transport.write(b"0\r\n\r\n")
        if not keep_alive:
            transport.close()


async def _serve(port: int, backend: str) -> None:
    pool = UpstreamPool()
    spec = IntegrationSpec(type=IntegrationType.HTTP_PROXY, uri=f"{backend}/{{proxy}}")
    integration = build_http_integration(spec, spec.uri, pool)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: _Front(integration), "127.0.0.1", port, backlog=1024)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    server.close()
    await pool.close()


def main(argv: Any = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--backend", required=True, help="base URL of the backend")
    args = parser.parse_args(argv)
    uvloop.run(_serve(args.port, args.backend))


if __name__ == "__main__":
    main()
