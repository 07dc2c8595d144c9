"""The authorization endpoint's rules (RFC 6749 §4.1, §4.2; Cognito's /oauth2/authorize): an
authorization request checked once, and what is granted after the user has signed in.

Checks run in this order, so that nothing is ever redirected to an unregistered address: the
client, then `redirect_uri` exactly among its callback URLs (both answered with an error page),
then everything else, answered by a redirect to the callback with `?error=`: OAuth enabled for
the client, `response_type` and its flow, PKCE (S256 only; required of clients without a
secret), the scopes, and the identity provider.

A granted code is single-use, lives five minutes, and is bound to its client, redirect URI,
scopes, nonce and PKCE challenge; only its SHA-256 digest is stored, so a database reader
cannot redeem one.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlencode

from authgate.clock import Clock
from authgate.identity import pkce
from authgate.identity.errors import CognitoError
from authgate.identity.issuing import OAuthGrant, TokenIssuer
from authgate.identity.model import AuthCodeRecord, IdentityProviderRecord, UserRecord, UserStatus
from authgate.identity.oauth_client import (
    CODE,
    COGNITO,
    IMPLICIT,
    OPENID,
    OAuthSettings,
    oauth_settings,
    requested_scopes,
)
from authgate.identity.oauth_errors import OAuthError, UnredirectableRequest
from authgate.identity.pools import Client, Pool, PoolService
from authgate.identity.store import UserPoolStore

CODE_LIFETIME: Final = 300
"""Seconds an authorization code lives (Cognito: five minutes)."""
MAX_PARAMETER: Final = 2048
RESPONSE_FLOWS: Final = {"code": CODE, "token": IMPLICIT}


@dataclass(frozen=True, slots=True)
class AuthorizationRequest:
    """A checked authorization request; `parameters` are carried from page to page."""

    pool: Pool
    client: Client
    oauth: OAuthSettings
    parameters: Mapping[str, str]
    response_type: str
    redirect_uri: str
    scopes: tuple[str, ...]
    state: str | None
    nonce: str | None
    code_challenge: str | None
    provider: str | None
    """An external provider to sign in with straight away (identity_provider/idp_identifier);
    None for the pool's own sign-in page."""

    @property
    def query(self) -> str:
        return urlencode(dict(self.parameters))

    @property
    def external_providers(self) -> tuple[str, ...]:
        return tuple(p for p in self.oauth.providers if p != COGNITO)

    @property
    def local_sign_in(self) -> bool:
        """Whether the pool's own users may sign in for this client."""
        return COGNITO in self.oauth.providers or not self.oauth.providers

    def redirect(self, **values: str | None) -> str:
        """The callback URL with `values` (and `state`) in its query."""
        return append_query(self.redirect_uri, {**values, "state": self.state})


def append_query(url: str, values: Mapping[str, str | None]) -> str:
    present = {k: v for k, v in values.items() if v is not None}
    if not present:
        return url
    return f"{url}{'&' if '?' in url else '?'}{urlencode(present)}"


def _text(parameters: Mapping[str, str], name: str) -> str | None:
    value = parameters.get(name)
    if value is None or value == "":
        return None
    if len(value) > MAX_PARAMETER:
        raise OAuthError("invalid_request", f"{name} is too long")
    return value


class Authorizations:
    def __init__(
        self, pools: PoolService, store: UserPoolStore, issuer: TokenIssuer, clock: Clock
    ) -> None:
        self._pools = pools
        self._store = store
        self._issuer = issuer
        self._clock = clock

    async def client(self, client_id: object) -> tuple[Pool, Client]:
        """The client and its pool; UnredirectableRequest when there is none."""
        if not isinstance(client_id, str) or not client_id or len(client_id) > 128:
            raise UnredirectableRequest("The request names no client (client_id).")
        try:
            client = await self._pools.client(client_id)
            pool = await self._pools.pool(client.record.pool_id)
        except CognitoError:
            raise UnredirectableRequest("The client (client_id) does not exist.") from None
        return pool, client

    async def check(self, parameters: Mapping[str, str]) -> AuthorizationRequest:
        """The request as /oauth2/authorize and the sign-in pages receive it.

        Raises UnredirectableRequest (show a page) or, once the redirect URI is known to be
        registered, RedirectedError carrying the callback to send the error to."""
        pool, client = await self.client(parameters.get("client_id"))
        oauth = oauth_settings(client.record.config)
        redirect_uri = parameters.get("redirect_uri") or ""
        if redirect_uri not in oauth.callback_urls:
            raise UnredirectableRequest("The redirect_uri is not registered for this client.")
        state = parameters.get("state")

        def fail(error: str, description: str) -> RedirectedError:
            return RedirectedError(
                append_query(
                    redirect_uri,
                    {"error": error, "error_description": description, "state": state},
                )
            )

        try:
            return await self._checked(pool, client, oauth, parameters, redirect_uri)
        except OAuthError as error:
            raise fail(error.error, error.description or error.error) from None

    async def _checked(
        self,
        pool: Pool,
        client: Client,
        oauth: OAuthSettings,
        parameters: Mapping[str, str],
        redirect_uri: str,
    ) -> AuthorizationRequest:
        if not oauth.enabled:
            raise OAuthError("unauthorized_client", "OAuth flows are not enabled for the client")
        response_type = _text(parameters, "response_type")
        if response_type is None:
            raise OAuthError("invalid_request", "response_type is required")
        flow = RESPONSE_FLOWS.get(response_type)
        if flow is None:
            raise OAuthError("unsupported_response_type", "response_type must be code or token")
        if flow not in oauth.flows:
            raise OAuthError("unauthorized_client", f"the {flow} flow is not allowed")
        challenge = self._challenge(parameters, client, flow)
        scopes = requested_scopes(_text(parameters, "scope"), oauth.scopes)
        if scopes is None:
            raise OAuthError("invalid_scope", "a requested scope is not allowed for the client")
        if not scopes:
            raise OAuthError("invalid_scope", "no scope is allowed for the client")
        return AuthorizationRequest(
            pool=pool,
            client=client,
            oauth=oauth,
            parameters=dict(parameters),
            response_type=response_type,
            redirect_uri=redirect_uri,
            scopes=scopes,
            state=_text(parameters, "state"),
            nonce=_text(parameters, "nonce"),
            code_challenge=challenge,
            provider=await self._provider(pool, oauth, parameters),
        )

    def _challenge(self, parameters: Mapping[str, str], client: Client, flow: str) -> str | None:
        challenge = _text(parameters, "code_challenge")
        method = _text(parameters, "code_challenge_method")
        if method is not None and method != pkce.S256:
            raise OAuthError("invalid_request", "code_challenge_method must be S256")
        if challenge is None:
            if method is not None:
                raise OAuthError("invalid_request", "code_challenge is required with its method")
            if flow == CODE and client.secret is None:
                raise OAuthError(
                    "invalid_request", "PKCE (code_challenge, S256) is required of public clients"
                )
            return None
        if method is None:
            raise OAuthError("invalid_request", "code_challenge_method is required (S256)")
        if flow != CODE or not pkce.valid_challenge(challenge):
            raise OAuthError("invalid_request", "code_challenge is not an S256 challenge")
        return challenge

    async def _provider(
        self, pool: Pool, oauth: OAuthSettings, parameters: Mapping[str, str]
    ) -> str | None:
        name = _text(parameters, "identity_provider")
        identifier = _text(parameters, "idp_identifier")
        if name is None and identifier is not None:
            name = await self._by_identifier(pool, oauth, identifier)
        if name is None or name == COGNITO:
            if name == COGNITO and oauth.providers and COGNITO not in oauth.providers:
                raise OAuthError("invalid_request", "the client does not sign in pool users")
            return None
        if name not in oauth.providers or await self._store.get_provider(pool.id, name) is None:
            raise OAuthError("invalid_request", "the identity provider is not available")
        return name

    async def _by_identifier(self, pool: Pool, oauth: OAuthSettings, identifier: str) -> str:
        providers = await self._store.list_providers(pool.id, after=None, limit=300)
        for provider in providers:
            if identifier in provider.identifiers and provider.name in oauth.providers:
                return provider.name
        raise OAuthError("invalid_request", "no identity provider has that identifier")

    async def provider(self, pool_id: str, name: str) -> IdentityProviderRecord | None:
        return await self._store.get_provider(pool_id, name)

    # -- after sign-in ---------------------------------------------------------------------------
    async def grant(self, request: AuthorizationRequest, user: UserRecord, auth_time: int) -> str:
        """Where the browser goes once `user` has signed in: the callback with a code, or
        (implicit flow) with the tokens in the fragment (RFC 6749 §4.2.2)."""
        if request.response_type == "token":
            return await self._implicit(request, user, auth_time)
        code = secrets.token_urlsafe(32)
        await self._store.insert_auth_code(
            AuthCodeRecord(
                digest=code_digest(code),
                pool_id=request.pool.id,
                client_id=request.client.id,
                username=user.username,
                sub=user.sub,
                redirect_uri=request.redirect_uri,
                scopes=request.scopes,
                auth_time=auth_time,
                expires_at=self._clock.now() + CODE_LIFETIME,
                code_challenge=request.code_challenge,
                nonce=request.nonce,
            )
        )
        return request.redirect(code=code)

    async def _implicit(self, request: AuthorizationRequest, user: UserRecord, at: int) -> str:
        tokens = await self._issuer.sign_in(
            request.pool,
            request.client,
            user,
            at,
            OAuthGrant(request.scopes, request.nonce),
        )
        values = {"access_token": tokens.access_token}
        if OPENID in request.scopes:
            values["id_token"] = tokens.id_token
        values.update({"token_type": "Bearer", "expires_in": str(tokens.expires_in)})
        if request.state is not None:
            values["state"] = request.state
        return f"{request.redirect_uri}#{urlencode(values)}"

    async def signed_in(self, pool: Pool, username: str, since: float) -> UserRecord | None:
        """The user of a hosted-page session begun at `since`, if it still stands: the user
        exists, is enabled and confirmed (or federated), and has not signed out globally."""
        user = await self._store.get_user(pool.id, pool.settings.fold(username))
        if user is None or not user.enabled or user.tokens_valid_after >= since:
            return None
        if user.status not in (UserStatus.CONFIRMED, UserStatus.EXTERNAL_PROVIDER):
            return None
        return user

    async def logout(self, parameters: Mapping[str, str]) -> str:
        """Cognito's /logout: where to send the browser once the session cookie is gone —
        a registered `logout_uri`, or the sign-in page for a new authorization request."""
        _, client = await self.client(parameters.get("client_id"))
        oauth = oauth_settings(client.record.config)
        logout_uri = parameters.get("logout_uri")
        if logout_uri is not None:
            if logout_uri not in oauth.logout_urls:
                raise UnredirectableRequest("The logout_uri is not registered for this client.")
            return logout_uri
        if parameters.get("redirect_uri") and parameters.get("response_type"):
            request = await self.check(parameters)
            return f"/login?{request.query}"
        raise UnredirectableRequest("A logout_uri, or a redirect_uri and response_type, is needed.")


class RedirectedError(Exception):
    """An authorization error to send to the (registered) callback: `location` holds it."""

    def __init__(self, location: str) -> None:
        super().__init__(location)
        self.location = location


def code_digest(code: str) -> str:
    return hashlib.sha256(code.encode("ascii", "replace")).hexdigest()
