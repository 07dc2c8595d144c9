"""Redis URLs as the counter store reads them."""

from __future__ import annotations

import pytest

from authgate.storage.resp_client import Address


def test_every_part_of_a_url() -> None:
    address = Address.from_url(
        "rediss://svc%40acme:p%3Ass@cache.internal:6380/3?socket_timeout=0.25"
    )
    assert address == Address(
        host="cache.internal",
        port=6380,
        db=3,
        username="svc@acme",
        password="p:ss",
        tls=True,
        timeout=0.25,
    )
    assert "p:ss" not in repr(address)


def test_defaults() -> None:
    assert Address.from_url("redis://h", timeout=2.0) == Address(
        "h", 6379, 0, None, None, False, 2.0
    )
    assert Address.from_url("redis://:secret@h/").password == "secret"


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://h", "not a redis"),
        ("redis://", "no host"),
        ("redis://h/zero", "must be a number"),
        ("redis://h?ssl_cert_reqs=none", "unsupported Redis URL option 'ssl_cert_reqs'"),
        ("redis://h?socket_timeout=0", "positive"),
    ],
)
def test_what_is_refused(url: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        Address.from_url(url)
