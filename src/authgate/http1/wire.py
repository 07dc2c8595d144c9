"""HTTP/1.1 response heads and request targets as bytes: the pure half of the server.

Everything here runs once per request on the hot path, so it works on whole strings and
caches what repeats (status lines, the Date line) instead of building per-header objects.
"""

from __future__ import annotations

import time
from email.utils import formatdate
from http import HTTPStatus

from authgate.http1.message import Headers, Response

_STATUS_LINES: dict[int, bytes] = {
    s.value: f"HTTP/1.1 {s.value} {s.phrase}\r\n".encode("ascii") for s in HTTPStatus
}

NO_BODY_STATUSES = frozenset({204, 304})
"""Statuses whose responses end at the head, whatever the handler put in the body."""

CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
CHUNKED_END = b"0\r\n\r\n"

SEND_NOTHING = 0
"""The encoded head is everything (bodyless status, HEAD, or a small body already inlined)."""
SEND_BYTES = 1
"""Write `response.body` (bytes too large to copy into the head) after the head."""
SEND_CHUNKED = 2
"""Stream the body with chunked transfer-coding."""
SEND_COUNTED = 3
"""Stream the body raw; the handler set content-length, so the byte count must match it."""
SEND_UNTIL_CLOSE = 4
"""Stream the body raw and close the connection to end it (HTTP/1.0 has no chunked coding)."""

_INLINE_BODY = 65_536
"""Bytes bodies up to this size go out in the same write as the head."""

_date_second = -1
_date_line = b""


def status_line(status: int) -> bytes:
    """`HTTP/1.1 <code> <reason>\\r\\n`; an unknown code keeps the space and an empty reason."""
    line = _STATUS_LINES.get(status)
    if line is None:
        if not 200 <= status <= 599:
            raise ValueError(f"handler returned status {status!r}; final statuses are 200-599")
        line = _STATUS_LINES[status] = f"HTTP/1.1 {status} \r\n".encode("ascii")
    return line


def date_line() -> bytes:
    """The `date:` header line, formatted at most once per second."""
    global _date_second, _date_line
    now = int(time.time())
    if now != _date_second:
        _date_line = b"date: " + formatdate(now, usegmt=True).encode("ascii") + b"\r\n"
        _date_second = now
    return _date_line


_NOTABLE_NAME_SIZES = frozenset({4, 6, 10, 14, 17})
"""Lengths of date, server, connection, content-length, transfer-encoding."""


def encode_headers(headers: Headers) -> tuple[bytes, int, bool, bool]:
    """(the handler's header lines, its content-length or -1, whether it set date, server).

    Hop-by-hop framing headers are dropped: the server owns framing. Raises ValueError for a
    CR or LF inside a name or value (response splitting) and for a content-length that is not
    one plain decimal; UnicodeEncodeError for text that is not latin-1.
    """
    parts: list[str] = []
    append = parts.append
    count = 0
    length = -1
    has_date = has_server = False
    for name, value in headers:
        # Only five names need a look; comparing lengths first spares a lower() per header.
        if len(name) in _NOTABLE_NAME_SIZES:
            low = name.lower()
            if low == "content-length":
                if not value.isdigit() or not value.isascii():
                    raise ValueError(f"invalid content-length {value!r}")
                if length >= 0:
                    if int(value) != length:
                        raise ValueError("conflicting content-length headers")
                    continue
                length = int(value)
            elif low == "transfer-encoding" or low == "connection":
                continue
            elif low == "date":
                has_date = True
            elif low == "server":
                has_server = True
        append(name)
        append(": ")
        append(value)
        append("\r\n")
        count += 1
    text = "".join(parts)
    # Each line owns exactly one CR and one LF; any extra one came from a name or a value.
    if text.count("\n") != count or text.count("\r") != count:
        raise ValueError("CR or LF inside a response header")
    return text.encode("latin-1"), length, has_date, has_server


def encode_response(
    response: Response, *, head_only: bool, http10: bool, keep_alive: bool, server_line: bytes
) -> tuple[bytes, int, bool, int]:
    """(bytes to write first, SEND_* mode for the rest, whether the connection stays open,
    the handler's content-length or -1).

    The server owns framing: it adds content-length or chunked coding, `connection`, `date`
    and the optional `server` line. Raises ValueError (or UnicodeEncodeError) for a response
    that cannot be sent as given.
    """
    status = response.status
    body = response.body
    lines, length, has_date, has_server = encode_headers(response.headers)
    head = response.head
    if head:
        low = b"\n" + head.lower()
        has_date = has_date or b"\ndate:" in low
        has_server = has_server or b"\nserver:" in low
    parts = [_STATUS_LINES.get(status) or status_line(status), date_line(), lines, head]
    if has_date:
        parts[1] = b""
    if server_line and not has_server:
        parts.append(server_line)
    mode = SEND_NOTHING
    inline = b""
    if isinstance(body, bytes):
        if status not in NO_BODY_STATUSES:
            if length < 0:
                if body or not head_only:
                    parts.append(b"content-length: %d\r\n" % len(body))
            elif length != len(body) and not head_only:
                raise ValueError(f"content-length {length} but a body of {len(body)} bytes")
            if body and not head_only:
                if len(body) <= _INLINE_BODY:
                    inline = body
                else:
                    mode = SEND_BYTES
    elif status in NO_BODY_STATUSES or head_only:
        pass
    elif length >= 0:
        mode = SEND_COUNTED
    elif http10:
        mode = SEND_UNTIL_CLOSE
        keep_alive = False
    else:
        mode = SEND_CHUNKED
        parts.append(b"transfer-encoding: chunked\r\n")
    if not keep_alive:
        parts.append(b"connection: close\r\n")
    elif http10:
        parts.append(b"connection: keep-alive\r\n")
    parts.append(b"\r\n")
    if inline:
        parts.append(inline)
    return b"".join(parts), mode, keep_alive, length


def target_authority(target: bytes) -> bytes | None:
    """The host[:port] of an absolute-form target (`http://host:port/p`), else None."""
    scheme, sep, rest = target.partition(b"://")
    if not sep or scheme.lower() not in (b"http", b"https"):
        return None
    end = len(rest)
    for mark in (b"/", b"?"):
        at = rest.find(mark)
        if 0 <= at < end:
            end = at
    return rest[:end]


def split_target(target: bytes) -> tuple[str, str]:
    """(path, query) of a request target, split at the first '?', both kept as sent.

    The absolute form (`http://host/p?q`, which proxies send) is reduced to its path so routing
    sees the same path either way; `*` (OPTIONS) stays as it is.
    """
    text = target.decode("latin-1")
    if text[:1] != "/" and text[:4].lower() == "http":
        scheme_end = text.find("://")
        if scheme_end in (4, 5):
            slash = text.find("/", scheme_end + 3)
            mark = text.find("?", scheme_end + 3)
            if slash < 0 or 0 <= mark < slash:
                text = "/" + (text[mark:] if mark >= 0 else "")
            else:
                text = text[slash:]
    mark = text.find("?")
    if mark < 0:
        return text, ""
    return text[:mark], text[mark + 1 :]
