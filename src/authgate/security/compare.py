"""Comparisons of secret values that take the same time whatever the inputs hold."""

from __future__ import annotations

import hashlib
import hmac


def constant_time_equals(a: str | bytes, b: str | bytes) -> bool:
    """Equality whose timing reveals nothing about where two secrets first differ."""
    left = a.encode("utf-8") if isinstance(a, str) else a
    right = b.encode("utf-8") if isinstance(b, str) else b
    return hmac.compare_digest(left, right)


def token_digest(token: str) -> str:
    """The SHA-256 hex digest under which a session token is stored (never the token itself)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def token_matches(token: str, digest: str) -> bool:
    """Does a presented session token hash to the stored digest?"""
    return constant_time_equals(token_digest(token), digest)
