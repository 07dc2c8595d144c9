"""Keys that verify JWTs: RSA keys read from an issuer's JWKS, or a configured shared secret.

A JWKS only ever yields RSA keys: an `oct` (HMAC) entry in a fetched document is ignored, so a
remote party can never turn a public key into a shared secret. Each key carries its type, which
the verifier matches against the token's `alg` (RFC 8725 §2.1, §3.1). Pure: no I/O (the caller
fetches the document with its own size and time limits).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric import rsa

RSA_ALGORITHMS = frozenset({"RS256", "RS384", "RS512"})
HMAC_ALGORITHMS = frozenset({"HS256", "HS384", "HS512"})
MIN_RSA_BITS = 2048
MAX_RSA_BITS = 8192
"""Above this a signature check gets slow enough to be a lever for denial of service."""
MIN_SECRET_BYTES = 32
"""RFC 7518 §3.2: an HMAC key at least as long as the hash output."""
MAX_JWKS_BYTES = 150_000
"""API Gateway's limit for a JWKS response."""
MAX_JWKS_KEYS = 100
MAX_KID_LENGTH = 256

_B64URL = re.compile(r"[A-Za-z0-9_-]*")


class JwksError(ValueError):
    """The document is not a JWKS at all (single unusable keys are skipped, not raised)."""


def b64url_decode(segment: str) -> bytes | None:
    """Strict base64url without padding (RFC 7515 §2); None for anything else."""
    if len(segment) % 4 == 1 or not _B64URL.fullmatch(segment):
        return None
    try:
        return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except (binascii.Error, ValueError):
        return None


@dataclass(frozen=True, slots=True)
class RsaKey:
    kid: str | None
    public_key: rsa.RSAPublicKey
    alg: str | None = None
    """The JWK's own `alg`, when it names one: tokens must then use exactly that."""
    size: int = field(init=False)
    """Modulus length in bytes: every valid signature has exactly this length."""

    def __post_init__(self) -> None:
        bits = self.public_key.key_size
        if not MIN_RSA_BITS <= bits <= MAX_RSA_BITS:
            raise ValueError(f"RSA key of {bits} bits; {MIN_RSA_BITS}-{MAX_RSA_BITS} accepted")
        if self.alg is not None and self.alg not in RSA_ALGORITHMS:
            raise ValueError(f"{self.alg!r} is not an RSA signature algorithm")
        object.__setattr__(self, "size", (bits + 7) // 8)


@dataclass(frozen=True, slots=True, repr=False)
class HmacKey:
    """A shared secret; `repr` never shows it."""

    kid: str | None
    secret: bytes

    def __post_init__(self) -> None:
        if len(self.secret) < MIN_SECRET_BYTES:
            raise ValueError(f"an HMAC secret needs at least {MIN_SECRET_BYTES} bytes")

    def __repr__(self) -> str:
        return f"HmacKey(kid={self.kid!r})"


VerificationKey = RsaKey | HmacKey


class KeySet:
    """An immutable kid → key map; `default` answers tokens that name no kid."""

    __slots__ = ("_by_kid", "_default")

    def __init__(
        self, keys: Iterable[VerificationKey] = (), *, default: VerificationKey | None = None
    ) -> None:
        by_kid: dict[str, VerificationKey] = {}
        for key in keys:
            if key.kid is not None:
                by_kid.setdefault(key.kid, key)
        self._by_kid = by_kid
        self._default = default

    def find(self, kid: str | None) -> VerificationKey | None:
        return self._default if kid is None else self._by_kid.get(kid)

    def __len__(self) -> int:
        return len(self._by_kid)

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_kid)


class SharedSecret:
    """The key source of a shared-secret issuer: one HMAC key, for tokens naming `kid` when
    one is configured, else for any token (HS issuers often name a kid nobody agreed on)."""

    __slots__ = ("_key",)

    def __init__(self, secret: bytes, kid: str | None = None) -> None:
        self._key = HmacKey(kid, secret)

    def __repr__(self) -> str:
        return f"SharedSecret(kid={self._key.kid!r})"

    def find(self, kid: str | None) -> VerificationKey | None:
        return self._key if self._key.kid is None or kid == self._key.kid else None


def parse_jwks_bytes(data: bytes, *, max_bytes: int = MAX_JWKS_BYTES) -> KeySet:
    if len(data) > max_bytes:
        raise JwksError(f"JWKS larger than {max_bytes} bytes")
    try:
        document = json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise JwksError("JWKS is not JSON") from exc
    return parse_jwks(document)


def parse_jwks(document: object, *, max_keys: int = MAX_JWKS_KEYS) -> KeySet:
    """The usable signature keys of a JWKS (RFC 7517 §5): RSA, `use` sig (or absent), a kid.

    Other entries (EC, `oct`, encryption keys, short moduli) are skipped, as verifiers must
    ignore keys they do not understand (RFC 7517 §5); the first of duplicate kids wins.
    """
    if not isinstance(document, dict):
        raise JwksError("JWKS is not a JSON object")
    entries = document.get("keys")
    if not isinstance(entries, list):
        raise JwksError("JWKS has no 'keys' array")
    if len(entries) > max_keys:
        raise JwksError(f"JWKS lists more than {max_keys} keys")
    keys = [key for entry in entries if (key := _rsa_key(entry)) is not None]
    return KeySet(keys)


def _rsa_key(entry: object) -> RsaKey | None:
    if not isinstance(entry, dict) or entry.get("kty") != "RSA":
        return None
    kid, alg, use, ops = entry.get("kid"), entry.get("alg"), entry.get("use"), entry.get("key_ops")
    if not isinstance(kid, str) or not 0 < len(kid) <= MAX_KID_LENGTH:
        return None
    if use is not None and use != "sig":
        return None
    if ops is not None and (not isinstance(ops, list) or "verify" not in ops):
        return None
    if alg is not None and alg not in RSA_ALGORITHMS:
        return None
    n, e = _big_int(entry.get("n")), _big_int(entry.get("e"))
    if n is None or e is None or e.bit_length() > 32:
        return None
    try:
        public_key = rsa.RSAPublicNumbers(e, n).public_key()
        return RsaKey(kid, public_key, alg)
    except ValueError:
        return None


def _big_int(value: object) -> int | None:
    if not isinstance(value, str) or len(value) > (MAX_RSA_BITS // 6) + 2:
        return None
    raw = b64url_decode(value)
    return int.from_bytes(raw, "big") if raw else None
