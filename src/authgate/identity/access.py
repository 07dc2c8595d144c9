"""The access token of the user-scoped operations (GetUser, ChangePassword, GlobalSignOut, ...).

Only the pool's own RS256 access tokens count: the issuer must be one of our pools, the kid one
of its published keys, `token_use` "access", the scope `aws.cognito.signin.user.admin`, the
token unexpired, its user present and enabled, and its session not revoked. Every failure is
NotAuthorizedException, with Cognito's messages.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from authgate.clock import Clock
from authgate.identity.errors import NotAuthorized
from authgate.identity.keyring import KeyRing
from authgate.identity.model import UserRecord
from authgate.identity.sessions import TokenStatus
from authgate.identity.store import UserPoolStore
from authgate.identity.tokens import NATIVE_SCOPE
from authgate.strict_json import no_duplicate_members

INVALID: Final = "Invalid Access Token"
EXPIRED: Final = "Access Token has expired"
REVOKED: Final = "Access Token has been revoked"
MAX_TOKEN_LENGTH: Final = 16_384


@dataclass(frozen=True, slots=True)
class TokenCaller:
    pool_id: str
    user: UserRecord
    claims: Mapping[str, Any]


def _segment(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise NotAuthorized(INVALID) from None


def _json(raw: bytes) -> dict[str, Any]:
    try:
        value = json.loads(raw, object_pairs_hook=no_duplicate_members)
    except (ValueError, UnicodeError):
        raise NotAuthorized(INVALID) from None
    if not isinstance(value, dict):
        raise NotAuthorized(INVALID)
    return value


class AccessTokens:
    def __init__(
        self, store: UserPoolStore, keys: KeyRing, status: TokenStatus, clock: Clock
    ) -> None:
        self._store = store
        self._keys = keys
        self._status = status
        self._clock = clock

    async def caller(self, token: object, scope: str = NATIVE_SCOPE) -> TokenCaller:
        """The caller of a user-scoped operation, whose access token must hold `scope`
        (`openid` for the OAuth userInfo endpoint)."""
        if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
            raise NotAuthorized(INVALID)
        parts = token.split(".")
        if len(parts) != 3:
            raise NotAuthorized(INVALID)
        header, claims = _json(_segment(parts[0])), _json(_segment(parts[1]))
        pool_id = await self._pool_of(claims.get("iss"))
        key = self._keys.public_keys(pool_id).get(str(header.get("kid")))
        if header.get("alg") != "RS256" or key is None:
            raise NotAuthorized(INVALID)
        try:
            key.verify(
                _segment(parts[2]),
                f"{parts[0]}.{parts[1]}".encode("ascii"),
                padding.PKCS1v15(),
                hashes.SHA256(),
            )
        except (InvalidSignature, UnicodeError):
            raise NotAuthorized(INVALID) from None
        scopes = str(claims.get("scope", "")).split()
        if claims.get("token_use") != "access" or scope not in scopes:
            raise NotAuthorized(INVALID)
        expires = claims.get("exp")
        if not isinstance(expires, int) or expires <= self._clock.now():
            raise NotAuthorized(EXPIRED)
        sub, origin, issued = claims.get("sub"), claims.get("origin_jti"), claims.get("iat")
        if not isinstance(sub, str) or not isinstance(issued, int):
            raise NotAuthorized(INVALID)
        user = await self._store.find_by_sub(pool_id, sub)
        if user is None:
            raise NotAuthorized(REVOKED)
        if not user.enabled:
            raise NotAuthorized("User is disabled.")
        origin_jti = origin if isinstance(origin, str) else None
        if not await self._status.is_active(pool_id, sub, origin_jti, issued):
            raise NotAuthorized(REVOKED)
        return TokenCaller(pool_id, user, claims)

    async def _pool_of(self, issuer: object) -> str:
        """The pool whose issuer this is (`<base URL>/<poolId>`)."""
        if not isinstance(issuer, str) or "/" not in issuer:
            raise NotAuthorized(INVALID)
        pool_id = issuer.rsplit("/", 1)[1]
        if self._status.issuer(pool_id) != issuer or not await self._keys.known(pool_id):
            raise NotAuthorized(INVALID)
        return pool_id
