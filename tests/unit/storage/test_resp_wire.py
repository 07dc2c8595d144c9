"""RESP2 encoding and parsing, byte for byte."""

from __future__ import annotations

import pytest

from authgate.storage.resp_wire import ProtocolError, ReplyError, ReplyReader, encode


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
        (b"*2\r\n*1\r\n*0\r\n*1\r\n:2\r\n", [[[]], [2]]),
    ],
)
def test_each_reply_type(wire: bytes, reply: object) -> None:
    assert ReplyReader().feed(wire + b":7\r\n") == [reply, 7]


def test_an_error_reply_is_returned_with_its_code() -> None:
    (error,) = ReplyReader().feed(b"-NOSCRIPT No matching script.\r\n")
    assert isinstance(error, ReplyError)
    assert (error.code, str(error)) == ("NOSCRIPT", "NOSCRIPT No matching script.")


WIRE = b"*3\r\n$5\r\nhello\r\n:42\r\n*1\r\n-ERR x\r\n:9\r\n"


def test_a_reply_cut_anywhere_comes_out_whole_once_its_last_byte_arrives() -> None:
    whole = ReplyReader().feed(WIRE)
    assert len(whole) == 2
    assert whole[0][:2] == [b"hello", 42]  # type: ignore[index]
    assert whole[1] == 9
    for cut in range(1, len(WIRE)):
        reader = ReplyReader()
        first = reader.feed(WIRE[:cut])
        assert len(first) == (1 if cut >= len(WIRE) - 4 else 0)
        assert [repr(r) for r in first + reader.feed(WIRE[cut:])] == [repr(r) for r in whole]


def test_a_reply_fed_byte_by_byte_is_parsed_as_it_comes() -> None:
    reader = ReplyReader()
    seen = [reader.feed(WIRE[i : i + 1]) for i in range(len(WIRE))]
    complete = [i for i, replies in enumerate(seen) if replies]
    assert complete == [len(WIRE) - 5, len(WIRE) - 1]  # the array at its last byte, then :9


def test_a_large_array_in_pieces_is_parsed_once() -> None:
    count = 20_000
    wire = b"*%d\r\n" % count + b"".join(b"$6\r\nkey%03d\r\n" % (n % 1000) for n in range(count))
    reader = ReplyReader()
    replies: list[object] = []
    for at in range(0, len(wire), 4096):
        replies += reader.feed(wire[at : at + 4096])
        assert len(reader._buffer) < 4096 + 16  # only a partial element is ever kept
    assert len(replies) == 1
    assert len(replies[0]) == count  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "wire",
    [b"!3\r\nabc\r\n", b":12a\r\n", b"$x\r\n", b"$3\r\nabcd\r\n", b"$999999999999\r\n"],
)
def test_bytes_that_are_not_resp2_are_a_protocol_error(wire: bytes) -> None:
    with pytest.raises(ProtocolError):
        ReplyReader().feed(wire)
