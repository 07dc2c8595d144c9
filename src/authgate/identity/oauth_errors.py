"""The errors of the OAuth 2.0 endpoints, as RFC 6749 names them (§4.1.2.1, §5.2) and Cognito
answers them: `{"error": "<code>"}` from the token, revocation and userInfo endpoints, a redirect
to the client's callback with `?error=<code>` from the authorization endpoint, and a page of
their own for the requests that cannot be redirected (unknown client or callback URL).
"""

from __future__ import annotations

from authgate.errors import AuthgateError


class OAuthError(AuthgateError):
    """An RFC 6749 error. `status` is 400, or 401 for a client that failed to authenticate
    with HTTP Basic (§5.2) and for bad bearer tokens (RFC 6750 §3.1). `description` is safe to
    show: it never says which credential was wrong."""

    def __init__(self, error: str, description: str | None = None, *, status: int = 400) -> None:
        super().__init__(description or error)
        self.error = error
        self.description = description
        self.status = status


class UnredirectableRequest(AuthgateError):
    """An authorization request whose client or redirect URI is unknown: answering with a
    redirect would send the browser somewhere nobody registered (RFC 6749 §4.1.2.1), so the
    endpoint shows an error page instead."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
