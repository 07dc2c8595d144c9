"""RESP2 encoding and parsing, byte for byte."""

from __future__ import annotations

import pytest

from authgate.storage.resp_wire import Incomplete, ProtocolError, ReplyError, encode, parse


def test_a_command_is_an_array_of_bulk_strings() -> None:
    assert encode(("EVALSHA", b"\x00sha", 2, 0.25, "ключ")) == (
        b"*5\r\n$7\r\nEVALSHA\r\n$4\r\n\x00sha\r\n$1\r\n2\r\n$4\r\n0.25\r\n"
        b"$8\r\n\xd0\xba\xd0\xbb\xd1\x8e\xd1\x87\r\n"
    )


def test_booleans_are_refused_rather_than_sent_as_numbers() -> None:
    with pytest.raises(TypeError):
        encode(("SET", "k", True))


@pytest.mark.parametrize(
    ("wire", "reply"),
    [
        (b":-12\r\n", -12),
        (b"+OK\r\n", "OK"),
        (b"$3\r\nabc\r\n", b"abc"),
        (b"$4\r\na\r\nb\r\n", b"a\r\nb"),  # a bulk string may hold CRLF
        (b"$0\r\n\r\n", b""),
        (b"$-1\r\n", None),
        (b"*-1\r\n", None),
        (b"*0\r\n", []),
        (b"*3\r\n:1\r\n*2\r\n$1\r\nx\r\n$-1\r\n+y\r\n", [1, [b"x", None], "y"]),
    ],
)
def test_each_reply_type(wire: bytes, reply: object) -> None:
    assert parse(wire + b":7\r\n", 0) == (reply, len(wire))


def test_an_error_reply_is_returned_with_its_code() -> None:
    error, end = parse(b"-NOSCRIPT No matching script.\r\n", 0)
    assert isinstance(error, ReplyError)
    assert (error.code, str(error), end) == ("NOSCRIPT", "NOSCRIPT No matching script.", 31)


def test_every_cut_of_a_reply_is_incomplete_never_wrong() -> None:
    wire = b"*3\r\n$5\r\nhello\r\n:42\r\n*1\r\n-ERR x\r\n"
    for cut in range(len(wire)):
        with pytest.raises(Incomplete):
            parse(wire[:cut], 0)
    reply, end = parse(wire, 0)
    assert end == len(wire)
    assert reply[:2] == [b"hello", 42]  # type: ignore[index]


@pytest.mark.parametrize(
    "wire",
    [b"!3\r\nabc\r\n", b":12a\r\n", b"$x\r\n", b"$3\r\nabcd\r\n", b"$999999999999\r\n"],
)
def test_bytes_that_are_not_resp2_are_a_protocol_error(wire: bytes) -> None:
    with pytest.raises(ProtocolError):
        parse(wire, 0)
