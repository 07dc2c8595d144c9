"""Reading an issuer's JWKS: which entries become keys, and which documents are refused."""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from authgate.authorizers.jwks import (
    HmacKey,
    JwksError,
    RsaKey,
    parse_jwks,
    parse_jwks_bytes,
)
from authgate.authorizers.jwt_verify import Reason, Rejected, VerifierConfig, verify
from authgate.identity.keys import SigningKey, b64url, jwks, public_jwk
from authgate.identity.tokens import access_token
from tests.unit.authorizers.conftest import LIFETIME, NOW, SECRET, SIGN_IN


def entry(key: SigningKey, **changes: object) -> dict[str, object]:
    jwk: dict[str, object] = dict(key.public_jwk())
    jwk.update(changes)
    return {k: v for k, v in jwk.items() if v is not None}


def test_pool_jwks_yields_both_keys(id_key: SigningKey, access_key: SigningKey) -> None:
    keys = parse_jwks(jwks([id_key, access_key]))
    assert sorted(keys) == sorted([id_key.kid, access_key.kid])
    found = keys.find(access_key.kid)
    assert isinstance(found, RsaKey)
    assert found.public_key.public_numbers() == access_key.private_key.public_key().public_numbers()
    assert found.alg == "RS256"
    assert found.size == 256
    assert keys.find(None) is None


@pytest.mark.parametrize(
    "changes",
    [
        {"kty": "EC"},
        {"use": "enc"},
        {"alg": "RSA-OAEP"},
        {"alg": "HS256"},
        {"key_ops": ["encrypt"]},
        {"kid": None},
        {"kid": ""},
        {"n": None},
        {"n": "not base64url!"},
        {"e": "AQAB" * 20},
        {"e": "AA"},  # e = 0
    ],
)
def test_unusable_entries_are_skipped(changes: dict[str, object], id_key: SigningKey) -> None:
    assert len(parse_jwks({"keys": [entry(id_key, **changes)]})) == 0


def test_oct_keys_in_a_fetched_jwks_are_never_used() -> None:
    document = {"keys": [{"kty": "oct", "kid": "k", "k": b64url(SECRET), "alg": "HS256"}]}
    keys = parse_jwks(document)
    assert keys.find("k") is None


def test_short_rsa_moduli_are_skipped() -> None:
    short = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505
    assert len(parse_jwks({"keys": [public_jwk(short.public_key(), "short")]})) == 0
    with pytest.raises(ValueError, match="1024 bits"):
        RsaKey("short", short.public_key())


def test_first_of_duplicate_kids_wins(id_key: SigningKey, access_key: SigningKey) -> None:
    keys = parse_jwks({"keys": [entry(id_key, kid="same"), entry(access_key, kid="same")]})
    found = keys.find("same")
    assert isinstance(found, RsaKey)
    assert found.public_key.public_numbers() == id_key.private_key.public_key().public_numbers()


def test_key_pinned_to_another_rsa_alg_refuses_rs256_tokens(access_key: SigningKey) -> None:
    keys = parse_jwks({"keys": [entry(access_key, alg="RS512")]})
    config = VerifierConfig(
        issuers=frozenset({SIGN_IN.issuer}), algorithms=frozenset({"RS256", "RS512"})
    )
    token = access_token(access_key, SIGN_IN, now=NOW, lifetime=LIFETIME)
    result = verify(token, keys, config, now=NOW)
    assert isinstance(result, Rejected)
    assert result.reason is Reason.ALG_NOT_ALLOWED


def test_entries_without_alg_or_use_are_accepted(access_key: SigningKey) -> None:
    keys = parse_jwks({"keys": [entry(access_key, alg=None, use=None, key_ops=["verify"])]})
    assert access_key.kid in keys


@pytest.mark.parametrize(
    "document", [[], {"keys": {}}, {}, {"keys": [{"kty": "RSA"}] * 101}, "keys"]
)
def test_documents_that_are_not_a_jwks_are_refused(document: object) -> None:
    with pytest.raises(JwksError):
        parse_jwks(document)


def test_bytes_are_capped_and_must_be_json(id_key: SigningKey) -> None:
    data = json.dumps(jwks([id_key])).encode()
    assert id_key.kid in parse_jwks_bytes(data)
    with pytest.raises(JwksError, match="larger"):
        parse_jwks_bytes(data + b" " * 150_000)
    with pytest.raises(JwksError, match="not JSON"):
        parse_jwks_bytes(b"<html>")


def test_hmac_key_repr_hides_the_secret() -> None:
    assert SECRET.decode() not in repr(HmacKey("k", SECRET))
