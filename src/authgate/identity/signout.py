"""Ending sessions: RevokeToken (one refresh token and every token issued from it),
GlobalSignOut and AdminUserGlobalSignOut (every session of the user).

Each revocation moves the token status generation, so the gateway refuses the revoked ID and
access tokens from the next request on (AWS's gateway accepts them until they expire).
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from authgate.clock import Clock
from authgate.identity.access import AccessTokens
from authgate.identity.directory import UserDirectory
from authgate.identity.errors import Unauthorized, UnsupportedOperation, UnsupportedTokenType
from authgate.identity.model import UserRecord
from authgate.identity.pools import Pool, PoolService
from authgate.identity.sessions import TokenStatus
from authgate.identity.store import UserPoolStore
from authgate.identity.tokens import refresh_token_digest


class SignOutService:
    def __init__(
        self,
        pools: PoolService,
        directory: UserDirectory,
        store: UserPoolStore,
        access: AccessTokens,
        status: TokenStatus,
        clock: Clock,
    ) -> None:
        self._pools = pools
        self._directory = directory
        self._store = store
        self._access = access
        self._status = status
        self._clock = clock

    async def global_sign_out(self, token: object) -> None:
        caller = await self._access.caller(token)
        await self.sign_out_everywhere(await self._pools.pool(caller.pool_id), caller.user)

    async def admin_global_sign_out(self, pool_id: str, username: object) -> None:
        pool = await self._pools.pool(pool_id)
        await self.sign_out_everywhere(pool, await self._directory.require(pool, username))

    async def sign_out_everywhere(self, pool: Pool, user: UserRecord) -> None:
        now = self._clock.now()
        await self._store.revoke_sessions_of(pool.id, user.username, now)
        await self._directory.change(pool, user, lambda u: replace(u, tokens_valid_after=now))
        self._status.changed()

    async def revoke_token(self, request: Mapping[str, Any]) -> None:
        """RevokeToken: a refresh token of this client; anything else that is not an access or
        ID token is ignored, as RFC 7009 §2.2 answers unknown tokens."""
        client = await self._pools.client(request.get("ClientId"))
        if client.secret is not None:
            given = request.get("ClientSecret")
            if not isinstance(given, str) or not hmac.compare_digest(
                given.encode(), client.secret.encode()
            ):
                raise Unauthorized(f"Unable to verify secret for client {client.id}")
        if not client.settings.token_revocation:
            raise UnsupportedOperation("Token revocation is not enabled for this client")
        token = request.get("Token")
        if not isinstance(token, str) or not token:
            raise UnsupportedTokenType("Only refresh tokens can be revoked")
        if token.count(".") == 2:
            raise UnsupportedTokenType("Only refresh tokens can be revoked")
        digest = refresh_token_digest(token)
        session = None if digest is None else await self._store.session_by_refresh(digest)
        if session is None or session.client_id != client.id:
            return
        if await self._store.revoke_session(session.origin_jti, self._clock.now()):
            self._status.changed()
