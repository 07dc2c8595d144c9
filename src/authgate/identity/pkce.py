"""Proof Key for Code Exchange (RFC 7636) with the S256 method, the only one Cognito accepts.

Pure: no I/O.
"""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Final

from authgate.security.compare import constant_time_equals

S256: Final = "S256"
_VERIFIER: Final = re.compile(r"[A-Za-z0-9._~-]{43,128}")
"""RFC 7636 §4.1: 43 to 128 unreserved characters."""
_CHALLENGE: Final = re.compile(r"[A-Za-z0-9_-]{43}")
"""BASE64URL-ENCODE(SHA256(verifier)) without padding is always 43 characters."""


def valid_challenge(challenge: str) -> bool:
    return bool(_CHALLENGE.fullmatch(challenge))


def s256(verifier: str) -> str:
    """RFC 7636 §4.2: BASE64URL-ENCODE(SHA256(ASCII(code_verifier)))."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def verifier_matches(verifier: str, challenge: str) -> bool:
    """RFC 7636 §4.6, in constant time; a malformed verifier never matches."""
    if not _VERIFIER.fullmatch(verifier):
        return False
    return constant_time_equals(s256(verifier), challenge)
