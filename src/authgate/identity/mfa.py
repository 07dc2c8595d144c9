"""Software-token MFA: TOTP secrets, otpauth:// URIs for authenticator apps, code checks.

Cognito's TOTP is RFC 6238 with its defaults: HMAC-SHA1, 6 digits, 30-second steps from the
epoch, and it accepts the code of the step before and after the current one. A code is good
once: `verify` returns the time step it matched, the caller stores it, and passes it back as
`last_used_step` so that step and every earlier one are refused (RFC 6238 §5.2).

Pure: no I/O. The time is `now`; randomness comes from the caller.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import struct
from typing import Final
from urllib.parse import quote, urlencode

from authgate.identity.srp import RandomBytes

DIGITS: Final = 6
STEP_SECONDS: Final = 30
WINDOW_STEPS: Final = 1
"""Steps accepted either side of the current one (Cognito: codes 30 s early or late)."""
SECRET_BYTES: Final = 32
"""Random bytes behind a SecretCode: RFC 4648 base32 of 32 bytes is 52 characters
(userpool-model §5.5; the API model asks only for 16+ of `[A-Za-z0-9]`)."""


def generate_secret(
    *, random_bytes: RandomBytes = secrets.token_bytes, size: int = SECRET_BYTES
) -> str:
    """AssociateSoftwareToken's `SecretCode`: upper-case base32 without `=` padding."""
    if size < 16:
        raise ValueError("a TOTP secret needs at least 128 bits (RFC 4226 §4 asks for 160)")
    raw = random_bytes(size)
    if len(raw) != size:
        raise ValueError(f"the random source returned {len(raw)} bytes, not {size}")
    return base64.b32encode(raw).decode("ascii").rstrip("=")


def secret_key(secret: str) -> bytes:
    """The HMAC key a base32 SecretCode stands for (any case, padding optional)."""
    text = secret.upper()
    try:
        return base64.b32decode(text + "=" * (-len(text) % 8))
    except (binascii.Error, ValueError):
        raise ValueError("not a base32 TOTP secret") from None


def hotp(key: bytes, counter: int, *, digits: int = DIGITS) -> str:
    """RFC 4226 §5.3: dynamic truncation of HMAC-SHA1(key, counter), as `digits` digits."""
    if not 0 <= counter < 2**64:
        raise ValueError("an HOTP counter is an unsigned 64-bit number")
    mac = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    (value,) = struct.unpack_from(">I", mac, offset)
    return f"{(value & 0x7FFFFFFF) % 10**digits:0{digits}d}"


def time_step(epoch: float) -> int:
    """RFC 6238 §4.2: `T = floor((now - T0) / X)` with T0 = 0 and X = 30 s."""
    return int(epoch // STEP_SECONDS)


def totp(key: bytes, epoch: float, *, digits: int = DIGITS) -> str:
    """The code an authenticator app shows at `epoch`."""
    return hotp(key, time_step(epoch), digits=digits)


def verify(
    secret: str,
    code: str,
    *,
    now: float,
    last_used_step: int | None,
    window: int = WINDOW_STEPS,
) -> int | None:
    """The time step `code` belongs to, or None if it is wrong, too old or already used.

    Only steps after `last_used_step` count, so a code (or an older one) cannot be replayed.
    Every candidate step is compared, in constant time, whether or not an earlier one matched.
    """
    if len(code) != DIGITS or not code.isascii() or not code.isdigit():
        return None
    key = secret_key(secret)
    current = time_step(now)
    matched: int | None = None
    for step in range(max(0, current - window), current + window + 1):
        fresh = last_used_step is None or step > last_used_step
        if hmac.compare_digest(hotp(key, step), code) and fresh and matched is None:
            matched = step
    return matched


def otpauth_uri(secret: str, *, account: str, issuer: str) -> str:
    """Key URI for a QR code (Google Authenticator's `otpauth://totp/Issuer:account?…` form).

    Cognito leaves this to the client; the hosted UI and console build it from the SecretCode.
    """
    label = f"{quote(issuer, safe='@')}:{quote(account, safe='@')}"  # a colon inside is escaped
    query = urlencode(
        {
            "secret": secret,
            "issuer": issuer,
            "algorithm": "SHA1",
            "digits": DIGITS,
            "period": STEP_SECONDS,
        },
        quote_via=quote,
    )
    return f"otpauth://totp/{label}?{query}"
