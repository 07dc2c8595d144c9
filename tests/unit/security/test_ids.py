"""Random identifiers have AWS's shapes, and secret comparisons are exact."""

from __future__ import annotations

import re

import pytest

from authgate.security import ids
from authgate.security.compare import constant_time_equals, token_digest, token_matches


@pytest.mark.parametrize("prefix", ["AIDA", "AGPA", "AROA", "ANPA"])
def test_unique_ids(prefix: str) -> None:
    drawn = {ids.unique_id(prefix) for _ in range(500)}
    assert len(drawn) == 500
    for value in drawn:
        assert re.fullmatch(prefix + r"[A-Z2-7]{17}", value), value


def test_access_key_ids() -> None:
    long_term = {ids.access_key_id() for _ in range(500)}
    temporary = {ids.access_key_id(temporary=True) for _ in range(500)}
    assert len(long_term) == len(temporary) == 500
    assert all(re.fullmatch(r"AKIA[A-Z2-7]{16}", k) for k in long_term)
    assert all(re.fullmatch(r"ASIA[A-Z2-7]{16}", k) for k in temporary)


def test_secrets_and_tokens() -> None:
    secrets = {ids.secret_access_key() for _ in range(500)}
    assert len(secrets) == 500
    assert all(re.fullmatch(r"[A-Za-z0-9+/]{40}", s) for s in secrets)
    tokens = {ids.session_token() for _ in range(100)}
    assert len(tokens) == 100
    for token in tokens:
        assert token.startswith("IQoJb3JpZ2luX2Vj")
        assert re.fullmatch(r"[A-Za-z0-9_-]{140,}", token)


def test_constant_time_equals() -> None:
    assert constant_time_equals("abc", "abc")
    assert constant_time_equals(b"abc", "abc")
    assert not constant_time_equals("abc", "abd")
    assert not constant_time_equals("abc", "abcd")
    assert constant_time_equals("é", "é".encode())


def test_token_digest() -> None:
    token = ids.session_token()
    digest = token_digest(token)
    assert re.fullmatch(r"[0-9a-f]{64}", digest)
    assert token not in digest
    assert token_matches(token, digest)
    assert not token_matches(token + "x", digest)
    assert token_digest("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
