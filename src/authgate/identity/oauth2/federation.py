"""Signing in through an external OpenID Connect provider (Cognito's federation endpoints).

`/oauth2/authorize?identity_provider=NAME` sends the browser to the provider's authorization
endpoint with a code request of our own (OIDC Core §3.1.2: `state`, `nonce`, and PKCE S256),
remembering the original authorization request in a sealed cookie. The provider sends the
browser back to `/oauth2/idpresponse`, where the state must match that cookie; the code is
exchanged at the provider's token endpoint (client_secret_basic), and its ID token verified
(§3.1.3.7: RS256 from the provider's JWKS found by discovery, `iss` exactly the configured
issuer, `aud` our client id, unexpired, and our `nonce`). The user is then linked or created
(`<provider>_<sub>`) and the original request completed as a sign-in at the hosted pages would.
"""

from __future__ import annotations

import base64
import json
import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import quote, urlencode

from authgate.authorizers.fetch import Fetch, FetchError
from authgate.authorizers.issuer_keys import Issuers
from authgate.authorizers.jwt_verify import Reason, Rejected, VerifierConfig, verify
from authgate.clock import Clock
from authgate.errors import IntegrationError
from authgate.http1.client import UpstreamPool, Url
from authgate.http1.message import Request, Response
from authgate.identity import pkce
from authgate.identity.discovery import DISCOVERY_PATH
from authgate.identity.errors import CognitoError
from authgate.identity.hosted_ui.context import Completion
from authgate.identity.hosted_ui.cookies import FEDERATION, FEDERATION_LIFETIME, Cookies
from authgate.identity.hosted_ui.render import message_page
from authgate.identity.model import IdentityProviderRecord
from authgate.identity.oauth2.wire import browser_error, parameters, redirect
from authgate.identity.oauth_authorize import AuthorizationRequest, RedirectedError
from authgate.identity.oauth_errors import OAuthError, UnredirectableRequest
from authgate.identity.provider import UserPoolServices

log = logging.getLogger("authgate.identity")

CALLBACK_PATH: Final = "/oauth2/idpresponse"
TOKEN_TIMEOUT: Final = 5.0
MAX_TOKEN_RESPONSE: Final = 64 * 1024
DISCOVERY_MAX_AGE: Final = 3600.0


class FederationFailed(Exception):
    """The provider's answer cannot be trusted or used; the message is for logs only."""


@dataclass(frozen=True, slots=True)
class Endpoints:
    authorize: str
    token: str


class Federation:
    def __init__(
        self,
        services: UserPoolServices,
        cookies: Cookies,
        completion: Completion,
        *,
        upstream: UpstreamPool,
        fetch: Fetch,
        issuers: Issuers,
        clock: Clock,
    ) -> None:
        self._services = services
        self._cookies = cookies
        self._completion = completion
        self._upstream = upstream
        self._fetch = fetch
        self._issuers = issuers
        self._clock = clock
        self._discovered: dict[str, tuple[float, Mapping[str, Any]]] = {}

    def callback_url(self) -> str:
        return self._services.base_url() + CALLBACK_PATH

    # -- to the provider -------------------------------------------------------------------------
    async def start(self, authorization: AuthorizationRequest) -> Response:
        name = authorization.provider
        assert name is not None
        provider = await self._services.authorizations.provider(authorization.pool.id, name)
        if provider is None:
            raise UnredirectableRequest("The identity provider does not exist.")
        details = self._services.providers.details(provider)
        try:
            endpoints = await self._endpoints(details)
        except FederationFailed as failure:
            log.warning("identity provider %s unusable: %s", name, failure)
            return authorization_error(authorization, "the identity provider cannot be reached")
        state, nonce, verifier = (secrets.token_urlsafe(32) for _ in range(3))
        cookie = self._cookies.write(
            FEDERATION,
            {
                "st": state,
                "n": nonce,
                "v": verifier,
                "idp": name,
                "q": dict(authorization.parameters),
            },
            FEDERATION_LIFETIME,
        )
        query = {
            "response_type": "code",
            "client_id": details["client_id"],
            "redirect_uri": self.callback_url(),
            "scope": details["authorize_scopes"],
            "state": state,
            "nonce": nonce,
            "code_challenge": pkce.s256(verifier),
            "code_challenge_method": pkce.S256,
        }
        separator = "&" if "?" in endpoints.authorize else "?"
        return redirect(f"{endpoints.authorize}{separator}{urlencode(query)}", [cookie])

    # -- back from the provider ------------------------------------------------------------------
    async def respond(self, request: Request) -> Response:
        """/oauth2/idpresponse: complete the authorization request the cookie remembers."""
        clear = self._cookies.clear(FEDERATION)
        pending = self._cookies.read(request, FEDERATION)
        try:
            answer = parameters(request.query)
        except OAuthError:
            answer = {}
        state = answer.get("state", "")
        if (
            pending is None
            or not isinstance(pending.get("st"), str)
            or not secrets.compare_digest(pending["st"].encode(), state.encode())
        ):
            return message_page(  # the cookie stays: a forged answer cannot end a sign-in
                "Sign-in expired",
                "This sign-in is not one this browser started, or it took too long. "
                "Please start again from the app.",
            )
        try:
            authorization = await self._services.authorizations.check(pending["q"])
        except (UnredirectableRequest, RedirectedError) as error:
            return browser_error(error, [clear])
        if "error" in answer or not answer.get("code"):
            return authorization_error(
                authorization, "the identity provider refused the sign-in", clear
            )
        try:
            provider = await self._services.authorizations.provider(
                authorization.pool.id, str(pending.get("idp"))
            )
            if provider is None:
                raise FederationFailed("the provider was deleted meanwhile")
            claims = await self._claims(provider, pending, answer["code"])
            user = await self._services.federated.sign_in(authorization.pool, provider, claims)
        except FederationFailed as failure:
            log.warning("federated sign-in with %s failed: %s", pending.get("idp"), failure)
            return authorization_error(
                authorization, "the identity provider's answer was refused", clear
            )
        except CognitoError as refused:
            return authorization_error(authorization, refused.message, clear)
        return await self._completion.finish(authorization, user, int(self._clock.now()), [clear])

    async def _claims(
        self, provider: IdentityProviderRecord, pending: Mapping[str, Any], code: str
    ) -> Mapping[str, object]:
        details = self._services.providers.details(provider)
        endpoints = await self._endpoints(details)
        id_token = await self._exchange(endpoints.token, details, code, str(pending.get("v")))
        claims = await self._verify(provider, details, id_token)
        nonce = claims.get("nonce")
        if not isinstance(nonce, str) or not secrets.compare_digest(
            nonce.encode(), str(pending.get("n")).encode()
        ):
            raise FederationFailed("the ID token's nonce is not ours")
        return claims

    async def _exchange(
        self, token_url: str, details: Mapping[str, str], code: str, verifier: str
    ) -> str:
        """OIDC Core §3.1.3.1: the code for tokens, authenticated as our client."""
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self.callback_url(),
            "code_verifier": verifier,
        }
        headers = [
            ("content-type", "application/x-www-form-urlencoded"),
            ("accept", "application/json"),
            ("user-agent", "authgate"),
        ]
        secret = details.get("client_secret")
        if secret:
            pair = f"{quote(details['client_id'], safe='')}:{quote(secret, safe='')}"
            headers.append(("authorization", "Basic " + base64.b64encode(pair.encode()).decode()))
        else:
            form["client_id"] = details["client_id"]
        try:
            target = Url.parse(token_url)
            response = await self._upstream.request(
                "POST", target, headers, urlencode(form).encode(), timeout=TOKEN_TIMEOUT
            )
            body = await response.read()
        except (ValueError, IntegrationError) as exc:
            raise FederationFailed(f"token endpoint: {exc}") from None
        if response.status != 200 or len(body) > MAX_TOKEN_RESPONSE:
            raise FederationFailed(f"token endpoint answered {response.status}")
        try:
            document = json.loads(body)
        except ValueError:
            raise FederationFailed("token endpoint: not JSON") from None
        id_token = document.get("id_token") if isinstance(document, dict) else None
        if not isinstance(id_token, str):
            raise FederationFailed("token endpoint: no id_token")
        return id_token

    async def _verify(
        self, provider: IdentityProviderRecord, details: Mapping[str, str], id_token: str
    ) -> Mapping[str, object]:
        issuer = details["oidc_issuer"]
        keys = self._issuers.get(issuer)
        config = VerifierConfig(
            issuers=frozenset({issuer}), audiences=frozenset({details["client_id"]})
        )
        result = verify(id_token, keys, config, now=self._clock.now())
        unknown_kid = isinstance(result, Rejected) and result.reason is Reason.UNKNOWN_KID
        if unknown_kid and (len(keys.keys) == 0 or keys.gate.allow()):
            await keys.refresh()
            result = verify(id_token, keys, config, now=self._clock.now())
        if isinstance(result, Rejected):
            raise FederationFailed(f"ID token of {provider.name} refused: {result.reason}")
        return result.claims

    async def _endpoints(self, details: Mapping[str, str]) -> Endpoints:
        authorize, token = details.get("authorize_url"), details.get("token_url")
        if authorize and token:
            return Endpoints(authorize, token)
        document = await self._discovery(details["oidc_issuer"])
        authorize = authorize or document.get("authorization_endpoint")
        token = token or document.get("token_endpoint")
        if not isinstance(authorize, str) or not isinstance(token, str):
            raise FederationFailed(
                "the discovery document names no authorization or token endpoint"
            )
        return Endpoints(authorize, token)

    async def _discovery(self, issuer: str) -> Mapping[str, Any]:
        """OpenID Connect Discovery 1.0 §4, kept an hour."""
        known = self._discovered.get(issuer)
        if known is not None and self._clock.monotonic() - known[0] < DISCOVERY_MAX_AGE:
            return known[1]
        try:
            raw = await self._fetch(issuer.rstrip("/") + DISCOVERY_PATH)
            document = json.loads(raw)
        except (FetchError, ValueError) as exc:
            raise FederationFailed(f"discovery: {exc}") from None
        if not isinstance(document, dict) or document.get("issuer") != issuer:
            raise FederationFailed("discovery: the document names another issuer")
        self._discovered[issuer] = (self._clock.monotonic(), document)
        return document


def authorization_error(
    authorization: AuthorizationRequest, description: str, *headers: tuple[str, str]
) -> Response:
    """RFC 6749 §4.1.2.1's `access_denied`, at the client's callback."""
    location = authorization.redirect(error="access_denied", error_description=description)
    return redirect(location, list(headers))
