"""Whether a user-pool token still stands: the revocation interface for the gateway's authorizers.

AWS's API Gateway keeps accepting a Cognito token after GlobalSignOut or RevokeToken until it
expires; authgate refuses it from the next request on. `TokenStatus` is what an in-process
authorizer asks, after the signature and claims have checked out:

    status.generation                 int; moves on every revocation, here or in another
                                      process of the fleet (shared through the ChangeFeed)
    await status.is_active(pool_id, sub, origin_jti, issued_at) -> bool
    status.issuer(pool_id)            `<public base URL>/<poolId>`, the tokens' `iss`
    status.verification_keys(pool_id) kid → RSA public key, every key the pool publishes
                                      (follows rotation; empty for an unknown pool)

A token is active when its session (the `origin_jti` claim, one per authentication, shared by
the refresh token and every ID/access token issued from it) is neither revoked (RevokeToken,
GlobalSignOut, AdminUserGlobalSignOut) nor of another pool or user, and its user still exists
and is enabled (AdminDisableUser, AdminDeleteUser, DeleteUser). A token without `origin_jti`
is active if its `sub` is an app client of the pool (client_credentials tokens), or a user
that exists, is enabled and has not signed out globally since `issued_at`.

Answers are remembered in memory until the generation moves, so a caller that caches verified
tokens clears its cache when `generation` changes and asks again; a repeat question costs two
dictionary lookups. Anything unreadable counts as revoked (fail closed).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric import rsa

from authgate.identity.discovery import issuer as pool_issuer
from authgate.identity.keyring import KeyRing
from authgate.identity.store import UserPoolStore

MAX_REMEMBERED = 100_000
"""Answers kept between generations; past this the memory is emptied and refilled on demand."""


@dataclass(frozen=True, slots=True)
class _UserState:
    enabled: bool
    tokens_valid_after: float


@dataclass(frozen=True, slots=True)
class _SessionState:
    pool_id: str
    sub: str
    revoked: bool


class TokenStatus:
    """Revocation state as the gateway sees it. The services call `changed()` after every
    write that can revoke; the change feed calls `bump()` when another process did."""

    def __init__(self, store: UserPoolStore, keys: KeyRing, base_url: Callable[[], str]) -> None:
        self._store = store
        self._keys = keys
        self._base_url = base_url
        self._generation = 0
        self._seen = 0
        self._users: dict[tuple[str, str], _UserState | None] = {}
        self._sessions: dict[str, _SessionState | None] = {}
        self._clients: dict[tuple[str, str], bool] = {}

    # -- the interface for authorizers --------------------------------------------------------
    @property
    def generation(self) -> int:
        return self._generation

    async def is_active(
        self, pool_id: str, sub: str, origin_jti: str | None, issued_at: float
    ) -> bool:
        self._sync()
        if origin_jti is not None:
            session = await self._session(origin_jti)
            if session is None or session.revoked:
                return False
            if session.pool_id != pool_id or session.sub != sub:
                return False
        elif await self._is_client(pool_id, sub):
            return True
        user = await self._user(pool_id, sub)
        if user is None or not user.enabled:
            return False
        return origin_jti is not None or issued_at > user.tokens_valid_after

    def issuer(self, pool_id: str) -> str:
        return pool_issuer(self._base_url(), pool_id)

    def verification_keys(self, pool_id: str) -> Mapping[str, rsa.RSAPublicKey]:
        return self._keys.public_keys(pool_id)

    # -- change notices ------------------------------------------------------------------------
    def changed(self) -> None:
        """Something was revoked, disabled or deleted in this process."""
        self._generation += 1

    def bump(self) -> None:
        """Another process changed user-pool records: forget answers and reload keys."""
        self._generation += 1
        self._keys.reload_soon()

    # -- memory --------------------------------------------------------------------------------
    def _sync(self) -> None:
        if self._seen != self._generation:
            self._forget()
            self._seen = self._generation
        elif len(self._users) + len(self._sessions) + len(self._clients) > MAX_REMEMBERED:
            self._forget()

    def _forget(self) -> None:
        self._users.clear()
        self._sessions.clear()
        self._clients.clear()

    async def _session(self, origin_jti: str) -> _SessionState | None:
        if origin_jti in self._sessions:
            return self._sessions[origin_jti]
        generation = self._generation
        record = await self._store.get_session(origin_jti)
        state = (
            None
            if record is None
            else _SessionState(record.pool_id, record.sub, record.revoked_at is not None)
        )
        if generation == self._generation:
            self._sessions[origin_jti] = state
        return state

    async def _user(self, pool_id: str, sub: str) -> _UserState | None:
        key = (pool_id, sub)
        if key in self._users:
            return self._users[key]
        generation = self._generation
        record = await self._store.find_by_sub(pool_id, sub)
        state = None if record is None else _UserState(record.enabled, record.tokens_valid_after)
        if generation == self._generation:
            self._users[key] = state
        return state

    async def _is_client(self, pool_id: str, client_id: str) -> bool:
        key = (pool_id, client_id)
        if key in self._clients:
            return self._clients[key]
        generation = self._generation
        client = await self._store.get_client(client_id)
        found = client is not None and client.pool_id == pool_id
        if generation == self._generation:
            self._clients[key] = found
        return found
