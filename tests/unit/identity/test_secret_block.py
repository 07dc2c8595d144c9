"""SECRET_BLOCK carries the SRP challenge between the two calls: it opens only with the right key
and context, unaltered and in time, and gives back exactly what was sealed."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from authgate.identity import secret_block, srp
from authgate.identity.srp import SrpRejected

KEY = bytes(range(32))
CONTEXT = "us-east-1_TestPool1/client-1"
NOW = 1_767_225_600.0

CHALLENGE = srp.Challenge(
    user_id="34c84488-e0e1-70ae-d2ee-991ad1a898c8",
    big_a=pow(srp.G, 0xA465A851, srp.N),
    small_b=0x2B77AEC05C88750B3530E0C993677F2C7AC6A60ECD5042341B3BE1AD82D37814,
    big_b=pow(srp.G, 0x5DEEC591, srp.N),
)


def sealed(*, key: bytes = KEY, random_bytes: Callable[[int], bytes] = secrets.token_bytes) -> str:
    return secret_block.seal(
        CHALLENGE, key=key, context=CONTEXT, issued_at=NOW, random_bytes=random_bytes
    )


def test_a_sealed_block_opens_to_the_same_challenge() -> None:
    text = sealed()
    opened = secret_block.open_block(text, key=KEY, context=CONTEXT, now=NOW + 2)
    assert opened.challenge == CHALLENGE
    assert opened.issued_at == int(NOW)
    assert len(opened.block_id) == secret_block.BLOCK_ID_BYTES
    assert base64.b64encode(base64.b64decode(text)).decode() == text
    assert 800 < len(text) < 1400


def test_blocks_differ_every_time_and_hide_the_challenge() -> None:
    texts = {sealed() for _ in range(20)}
    assert len(texts) == 20
    ids = {secret_block.open_block(t, key=KEY, context=CONTEXT, now=NOW).block_id for t in texts}
    assert len(ids) == 20
    raw = base64.b64decode(texts.pop())
    assert CHALLENGE.user_id.encode() not in raw
    assert srp.pad(CHALLENGE.small_b)[-16:] not in raw


def test_injected_randomness_makes_sealing_deterministic() -> None:
    def source(size: int) -> bytes:
        return bytes([7]) * size

    assert sealed(random_bytes=source) == sealed(random_bytes=source)


def test_the_wrong_key_or_context_does_not_open_it() -> None:
    text = sealed()
    with pytest.raises(SrpRejected, match="secret_block_forged"):
        secret_block.open_block(text, key=bytes(32), context=CONTEXT, now=NOW)
    with pytest.raises(SrpRejected, match="secret_block_forged"):
        secret_block.open_block(text, key=KEY, context="us-east-1_TestPool1/client-2", now=NOW)


def test_every_altered_byte_is_noticed() -> None:
    raw = base64.b64decode(sealed())
    for index in range(len(raw)):
        changed = bytearray(raw)
        changed[index] ^= 0x80
        text = base64.b64encode(bytes(changed)).decode()
        with pytest.raises(SrpRejected) as caught:
            secret_block.open_block(text, key=KEY, context=CONTEXT, now=NOW)
        assert caught.value.reason in {"secret_block_forged", "secret_block_malformed"}, index


@pytest.mark.parametrize(
    "text",
    [
        "",
        "not base64!",
        "AQ==",
        base64.b64encode(b"\x01" + bytes(12)).decode(),
        "A" * 5000,
        sealed() + "\n",
        sealed() + "====",
        " " + sealed(),
        "é",
    ],
)
def test_garbage_is_refused_as_malformed(text: str) -> None:
    with pytest.raises(SrpRejected, match="secret_block_malformed"):
        secret_block.open_block(text, key=KEY, context=CONTEXT, now=NOW)


def test_a_truncated_block_is_refused() -> None:
    raw = base64.b64decode(sealed())
    for keep, reason in [
        (13, "malformed"),
        (14, "forged"),
        (40, "forged"),
        (len(raw) - 1, "forged"),
    ]:
        text = base64.b64encode(raw[:keep]).decode()
        with pytest.raises(SrpRejected, match=f"secret_block_{reason}"):
            secret_block.open_block(text, key=KEY, context=CONTEXT, now=NOW)


def test_blocks_expire_and_are_not_accepted_from_the_future() -> None:
    text = sealed()
    secret_block.open_block(text, key=KEY, context=CONTEXT, now=NOW + 300)
    secret_block.open_block(text, key=KEY, context=CONTEXT, now=NOW + 60, max_age=60)
    secret_block.open_block(text, key=KEY, context=CONTEXT, now=NOW - 5)
    for now, max_age in [(NOW + 301, 300.0), (NOW + 61, 60), (NOW - 6, 300.0)]:
        with pytest.raises(SrpRejected, match="secret_block_expired"):
            secret_block.open_block(text, key=KEY, context=CONTEXT, now=now, max_age=max_age)


def test_keys_must_be_256_bits() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        sealed(key=bytes(16))
    with pytest.raises(ValueError, match="32 bytes"):
        secret_block.open_block(sealed(), key=bytes(31), context=CONTEXT, now=NOW)


@settings(max_examples=50, deadline=None)
@given(
    user_id=st.text(min_size=0, max_size=128),
    big_a=st.integers(min_value=0, max_value=srp.N - 1),
    small_b=st.integers(min_value=0, max_value=2**256 - 1),
    big_b=st.integers(min_value=0, max_value=srp.N - 1),
)
def test_property_any_challenge_survives_sealing(
    user_id: str, big_a: int, small_b: int, big_b: int
) -> None:
    challenge = srp.Challenge(user_id, big_a, small_b, big_b)
    text = secret_block.seal(challenge, key=KEY, context=CONTEXT, issued_at=NOW)
    assert secret_block.open_block(text, key=KEY, context=CONTEXT, now=NOW).challenge == challenge
