"""Issuing a user's tokens: a new session on sign-in, new ID and access tokens on refresh.

Each sign-in opens a session whose id is the tokens' `origin_jti`; its refresh token is
stored only as a SHA-256 digest. ID tokens carry the attributes the app client may read (never
developer-only ones); both tokens carry `cognito:groups`.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Final

from authgate.clock import Clock
from authgate.identity.attributes import readable
from authgate.identity.errors import InternalError
from authgate.identity.keyring import MAX_TOKEN_LIFETIME, KeyRing
from authgate.identity.keys import TokenUse
from authgate.identity.model import SessionRecord, UserRecord
from authgate.identity.pools import Client, Pool
from authgate.identity.sessions import TokenStatus
from authgate.identity.store import UserPoolStore
from authgate.identity.tokens import (
    RESERVED_CLAIMS,
    GroupMembership,
    SignIn,
    access_token,
    id_token,
    new_refresh_token,
)

SESSION_GRACE: Final = float(MAX_TOKEN_LIFETIME)
"""How long a session outlives its refresh token: its last ID/access tokens may live a day."""


@dataclass(frozen=True, slots=True)
class OAuthGrant:
    """What a sign-in through the OAuth endpoints adds: the granted scopes (the access token's
    `scope`, with `version` 2, kept by the session for refreshes) and the authorization
    request's `nonce` (the ID token's, with `at_hash`)."""

    scopes: tuple[str, ...]
    nonce: str | None = None


@dataclass(frozen=True, slots=True)
class Tokens:
    access_token: str = field(repr=False)
    id_token: str = field(repr=False)
    expires_in: int
    refresh_token: str | None = field(default=None, repr=False)


class TokenIssuer:
    def __init__(
        self, store: UserPoolStore, keys: KeyRing, status: TokenStatus, clock: Clock
    ) -> None:
        self._store = store
        self._keys = keys
        self._status = status
        self._clock = clock

    async def sign_in(
        self,
        pool: Pool,
        client: Client,
        user: UserRecord,
        auth_time: int | None = None,
        grant: OAuthGrant | None = None,
    ) -> Tokens:
        now = self._clock.now()
        auth_time = int(now) if auth_time is None else auth_time
        refresh = new_refresh_token()
        lifetimes = client.settings.lifetimes
        session = SessionRecord(
            origin_jti=str(uuid.uuid4()),
            pool_id=pool.id,
            username=user.username,
            sub=user.sub,
            client_id=client.id,
            created=now,
            expires_at=now + lifetimes.refresh_token,
            auth_time=auth_time,
            refresh_digest=refresh.digest,
            scopes=None if grant is None else grant.scopes,
        )
        await self._store.insert_session(session)
        tokens = await self._tokens(
            pool, client, user, session, None if grant is None else grant.nonce
        )
        return Tokens(tokens.access_token, tokens.id_token, tokens.expires_in, refresh.token)

    async def refresh(
        self, pool: Pool, client: Client, user: UserRecord, session: SessionRecord
    ) -> Tokens:
        """New ID and access tokens of the same session (same `auth_time`, `origin_jti` and
        scopes); no new refresh token (rotation is off)."""
        return await self._tokens(pool, client, user, session)

    async def for_client(self, pool: Pool, client: Client, scopes: tuple[str, ...]) -> Tokens:
        """The client_credentials grant's access token: `sub` is the client itself, no user,
        no session (the token stands while its client exists) and no ID or refresh token."""
        key = await self._keys.signer(pool.id, TokenUse.ACCESS)
        if key is None:
            raise InternalError("The user pool has no signing key.")
        now = self._clock.now()
        lifetime = client.settings.lifetimes.access_token
        sign_in = SignIn(
            issuer=self._status.issuer(pool.id),
            client_id=client.id,
            sub=client.id,
            username=None,
            auth_time=int(now),
        )
        token = access_token(key, sign_in, now=now, lifetime=lifetime, scopes=scopes, version=2)
        return Tokens(access_token=token, id_token="", expires_in=lifetime)

    async def _tokens(
        self,
        pool: Pool,
        client: Client,
        user: UserRecord,
        session: SessionRecord,
        nonce: str | None = None,
    ) -> Tokens:
        id_key = await self._keys.signer(pool.id, TokenUse.ID)
        access_key = await self._keys.signer(pool.id, TokenUse.ACCESS)
        if id_key is None or access_key is None:
            raise InternalError("The user pool has no signing key.")
        groups = await self._store.groups_of(pool.id, user.username)
        sign_in = SignIn(
            issuer=self._status.issuer(pool.id),
            client_id=client.id,
            sub=user.sub,
            username=user.username,
            auth_time=session.auth_time,
            origin_jti=session.origin_jti,
            event_id=str(uuid.uuid4()),
            groups=tuple(GroupMembership(g.name, g.precedence, g.role_arn) for g in groups),
        )
        now = self._clock.now()
        lifetimes = client.settings.lifetimes
        attributes = {
            name: value
            for name, value in readable(user.attributes, client.settings.read_attributes).items()
            if name not in RESERVED_CLAIMS and not name.startswith("dev:")
        }
        identities = _identities(user)
        if session.scopes is None:
            access = access_token(access_key, sign_in, now=now, lifetime=lifetimes.access_token)
            return Tokens(
                access_token=access,
                id_token=id_token(
                    id_key,
                    sign_in,
                    now=now,
                    lifetime=lifetimes.id_token,
                    attributes=attributes,
                    identities=identities,
                ),
                expires_in=lifetimes.access_token,
            )
        access = access_token(
            access_key,
            sign_in,
            now=now,
            lifetime=lifetimes.access_token,
            scopes=session.scopes,
            version=2,
        )
        identity = id_token(
            id_key,
            sign_in,
            now=now,
            lifetime=lifetimes.id_token,
            attributes=attributes,
            nonce=nonce,
            access_token=access,
            identities=identities,
        )
        return Tokens(access_token=access, id_token=identity, expires_in=lifetimes.access_token)


def _identities(user: UserRecord) -> list[dict[str, object]] | None:
    """A federated user's `identities` attribute (a JSON array) as the ID token's claim."""
    raw = user.attributes.get("identities")
    if not raw:
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        return None
    return value
