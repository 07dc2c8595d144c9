"""User-pool signing keys: RSA-2048 keys, their JWKS entries, and when to publish them.

Cognito signs ID and access tokens with different keys and publishes both in the pool's JWKS
(`{issuer}/.well-known/jwks.json`). A rotated-out key must stay published until every token it
signed has expired, or verifiers that cache the JWKS would refuse valid tokens. Pure: no I/O
(the caller seals `private_key_bytes` with the secret box before storing them).
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

KEY_BITS = 2048
PUBLIC_EXPONENT = 65537
ALGORITHM = "RS256"


class TokenUse(StrEnum):
    """The `token_use` claim, and which key signs that kind of token."""

    ID = "id"
    ACCESS = "access"


class KeyFormatError(ValueError):
    """Stored key bytes are not an RSA private key this pool can sign with."""


def b64url(data: bytes) -> str:
    """Base64url without padding (RFC 7515 §2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _int_bytes(value: int) -> bytes:
    return value.to_bytes((value.bit_length() + 7) // 8, "big")


def public_jwk(public_key: rsa.RSAPublicKey, kid: str) -> dict[str, str]:
    """The JWKS entry, keys in the order Cognito publishes them (RFC 7518 §6.3.1)."""
    numbers = public_key.public_numbers()
    return {
        "alg": ALGORITHM,
        "e": b64url(_int_bytes(numbers.e)),
        "kid": kid,
        "kty": "RSA",
        "n": b64url(_int_bytes(numbers.n)),
        "use": "sig",
    }


def kid_for(public_key: rsa.RSAPublicKey) -> str:
    """Standard base64 of the RFC 7638 thumbprint: 44 characters ending in `=`, as AWS kids look.

    Derived from the key, so a key read back from storage keeps its kid.
    """
    numbers = public_key.public_numbers()
    members = {"e": b64url(_int_bytes(numbers.e)), "kty": "RSA", "n": b64url(_int_bytes(numbers.n))}
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True).encode("ascii")
    return base64.b64encode(hashlib.sha256(canonical).digest()).decode("ascii")


@dataclass(frozen=True, slots=True, repr=False)
class SigningKey:
    """A private key and its kid; `repr` never shows the key."""

    kid: str
    private_key: rsa.RSAPrivateKey

    def __repr__(self) -> str:
        return f"SigningKey(kid={self.kid!r})"

    def public_jwk(self) -> dict[str, str]:
        return public_jwk(self.private_key.public_key(), self.kid)


def generate_signing_key() -> SigningKey:
    private_key = rsa.generate_private_key(public_exponent=PUBLIC_EXPONENT, key_size=KEY_BITS)
    return SigningKey(kid_for(private_key.public_key()), private_key)


def private_key_bytes(key: SigningKey) -> bytes:
    """Unencrypted PKCS#8 DER: only ever stored sealed."""
    return key.private_key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def signing_key_from_bytes(data: bytes) -> SigningKey:
    """The inverse of `private_key_bytes`; refuses anything but an RSA key of at least 2048 bits."""
    try:
        private_key = serialization.load_der_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise KeyFormatError("not a PKCS#8 DER private key") from exc
    if not isinstance(private_key, rsa.RSAPrivateKey):
        raise KeyFormatError("not an RSA private key")
    if private_key.key_size < KEY_BITS:
        raise KeyFormatError(f"RSA key of {private_key.key_size} bits; at least {KEY_BITS} needed")
    return SigningKey(kid_for(private_key.public_key()), private_key)


def jwks(keys: Iterable[SigningKey]) -> dict[str, list[dict[str, str]]]:
    """The `/.well-known/jwks.json` document for these keys, in the order given."""
    return {"keys": [key.public_jwk() for key in keys]}


@dataclass(frozen=True, slots=True)
class KeyRecord:
    """When a key started signing and when a newer key of the same use took over."""

    kid: str
    use: TokenUse
    created_at: float
    retired_at: float | None = None


def active_record(records: Iterable[KeyRecord], use: TokenUse) -> KeyRecord | None:
    """The key that signs new tokens of `use`: the newest one not retired."""
    live = [r for r in records if r.use is use and r.retired_at is None]
    return max(live, key=lambda r: r.created_at, default=None)


def rotate(
    records: Sequence[KeyRecord], use: TokenUse, new_kid: str, now: float
) -> tuple[KeyRecord, ...]:
    """The records after `new_kid` becomes the active key of `use`.

    The previous active key is retired at `now` and stays published (see `published`).
    """
    if any(r.kid == new_kid for r in records):
        raise ValueError(f"kid {new_kid!r} is already in use")
    updated = tuple(
        replace(r, retired_at=now) if r.use is use and r.retired_at is None else r for r in records
    )
    return (*updated, KeyRecord(new_kid, use, now))


def published(
    records: Iterable[KeyRecord],
    *,
    now: float,
    max_token_lifetime: float,
    skew: float = 0.0,
) -> tuple[KeyRecord, ...]:
    """The keys the JWKS must list at `now`, oldest first.

    A key retired at `t` signed its last token at `t` at the latest, which expires by
    `t + max_token_lifetime`; `skew` adds the leeway verifiers allow past `exp`.
    """
    keep = [
        r for r in records if r.retired_at is None or now < r.retired_at + max_token_lifetime + skew
    ]
    return tuple(sorted(keep, key=lambda r: r.created_at))
