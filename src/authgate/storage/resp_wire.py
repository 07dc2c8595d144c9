"""RESP2, the Redis protocol: commands to bytes, bytes to replies. Pure: no I/O.

A command is an array of bulk strings. A reply is an integer (`:`), a simple string (`+`), an
error (`-`), a bulk string (`$`, -1 for nil) or an array of replies (`*`, -1 for nil). Replies
come back in the order the commands were sent, which is what lets one connection carry many
commands at once.
"""

from __future__ import annotations

from typing import Final, TypeAlias

Arg = str | bytes | int | float


class ReplyError(Exception):
    """An error reply. `code` is its first word (`NOSCRIPT`, `READONLY`, `OOM`, `ERR`, ...)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.code = message.split(" ", 1)[0]


Reply: TypeAlias = "int | str | bytes | list[Reply] | ReplyError | None"
"""A parsed reply: integer, simple string (text), bulk string (bytes), array, error, or nil."""


class ProtocolError(Exception):
    """Bytes that are not RESP2: the connection cannot be trusted with another reply."""


class Incomplete(Exception):
    """The buffer ends inside a reply; wait for more bytes."""


_INCOMPLETE: Final = Incomplete()
_INTEGER, _SIMPLE, _ERROR, _BULK, _ARRAY = b":+-$*"
_MAX_BULK: Final = 512 * 1024 * 1024
"""Redis's own limit on a string; a longer length is garbage, not a reply."""


def encode(args: tuple[Arg, ...]) -> bytes:
    """One command as the array of bulk strings Redis reads."""
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        if isinstance(arg, str):
            data = arg.encode()
        elif isinstance(arg, bytes):
            data = arg
        elif isinstance(arg, bool):
            raise TypeError("booleans are not Redis arguments")
        elif isinstance(arg, int):
            data = b"%d" % arg
        else:
            data = repr(float(arg)).encode()
        parts.append(b"$%d\r\n%b\r\n" % (len(data), data))
    return b"".join(parts)


class ReplyReader:
    """Replies from bytes as they arrive. The elements of an array are kept as they complete,
    so a reply that comes in many pieces (a usage report of thousands of keys) is parsed once,
    not again from its start with every piece."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._open: list[tuple[list[Reply], int]] = []
        """Arrays being filled, innermost last: (elements so far, elements expected)."""

    def feed(self, data: bytes) -> list[Reply]:
        """The replies `data` completes, in order (an error reply as a ReplyError). Raises
        ProtocolError for bytes that are not RESP2."""
        buffer = self._buffer
        source: bytes | bytearray = data
        if buffer:
            buffer += data
            source = buffer
        opened = self._open
        replies: list[Reply] = []
        at = 0
        try:
            while at < len(source):
                value, at = _element(source, at)
                if isinstance(value, _ArrayStart):
                    opened.append(([], value.count))
                    continue
                while opened:
                    items, count = opened[-1]
                    items.append(value)
                    if len(items) < count:
                        break
                    opened.pop()
                    value = items
                else:
                    replies.append(value)
        except Incomplete:
            pass
        self._buffer = bytearray(source[at:]) if at < len(source) else bytearray()
        return replies


class _ArrayStart:
    __slots__ = ("count",)

    def __init__(self, count: int) -> None:
        self.count = count


def _element(buffer: bytes | bytearray, at: int) -> tuple[Reply | _ArrayStart, int]:
    """The scalar reply at `at`, or the start of a non-empty array, and where the next
    element starts; Incomplete when the buffer ends inside it."""
    end = buffer.find(b"\r\n", at)
    if end < 0:
        raise _INCOMPLETE
    kind = buffer[at]
    line = buffer[at + 1 : end]
    if kind == _INTEGER:
        return _number(line), end + 2
    if kind == _BULK:
        size = _number(line)
        if size < 0:
            return None, end + 2
        if size > _MAX_BULK:
            raise ProtocolError(f"bulk string of {size} bytes")
        start, stop = end + 2, end + 2 + size
        if len(buffer) < stop + 2:
            raise _INCOMPLETE
        if buffer[stop : stop + 2] != b"\r\n":
            raise ProtocolError("bulk string not followed by CRLF")
        return bytes(buffer[start:stop]), stop + 2
    if kind == _SIMPLE:
        return line.decode("utf-8", "replace"), end + 2
    if kind == _ERROR:
        return ReplyError(line.decode("utf-8", "replace")), end + 2
    if kind == _ARRAY:
        count = _number(line)
        if count < 0:
            return None, end + 2
        return ([] if count == 0 else _ArrayStart(count)), end + 2
    raise ProtocolError(f"unknown reply type {bytes([kind])!r}")


def _number(text: bytes | bytearray) -> int:
    try:
        return int(text)
    except ValueError:
        raise ProtocolError(f"not a number: {bytes(text[:20])!r}") from None
