"""The request and response objects that cross between the HTTP/1.1 layer and the planes.

They are deliberately small: the data plane reads headers and streams bodies, and nothing in
this module knows about routing, authorization or AWS.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass, field
from typing import Protocol

Headers = list[tuple[str, str]]
"""Header fields in wire order, names as the peer spelled them, values latin-1 decoded."""


class BodyTooLarge(Exception):
    """The request body grew past the configured limit while being read."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"request body exceeds {limit} bytes")
        self.limit = limit


class BodyIncomplete(Exception):
    """The request body stopped before its end; the connection cannot carry another request."""


class ClientDisconnected(BodyIncomplete):
    """The client went away (closed or half-closed the connection) before the body ended."""


class BodyTimeout(BodyIncomplete):
    """The client sent no body bytes for longer than the idle limit; the connection is closed."""


class MalformedBody(BodyIncomplete):
    """The body broke HTTP framing (bad chunk size, oversized trailers); answered with 400."""


class Body(Protocol):
    """A request body that can be read once, whole or as a stream."""

    content_length: int | None
    """The declared length, or None for a chunked body."""

    async def read(self) -> bytes:
        """Read the whole body; raises BodyTooLarge past the limit."""
        ...

    def stream(self) -> AsyncIterator[bytes]:
        """Yield the body as it arrives; raises BodyTooLarge past the limit."""
        ...


class EmptyBody:
    """The body of a request that declared none."""

    content_length: int | None = 0

    async def read(self) -> bytes:
        return b""

    async def stream(self) -> AsyncIterator[bytes]:
        return
        yield  # pragma: no cover - makes this an async generator


class BytesBody:
    """A body already in memory (tests, re-reads)."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self.content_length: int | None = len(data)

    async def read(self) -> bytes:
        return self._data

    async def stream(self) -> AsyncIterator[bytes]:
        if self._data:
            yield self._data


@dataclass(slots=True)
class Request:
    """One parsed HTTP/1.1 request as the server hands it to a plane."""

    method: str
    path: str
    """The request target's path, exactly as sent (percent-escapes kept)."""
    query: str
    """Everything after the first '?', exactly as sent; '' when absent."""
    headers: Headers
    body: Body
    client: tuple[str, int]
    server: tuple[str, int]
    http_version: str = "1.1"
    scheme: str = "http"
    _index: dict[str, str] | None = field(default=None, repr=False)

    def header(self, name: str) -> str | None:
        """The value of a header by lower-case name; repeated fields are comma-joined."""
        index = self._index
        if index is None:
            index = {}
            for key, value in self.headers:
                low = key.lower()
                index[low] = f"{index[low]},{value}" if low in index else value
            self._index = index
        return index.get(name)


ResponseBody = bytes | AsyncIterable[bytes]


@dataclass(slots=True)
class Response:
    """What a plane answers. A streamed body is sent chunked unless content-length is set."""

    status: int
    headers: Headers = field(default_factory=list)
    body: ResponseBody = b""
    head: bytes = b""
    """Header lines already encoded, each ending in CRLF, sent after `headers`: a proxied
    response's own lines pass through without a round trip to text. Whoever fills it
    guarantees well-formed lines and leaves out framing (content-length, transfer-encoding,
    connection)."""


class Handler(Protocol):
    """The one call the HTTP layer makes per request."""

    async def __call__(self, request: Request) -> Response: ...
