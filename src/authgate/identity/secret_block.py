"""SECRET_BLOCK: the SRP challenge state, sealed and handed to the client to bring back.

PASSWORD_VERIFIER arrives without a `Session` from pycognito and warrant-lite (and real Cognito
issues none for USER_SRP_AUTH), so the server's `b`, `A`, `B` and the user travel inside
SECRET_BLOCK, as Cognito's own KMS-encrypted blob does. AES-256-GCM seals them; `context`
(say, pool id and client id) is bound as associated data, so a block issued for one app client
does not open for another; `issued_at` lets the opener refuse old blocks, and `block_id` lets
the caller refuse a block it has already accepted (the block is not single-use by itself).

Random 96-bit nonces: keep a key for well under 2^32 blocks (rotate it with the master key).

Layout (before base64)::

    version (1) | nonce (12) | AES-GCM( issued_at (8) | block_id (16) | user_id | A | b | B ) + tag

where each variable field is a 2-byte length and its bytes. Pure: no I/O.
"""

from __future__ import annotations

import base64
import secrets
import struct
from dataclasses import dataclass
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from authgate.identity.srp import Challenge, RandomBytes, SrpRejected, canonical_b64decode

KEY_BYTES: Final = 32
BLOCK_ID_BYTES: Final = 16
DEFAULT_MAX_AGE: Final = 300.0
"""Seconds a block stays valid; AWS says only that the answer must come "within a few seconds"
of the challenge, and clients may be slow, so this is generous and the caller may tighten it."""

_VERSION: Final = b"\x01"
_NONCE_BYTES: Final = 12
_AAD_PREFIX: Final = b"authgate srp secret block\x00"
_MAX_TEXT: Final = 4096
"""A sealed block is about 1.2 KB of base64; anything far longer is refused before decoding."""
_MAX_FUTURE_SKEW: Final = 5.0
_HEAD: Final = struct.Struct(">Q16s")
_LENGTH: Final = struct.Struct(">H")


@dataclass(frozen=True, slots=True)
class OpenedBlock:
    """A SECRET_BLOCK that opened: the challenge, when it was issued, and its one-use id."""

    challenge: Challenge
    issued_at: int
    block_id: bytes


def seal(
    challenge: Challenge,
    *,
    key: bytes,
    context: str,
    issued_at: float,
    random_bytes: RandomBytes = secrets.token_bytes,
) -> str:
    """SECRET_BLOCK (standard base64) carrying `challenge`."""
    block_id = random_bytes(BLOCK_ID_BYTES)
    nonce = random_bytes(_NONCE_BYTES)
    if len(block_id) != BLOCK_ID_BYTES or len(nonce) != _NONCE_BYTES:
        raise ValueError("the random source returned the wrong number of bytes")
    plain = b"".join(
        [
            _HEAD.pack(int(issued_at), block_id),
            _field(challenge.user_id.encode()),
            _field(_int_bytes(challenge.big_a)),
            _field(_int_bytes(challenge.small_b)),
            _field(_int_bytes(challenge.big_b)),
        ]
    )
    sealed = _aead(key).encrypt(nonce, plain, _aad(context))
    return base64.b64encode(_VERSION + nonce + sealed).decode("ascii")


def open_block(
    text: str,
    *,
    key: bytes,
    context: str,
    now: float,
    max_age: float = DEFAULT_MAX_AGE,
) -> OpenedBlock:
    """The challenge inside a SECRET_BLOCK, or `SrpRejected` if it is foreign, altered or old."""
    if len(text) > _MAX_TEXT:
        raise SrpRejected("secret_block_malformed")
    raw = canonical_b64decode(text, "secret_block_malformed")
    head = len(_VERSION) + _NONCE_BYTES
    if len(raw) <= head or raw[:1] != _VERSION:
        raise SrpRejected("secret_block_malformed")
    try:
        plain = _aead(key).decrypt(raw[1:head], raw[head:], _aad(context))
    except InvalidTag:
        raise SrpRejected("secret_block_forged") from None
    opened = _decode(plain)
    if opened.issued_at > now + _MAX_FUTURE_SKEW or now - opened.issued_at > max_age:
        raise SrpRejected("secret_block_expired")
    return opened


def _aead(key: bytes) -> AESGCM:
    if len(key) != KEY_BYTES:
        raise ValueError(f"a secret-block key is {KEY_BYTES} bytes, not {len(key)}")
    return AESGCM(key)


def _aad(context: str) -> bytes:
    return _AAD_PREFIX + context.encode()


def _int_bytes(n: int) -> bytes:
    return n.to_bytes((n.bit_length() + 7) // 8, "big")


def _field(data: bytes) -> bytes:
    return _LENGTH.pack(len(data)) + data


def _decode(plain: bytes) -> OpenedBlock:
    """Our own authenticated bytes, so a failure here is a bug or a key shared with another
    format; it is still refused rather than trusted."""
    try:
        issued_at, block_id = _HEAD.unpack_from(plain)
        offset = _HEAD.size
        fields: list[bytes] = []
        for _ in range(4):
            (length,) = _LENGTH.unpack_from(plain, offset)
            offset += _LENGTH.size
            if offset + length > len(plain):
                raise ValueError("field runs past the end")
            fields.append(plain[offset : offset + length])
            offset += length
        if offset != len(plain):
            raise ValueError("trailing bytes")
        user_id = fields[0].decode()
    except (struct.error, ValueError):
        raise SrpRejected("secret_block_malformed") from None
    big_a, small_b, big_b = (int.from_bytes(f, "big") for f in fields[1:])
    return OpenedBlock(Challenge(user_id, big_a, small_b, big_b), issued_at, block_id)
