"""Small GETs an authorizer makes to a token issuer (OpenID discovery, JWKS), on the upstream pool.

Bounded in time and size, as API Gateway bounds them (1500 ms per request, 150 000 bytes for a
JWKS): an issuer that is slow or sends too much cannot hold requests or memory hostage.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Protocol

from authgate.errors import IntegrationError
from authgate.http1.client import UpstreamPool, Url

DEFAULT_TIMEOUT_S = 1.5
DEFAULT_MAX_BYTES = 150_000
_HEADERS = [("accept", "application/json"), ("user-agent", "authgate")]


class FetchError(Exception):
    """The document could not be fetched; the message is for logs."""


class Fetch(Protocol):
    async def __call__(self, url: str) -> bytes:
        """The body of a 200 answer to `GET url`; FetchError otherwise."""
        ...


class PoolFetch:
    """`Fetch` over the gateway's upstream connection pool."""

    def __init__(
        self,
        pool: UpstreamPool,
        *,
        timeout: float = DEFAULT_TIMEOUT_S,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        self._pool = pool
        self._timeout = timeout
        self._max_bytes = max_bytes

    async def __call__(self, url: str) -> bytes:
        try:
            target = Url.parse(url)
        except ValueError as exc:
            raise FetchError(str(exc)) from None
        try:
            async with asyncio.timeout(self._timeout):
                return await self._get(target, url)
        except TimeoutError:
            raise FetchError(f"{url}: no complete answer within {self._timeout:g}s") from None
        except IntegrationError as exc:
            raise FetchError(f"{url}: {exc.reason}") from None

    async def _get(self, target: Url, url: str) -> bytes:
        response = await self._pool.request("GET", target, _HEADERS, None, timeout=self._timeout)
        if response.status != 200:
            await response.aclose()
            raise FetchError(f"{url}: status {response.status}")
        if response.complete:
            body = response.body_bytes()
            if len(body) > self._max_bytes:
                raise FetchError(f"{url}: more than {self._max_bytes} bytes")
            return body
        return await self._read_capped(response.__aiter__(), url)

    async def _read_capped(self, stream: AsyncIterator[bytes], url: str) -> bytes:
        chunks: list[bytes] = []
        size = 0
        try:
            async for chunk in stream:
                size += len(chunk)
                if size > self._max_bytes:
                    raise FetchError(f"{url}: more than {self._max_bytes} bytes")
                chunks.append(chunk)
        finally:
            if isinstance(stream, AsyncGenerator):
                await stream.aclose()  # an unread rest costs the connection, not a leak
        return b"".join(chunks)


async def no_fetch(url: str) -> bytes:
    """The `Fetch` of a gateway that only checks definitions: it never fetches anything."""
    raise FetchError(f"{url}: nothing is fetched while checking definitions")
