"""The user pools' OAuth 2.0 / OpenID Connect endpoints and hosted pages on one plane, by path,
as Cognito serves them on a pool's domain (userpool-oauth.md §6): `/oauth2/authorize`,
`/oauth2/token`, `/oauth2/userInfo`, `/oauth2/revoke`, `/oauth2/idpresponse`, `/logout`, and
the hosted pages (`/login`, `/signup`, `/confirmUser`, `/forgotPassword`,
`/confirmForgotPassword`, `/mfa`, `/mfaSetup`, `/newPassword`). One gateway serves every pool:
the client id (or the token's issuer) says which.

Thin by design: parameters are read and answers written here, every rule lives in the
identity services. Anything unexpected is logged and answered as `server_error`.
"""

from __future__ import annotations

import logging
from typing import Final

from authgate.authorizers.fetch import Fetch
from authgate.authorizers.issuer_keys import Issuers
from authgate.clock import Clock
from authgate.http1.client import UpstreamPool
from authgate.http1.message import Request, Response
from authgate.identity.hosted_ui.context import Completion
from authgate.identity.hosted_ui.cookies import PENDING, SESSION, Cookies
from authgate.identity.hosted_ui.pages import HostedPages, authorization_parameters
from authgate.identity.hosted_ui.render import STYLESHEET, stylesheet
from authgate.identity.oauth2.federation import CALLBACK_PATH, Federation
from authgate.identity.oauth2.wire import (
    basic_credentials,
    bearer_token,
    browser_error,
    error_response,
    form,
    json_response,
    parameters,
    redirect,
)
from authgate.identity.oauth_authorize import RedirectedError
from authgate.identity.oauth_errors import OAuthError, UnredirectableRequest
from authgate.identity.oauth_tokens import ClientCredentials
from authgate.identity.provider import UserPoolServices
from authgate.security.secrets import SecretBox

log = logging.getLogger("authgate.identity")

PREFIX: Final = "/oauth2/"
USERINFO_BAD_REQUEST: Final = (
    'Bearer error="invalid_request", error_description="Bad OAuth2 request at UserInfo Endpoint"'
)


class OAuthPlane:
    def __init__(
        self,
        services: UserPoolServices,
        box: SecretBox,
        *,
        upstream: UpstreamPool,
        fetch: Fetch,
        issuers: Issuers,
        clock: Clock,
    ) -> None:
        self._services = services
        self._cookies = Cookies(box, clock, lambda: services.base_url().startswith("https://"))
        self._completion = Completion(services, self._cookies)
        self._pages = HostedPages(services, self._cookies, self._completion)
        self._federation = Federation(
            services,
            self._cookies,
            self._completion,
            upstream=upstream,
            fetch=fetch,
            issuers=issuers,
            clock=clock,
        )

    def serves(self, path: str) -> bool:
        """The paths this plane owns; no API stage may use them."""
        return path.startswith(PREFIX) or path == "/logout" or path in self._pages.routes

    async def __call__(self, request: Request) -> Response:
        try:
            return await self._dispatch(request)
        except Exception:
            log.exception("the OAuth endpoint %s failed", request.path)
            return error_response(OAuthError("server_error", status=500))

    async def _dispatch(self, request: Request) -> Response:
        path, method = request.path, request.method
        if path in self._pages.routes:
            return await self._pages(request)
        reading = method in ("GET", "HEAD")
        if path == "/oauth2/authorize" and reading:
            return await self._authorize(request)
        if path == "/oauth2/token" and method == "POST":
            return await self._token(request)
        if path == "/oauth2/userInfo" and (reading or method == "POST"):
            return await self._user_info(request)
        if path == "/oauth2/revoke" and method == "POST":
            return await self._revoke(request)
        if path == CALLBACK_PATH and reading:
            return await self._federation.respond(request)
        if path == "/logout" and reading:
            return await self._logout(request)
        if path == STYLESHEET and reading:
            return stylesheet()
        known = path in (
            "/oauth2/authorize",
            "/oauth2/token",
            "/oauth2/userInfo",
            "/oauth2/revoke",
            CALLBACK_PATH,
            "/logout",
        )
        if known:
            return json_response(405, {"error": "invalid_request", "error_description": "method"})
        return json_response(404, {"error": "not_found"})

    # -- the browser's endpoints ------------------------------------------------------------------
    async def _authorize(self, request: Request) -> Response:
        """No session: the sign-in page, with the same parameters (Cognito sends the browser
        to /login); a standing session: straight back with a code; an identity provider named:
        off to that provider."""
        try:
            query = authorization_parameters(parameters(request.query))
            authorization = await self._services.authorizations.check(query)
            if authorization.provider is not None:
                return await self._federation.start(authorization)
            signed_in = await self._completion.signed_in(request, authorization)
            if signed_in is not None:
                return signed_in
            return redirect(f"/login?{authorization.query}")
        except (UnredirectableRequest, RedirectedError, OAuthError) as error:
            return browser_error(error)

    async def _logout(self, request: Request) -> Response:
        """Cognito's /logout: the hosted session ends (tokens stay valid, as on AWS)."""
        try:
            location = await self._services.authorizations.logout(parameters(request.query))
        except (UnredirectableRequest, RedirectedError, OAuthError) as error:
            return browser_error(error)
        return redirect(location, [self._cookies.clear(SESSION), self._cookies.clear(PENDING)])

    # -- the clients' endpoints ------------------------------------------------------------------
    @staticmethod
    def _credentials(request: Request, body: dict[str, str]) -> ClientCredentials:
        """RFC 6749 §2.3: one authentication method per request."""
        basic = basic_credentials(request)
        if basic is None:
            return ClientCredentials(body.get("client_id"), body.get("client_secret"), False)
        if "client_secret" in body:
            raise OAuthError("invalid_request", "use one client authentication method")
        return ClientCredentials(basic[0], basic[1], True)

    async def _token(self, request: Request) -> Response:
        try:
            body = await form(request)
            answer = await self._services.oauth.token(body, self._credentials(request, body))
        except OAuthError as error:
            return error_response(error)
        return json_response(200, answer)

    async def _user_info(self, request: Request) -> Response:
        token = bearer_token(request)
        if token is None:
            return json_response(
                400, {"error": "invalid_request"}, [("www-authenticate", USERINFO_BAD_REQUEST)]
            )
        try:
            claims = await self._services.oauth.user_info(token)
        except OAuthError as error:
            challenge = f'Bearer error="{error.error}", error_description="{error.description}"'
            return json_response(
                error.status,
                {"error": error.error, "error_description": error.description or ""},
                [("www-authenticate", challenge)],
            )
        return json_response(200, claims)

    async def _revoke(self, request: Request) -> Response:
        try:
            body = await form(request)
            await self._services.oauth.revoke(body, self._credentials(request, body))
        except OAuthError as error:
            return error_response(error)
        return Response(200, [("cache-control", "no-store"), ("pragma", "no-cache")], b"")
