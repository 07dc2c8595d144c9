"""The hosted pages by path, as Cognito's managed login names them, and what they share: each
serves one authorization request (its parameters ride in every page's query string and are
checked again on every request), GET shows a form, POST submits it with a CSRF token.

A request whose client or redirect URI is unknown gets an error page; one whose other
parameters are wrong is sent back to the client's callback with `?error=`, as from
/oauth2/authorize.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Final

from authgate.http1.message import Request, Response
from authgate.identity.hosted_ui.account_pages import AccountPages
from authgate.identity.hosted_ui.context import EXPIRED_FORM, Completion, Page
from authgate.identity.hosted_ui.cookies import Cookies
from authgate.identity.hosted_ui.render import message_page
from authgate.identity.hosted_ui.signin_pages import SignInPages
from authgate.identity.oauth2.wire import browser_error, form, parameters
from authgate.identity.oauth_authorize import RedirectedError
from authgate.identity.oauth_errors import OAuthError, UnredirectableRequest
from authgate.identity.provider import UserPoolServices

AUTHORIZATION_PARAMETERS: Final = frozenset(
    {
        "client_id",
        "redirect_uri",
        "response_type",
        "scope",
        "state",
        "nonce",
        "code_challenge",
        "code_challenge_method",
        "identity_provider",
        "idp_identifier",
        "lang",
    }
)
"""What an authorization request carries from page to page; the pages' own parameters
(`username`, `notice`) are not part of it."""

Handler = Callable[[Page], Awaitable[Response]]


def authorization_parameters(query: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in query.items() if k in AUTHORIZATION_PARAMETERS}


class HostedPages:
    def __init__(
        self, services: UserPoolServices, cookies: Cookies, completion: Completion
    ) -> None:
        self._services = services
        self._cookies = cookies
        signin = SignInPages(services, completion)
        account = AccountPages(services)
        self.routes: Mapping[str, Handler] = {
            "/login": signin.login,
            "/mfa": signin.mfa,
            "/mfaSetup": signin.mfa_setup,
            "/newPassword": signin.new_password,
            "/signup": account.sign_up,
            "/confirmUser": account.confirm,
            "/forgotPassword": account.forgot,
            "/confirmForgotPassword": account.reset,
        }

    async def __call__(self, request: Request) -> Response:
        handler = self.routes[request.path]
        if request.method not in ("GET", "HEAD", "POST"):
            return message_page("Not allowed", "Use GET or POST.", status=405)
        try:
            query = parameters(request.query)
            authorization = await self._services.authorizations.check(
                authorization_parameters(query)
            )
            csrf, headers = self._cookies.csrf(request)
            page = Page(request, authorization, query, csrf, headers)
            if request.method == "POST":
                submitted = await form(request)
                if self._cookies.csrf_valid(request, submitted.get("csrf")):
                    page.form = submitted
                else:
                    page.error = EXPIRED_FORM
            return await handler(page)
        except (UnredirectableRequest, RedirectedError, OAuthError) as error:
            return browser_error(error)
