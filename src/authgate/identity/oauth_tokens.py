"""The token, userInfo and revocation endpoints' rules (RFC 6749 §3.2, §4.1.3, §4.4, §6;
RFC 7009; OpenID Connect Core §5.3), as Cognito serves them (userpool-oauth.md §6.5 to 6.7).

Clients with a secret authenticate by HTTP Basic (`client_secret_basic`) or in the body
(`client_secret_post`), compared in constant time; clients without one send `client_id` only and
must have used PKCE. Every failure is an OAuthError with RFC 6749's code, never saying which
part of a credential was wrong.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from authgate.clock import Clock
from authgate.identity import pkce
from authgate.identity.access import AccessTokens
from authgate.identity.attributes import readable
from authgate.identity.errors import (
    CognitoError,
    UnsupportedOperation,
    UnsupportedTokenType,
)
from authgate.identity.issuing import OAuthGrant, TokenIssuer, Tokens
from authgate.identity.oauth_authorize import CODE_LIFETIME, code_digest
from authgate.identity.oauth_client import (
    CLIENT_CREDENTIALS,
    CODE,
    OPENID,
    oauth_settings,
    requested_scopes,
)
from authgate.identity.oauth_errors import OAuthError
from authgate.identity.pools import Client, Pool, PoolService
from authgate.identity.signout import SignOutService
from authgate.identity.store import UserPoolStore
from authgate.identity.tokens import refresh_token_digest
from authgate.security.compare import constant_time_equals

GRANT_TYPES: Final = ("authorization_code", "refresh_token", "client_credentials")
SCOPE_CLAIMS: Final = {
    "email": ("email", "email_verified"),
    "phone": ("phone_number", "phone_number_verified"),
}
INVALID_TOKEN_TEXT: Final = (
    "Access token is expired, disabled, or deleted, or the user has globally signed out."  # noqa: S105
)


@dataclass(frozen=True, slots=True)
class ClientCredentials:
    """What the request said about its client: from the Authorization header or the body."""

    client_id: str | None
    secret: str | None
    basic: bool
    """Sent with HTTP Basic: a failure is then 401 with WWW-Authenticate (RFC 6749 §5.2)."""


def token_body(tokens: Tokens, *, id_token: bool, refresh: bool) -> dict[str, Any]:
    body: dict[str, Any] = {"access_token": tokens.access_token}
    if id_token:
        body["id_token"] = tokens.id_token
    if refresh and tokens.refresh_token is not None:
        body["refresh_token"] = tokens.refresh_token
    body["token_type"] = "Bearer"  # noqa: S105 - a token type
    body["expires_in"] = tokens.expires_in
    return body


class OAuthTokens:
    def __init__(
        self,
        pools: PoolService,
        store: UserPoolStore,
        issuer: TokenIssuer,
        access: AccessTokens,
        signout: SignOutService,
        clock: Clock,
    ) -> None:
        self._pools = pools
        self._store = store
        self._issuer = issuer
        self._access = access
        self._signout = signout
        self._clock = clock

    # -- client authentication -------------------------------------------------------------------
    async def authenticate(
        self, credentials: ClientCredentials, form: Mapping[str, str]
    ) -> tuple[Pool, Client]:
        """RFC 6749 §2.3.1; a client with a secret must prove it, one without must not send one."""
        status = 401 if credentials.basic else 400
        body_id = form.get("client_id")
        client_id = credentials.client_id or body_id
        if not client_id or (credentials.basic and body_id and body_id != client_id):
            raise OAuthError("invalid_client", "Client authentication failed", status=status)
        try:
            client = await self._pools.client(client_id)
            pool = await self._pools.pool(client.record.pool_id)
        except CognitoError:
            raise OAuthError(
                "invalid_client", "Client authentication failed", status=status
            ) from None
        given = credentials.secret
        if client.secret is None:
            if given:
                raise OAuthError("invalid_client", "Client authentication failed", status=status)
        elif given is None or not constant_time_equals(given, client.secret):
            raise OAuthError("invalid_client", "Client authentication failed", status=status)
        return pool, client

    # -- POST /oauth2/token ----------------------------------------------------------------------
    async def token(
        self, form: Mapping[str, str], credentials: ClientCredentials
    ) -> dict[str, Any]:
        grant_type = form.get("grant_type")
        if not grant_type:
            raise OAuthError("invalid_request", "grant_type is required")
        if grant_type not in GRANT_TYPES:
            raise OAuthError("unsupported_grant_type")
        pool, client = await self.authenticate(credentials, form)
        if grant_type == "authorization_code":
            return await self._code(pool, client, form)
        if grant_type == "refresh_token":
            return await self._refresh(pool, client, form)
        return await self._client_credentials(pool, client, form)

    async def _code(self, pool: Pool, client: Client, form: Mapping[str, str]) -> dict[str, Any]:
        """RFC 6749 §4.1.3 with RFC 7636 §4.6: the code is spent whatever happens next."""
        if not oauth_settings(client.record.config).allows_flow(CODE):
            raise OAuthError("unauthorized_client")
        code, redirect_uri = form.get("code"), form.get("redirect_uri")
        if not code or not redirect_uri:
            raise OAuthError("invalid_request", "code and redirect_uri are required")
        record = await self._store.take_auth_code(code_digest(code))
        verifier = form.get("code_verifier")
        if (
            record is None
            or record.expires_at <= self._clock.now()
            or record.client_id != client.id
            or record.pool_id != pool.id
            or record.redirect_uri != redirect_uri
        ):
            raise OAuthError("invalid_grant")
        if record.code_challenge is None:
            if verifier is not None:
                raise OAuthError("invalid_grant", "no code_challenge was sent for this code")
        elif verifier is None or not pkce.verifier_matches(verifier, record.code_challenge):
            raise OAuthError("invalid_grant", "code_verifier does not match")
        user = await self._store.find_by_sub(pool.id, record.sub)
        issued_at = record.expires_at - CODE_LIFETIME
        if user is None or not user.enabled or user.tokens_valid_after > issued_at:
            raise OAuthError("invalid_grant")  # gone, disabled or signed out since
        tokens = await self._issuer.sign_in(
            pool, client, user, record.auth_time, OAuthGrant(record.scopes, record.nonce)
        )
        return token_body(tokens, id_token=OPENID in record.scopes, refresh=True)

    async def _refresh(self, pool: Pool, client: Client, form: Mapping[str, str]) -> dict[str, Any]:
        """RFC 6749 §6: new access (and ID) tokens of the same session; no new refresh token."""
        if not oauth_settings(client.record.config).allows_flow(CODE):
            raise OAuthError("unauthorized_client")
        if not client.settings.allows("REFRESH_TOKEN_AUTH"):
            raise OAuthError("unauthorized_client")
        token = form.get("refresh_token")
        if not token:
            raise OAuthError("invalid_request", "refresh_token is required")
        digest = refresh_token_digest(token)
        session = None if digest is None else await self._store.session_by_refresh(digest)
        if (
            session is None
            or session.client_id != client.id
            or session.pool_id != pool.id
            or session.revoked_at is not None
            or session.expires_at <= self._clock.now()
        ):
            raise OAuthError("invalid_grant")
        user = await self._store.get_user(pool.id, pool.settings.fold(session.username))
        if user is None or not user.enabled:
            raise OAuthError("invalid_grant")
        tokens = await self._issuer.refresh(pool, client, user, session)
        with_id = session.scopes is None or OPENID in session.scopes
        return token_body(tokens, id_token=with_id, refresh=False)

    async def _client_credentials(
        self, pool: Pool, client: Client, form: Mapping[str, str]
    ) -> dict[str, Any]:
        """RFC 6749 §4.4: the client's own access token, with custom scopes only."""
        oauth = oauth_settings(client.record.config)
        if client.secret is None or not oauth.allows_flow(CLIENT_CREDENTIALS):
            raise OAuthError("unauthorized_client")
        scopes = requested_scopes(form.get("scope"), oauth.custom_scopes)
        if not scopes:
            raise OAuthError("invalid_scope")
        tokens = await self._issuer.for_client(pool, client, scopes)
        return token_body(tokens, id_token=False, refresh=False)

    # -- /oauth2/userInfo ------------------------------------------------------------------------
    async def user_info(self, token: str) -> dict[str, Any]:
        """OpenID Connect Core §5.3: the user's claims the token's scopes name, as strings
        (`email_verified` too, as Cognito answers). `profile` names every attribute the
        token's client may read."""
        try:
            caller = await self._access.caller(token, scope=OPENID)
            client = await self._pools.client(caller.claims.get("client_id"), caller.pool_id)
        except CognitoError:
            raise OAuthError("invalid_token", INVALID_TOKEN_TEXT, status=401) from None
        scopes = set(str(caller.claims.get("scope", "")).split())
        attributes = readable(caller.user.attributes, client.settings.read_attributes)
        attributes = {k: v for k, v in attributes.items() if not k.startswith("dev:")}
        if "profile" in scopes:
            chosen = dict(attributes)
        else:
            names = {n for scope in scopes for n in SCOPE_CLAIMS.get(scope, ())}
            chosen = {k: v for k, v in attributes.items() if k in names}
        return {"sub": caller.user.sub, **chosen, "username": caller.user.username}

    # -- POST /oauth2/revoke ---------------------------------------------------------------------
    async def revoke(self, form: Mapping[str, str], credentials: ClientCredentials) -> None:
        """RFC 7009 §2: a refresh token of this client and every token issued from it; an
        unknown or already revoked token is answered the same (200)."""
        token = form.get("token")
        if not token:
            raise OAuthError("invalid_request", "token is required")
        _, client = await self.authenticate(credentials, form)
        request = {"ClientId": client.id, "ClientSecret": client.secret, "Token": token}
        try:
            await self._signout.revoke_token(request)
        except UnsupportedOperation:
            raise OAuthError("invalid_request", "revocation is disabled for the client") from None
        except UnsupportedTokenType:
            raise OAuthError("unsupported_token_type") from None
