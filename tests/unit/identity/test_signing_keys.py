"""User-pool signing keys: kids, sealed-storage round trip, JWKS entries, rotation rule."""

from __future__ import annotations

import base64
import re

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from authgate.identity.keys import (
    KeyFormatError,
    KeyRecord,
    SigningKey,
    TokenUse,
    active_record,
    generate_signing_key,
    jwks,
    private_key_bytes,
    published,
    rotate,
    signing_key_from_bytes,
)

DAY = 86400.0


@pytest.fixture(scope="module")
def key() -> SigningKey:
    return generate_signing_key()


def test_generated_key_is_rsa_2048_with_exponent_65537(key: SigningKey) -> None:
    assert key.private_key.key_size == 2048
    assert key.private_key.public_key().public_numbers().e == 65537


def test_kid_looks_like_aws_kids(key: SigningKey) -> None:
    # base64 of a SHA-256: 44 characters ending in "="
    assert re.fullmatch(r"[A-Za-z0-9+/]{43}=", key.kid)
    assert len(base64.b64decode(key.kid)) == 32


def test_distinct_keys_have_distinct_kids(key: SigningKey) -> None:
    assert generate_signing_key().kid != key.kid


def test_private_key_survives_a_round_trip_through_bytes(key: SigningKey) -> None:
    data = private_key_bytes(key)
    again = signing_key_from_bytes(data)
    assert again.kid == key.kid
    assert again.private_key.private_numbers() == key.private_key.private_numbers()


def test_repr_does_not_show_the_key(key: SigningKey) -> None:
    text = repr(key)
    assert key.kid in text
    assert str(key.private_key.private_numbers().d)[:20] not in text
    assert "private" not in text.lower()


def test_garbage_bytes_are_refused() -> None:
    with pytest.raises(KeyFormatError):
        signing_key_from_bytes(b"not a key")


def test_non_rsa_keys_are_refused() -> None:
    data = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    with pytest.raises(KeyFormatError, match="not an RSA"):
        signing_key_from_bytes(data)


def test_short_rsa_keys_are_refused() -> None:
    short = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505
    data = short.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    with pytest.raises(KeyFormatError, match="1024 bits"):
        signing_key_from_bytes(data)


def test_jwks_entry_has_cognitos_members_and_order(key: SigningKey) -> None:
    document = jwks([key])
    assert list(document) == ["keys"]
    (entry,) = document["keys"]
    assert list(entry) == ["alg", "e", "kid", "kty", "n", "use"]
    assert entry["alg"] == "RS256"
    assert entry["e"] == "AQAB"
    assert entry["kid"] == key.kid
    assert entry["kty"] == "RSA"
    assert entry["use"] == "sig"
    n = int.from_bytes(base64.urlsafe_b64decode(entry["n"] + "=" * (-len(entry["n"]) % 4)))
    assert n == key.private_key.public_key().public_numbers().n
    assert "=" not in entry["n"]
    assert len(entry["n"]) == 342  # 256 bytes, unpadded base64url, no leading zero byte


def test_jwks_lists_keys_in_the_order_given(key: SigningKey) -> None:
    other = generate_signing_key()
    assert [k["kid"] for k in jwks([other, key])["keys"]] == [other.kid, key.kid]


# Rotation -------------------------------------------------------------------------------------


def test_rotation_makes_the_new_key_active_and_retires_the_old_one() -> None:
    records = (KeyRecord("id-1", TokenUse.ID, 0.0), KeyRecord("access-1", TokenUse.ACCESS, 0.0))
    after = rotate(records, TokenUse.ID, "id-2", 100.0)
    active = active_record(after, TokenUse.ID)
    assert active is not None
    assert active.kid == "id-2"
    assert {r.kid: r.retired_at for r in after} == {"id-1": 100.0, "access-1": None, "id-2": None}
    access = active_record(after, TokenUse.ACCESS)
    assert access is not None
    assert access.kid == "access-1"


def test_rotation_refuses_a_kid_already_in_use() -> None:
    records = (KeyRecord("id-1", TokenUse.ID, 0.0),)
    with pytest.raises(ValueError, match="already in use"):
        rotate(records, TokenUse.ID, "id-1", 5.0)


def test_no_active_key_before_the_first_one() -> None:
    assert active_record((), TokenUse.ID) is None


def test_retired_key_is_published_until_its_last_token_expires() -> None:
    records = rotate((KeyRecord("old", TokenUse.ID, 0.0),), TokenUse.ID, "new", 1000.0)

    def kids(now: float) -> list[str]:
        return [r.kid for r in published(records, now=now, max_token_lifetime=DAY)]

    assert kids(1000.0) == ["old", "new"]
    assert kids(1000.0 + DAY - 1) == ["old", "new"]
    assert kids(1000.0 + DAY) == ["new"]


def test_skew_keeps_a_retired_key_published_longer() -> None:
    records = rotate((KeyRecord("old", TokenUse.ID, 0.0),), TokenUse.ID, "new", 0.0)
    listed = published(records, now=DAY + 10, max_token_lifetime=DAY, skew=30.0)
    assert [r.kid for r in listed] == ["old", "new"]
    listed = published(records, now=DAY + 30, max_token_lifetime=DAY, skew=30.0)
    assert [r.kid for r in listed] == ["new"]


def test_several_rotations_publish_only_keys_with_live_tokens() -> None:
    records: tuple[KeyRecord, ...] = (KeyRecord("k0", TokenUse.ACCESS, 0.0),)
    for i, at in enumerate((10 * DAY, 10.5 * DAY, 20 * DAY), start=1):
        records = rotate(records, TokenUse.ACCESS, f"k{i}", at)
    listed = published(records, now=20 * DAY + 60, max_token_lifetime=DAY)
    # k0 retired at day 10 (gone by day 11); k1 retired at day 10.5 (gone by 11.5);
    # k2 retired at day 20 (still live); k3 active.
    assert [r.kid for r in listed] == ["k2", "k3"]
