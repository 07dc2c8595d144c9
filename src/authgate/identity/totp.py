"""TOTP seeds at rest: sealed under the master key, bound to the pool and the user."""

from __future__ import annotations

from authgate.identity.model import UserRecord
from authgate.security.secrets import SecretBox


def _context(pool_id: str, username: str) -> bytes:
    return f"userpool totp seed\x00{pool_id}\x00{username}".encode()


class TotpSeeds:
    def __init__(self, box: SecretBox) -> None:
        self._box = box

    def seal(self, user: UserRecord, secret: str) -> bytes:
        return self._box.seal(secret.encode("ascii"), context=_context(user.pool_id, user.username))

    def open(self, user: UserRecord) -> str | None:
        if user.sealed_totp is None:
            return None
        plain = self._box.open(user.sealed_totp, context=_context(user.pool_id, user.username))
        return plain.decode("ascii")
