"""What every hosted page works with: the checked authorization request it serves, its form
(CSRF-checked), and the two endings of a sign-in: a pending step (MFA code, new password)
remembered in a sealed cookie, or completion — the hosted session cookie set and the browser
sent to the client's callback with its code.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Final
from urllib.parse import urlencode

from authgate.http1.message import Request, Response
from authgate.identity.hosted_ui.cookies import PENDING, SESSION, SESSION_LIFETIME, Cookies, Header
from authgate.identity.hosted_ui.render import Field, FormPage, form_page
from authgate.identity.model import UserRecord, UserStatus
from authgate.identity.oauth2.wire import redirect
from authgate.identity.oauth_authorize import AuthorizationRequest
from authgate.identity.provider import UserPoolServices

NOTICES: Final = {
    "confirmed": "Your account is confirmed. Sign in to continue.",
    "password_reset": "Your password has been changed. Sign in with your new password.",
    "reset_required": "Your password must be reset. We will send you a code to do it.",
    "code_sent": "We have sent you a code. Enter it below.",
}
EXPIRED_FORM: Final = "This page had expired, so nothing was changed. Please try again."


@dataclass
class Page:
    """One request to a hosted page."""

    request: Request
    authorization: AuthorizationRequest
    query: Mapping[str, str]
    """Every query parameter, the authorization request's and the page's own (`username`,
    `notice`)."""
    csrf: str
    headers: list[Header] = field(default_factory=list)
    form: Mapping[str, str] | None = None
    """The submitted form; None for a GET, or for a POST whose CSRF token failed (which is
    then shown again with `error` set)."""
    error: str | None = None

    @property
    def pool_name(self) -> str:
        return self.authorization.pool.record.name

    def value(self, name: str) -> str:
        return "" if self.form is None else self.form.get(name, "").strip()

    def url(self, path: str, **extra: str) -> str:
        """A hosted page for the same authorization request."""
        query = dict(self.authorization.parameters)
        query.update(extra)
        return f"{path}?{urlencode(query)}"

    def notice(self) -> str | None:
        return NOTICES.get(self.query.get("notice", ""))

    def show(self, page: FormPage, status: int = 200) -> Response:
        if self.error and page.error is None:
            page = replace(page, error=self.error)
            status = 403 if status == 200 else status
        return form_page(
            page, pool_name=self.pool_name, csrf=self.csrf, status=status, headers=self.headers
        )

    def go(self, location: str) -> Response:
        return redirect(location, self.headers)


def username_field(page: Page, pool_email: bool, value: str, error: str | None = None) -> Field:
    if pool_email:
        return Field(
            "username", "Email address", "email", value, autocomplete="username", error=error
        )
    return Field("username", "Username", "text", value, autocomplete="username", error=error)


def pending_values(page: Page, user: UserRecord, step: str, auth_time: int) -> dict[str, Any]:
    return {
        "p": page.authorization.pool.id,
        "c": page.authorization.client.id,
        "u": user.username,
        "s": step,
        "a": auth_time,
    }


class Completion:
    """How a sign-in at the hosted pages ends."""

    def __init__(self, services: UserPoolServices, cookies: Cookies) -> None:
        self._services = services
        self._cookies = cookies

    async def finish(
        self,
        authorization: AuthorizationRequest,
        user: UserRecord,
        auth_time: int,
        headers: Sequence[Header] = (),
    ) -> Response:
        """The session cookie set (Cognito's managed-login session: an hour without asking
        again), the pending step forgotten, and the browser sent to the callback."""
        session = self._cookies.write(
            SESSION,
            {
                "p": authorization.pool.id,
                "u": user.username,
                "a": auth_time,
                "t": self._services.clock.now(),
            },
            SESSION_LIFETIME,
        )
        location = await self._services.authorizations.grant(authorization, user, auth_time)
        return redirect(location, [*headers, session, self._cookies.clear(PENDING)])

    def pend(self, page: Page, user: UserRecord, step: str, auth_time: int) -> Header:
        lifetime = page.authorization.client.settings.auth_session_minutes * 60
        return self._cookies.write(PENDING, pending_values(page, user, step, auth_time), lifetime)

    async def pending(self, page: Page, step: str) -> tuple[UserRecord, int] | None:
        """The user (and auth_time) whose sign-in waits for `step` in this browser."""
        value = self._cookies.read(page.request, PENDING)
        authorization = page.authorization
        if (
            value is None
            or value.get("s") != step
            or value.get("p") != authorization.pool.id
            or value.get("c") != authorization.client.id
            or not isinstance(value.get("u"), str)
            or not isinstance(value.get("a"), int)
        ):
            return None
        pool = authorization.pool
        user = await self._services.store.get_user(pool.id, pool.settings.fold(value["u"]))
        if user is None or not user.enabled:
            return None
        return user, value["a"]

    async def signed_in(
        self, request: Request, authorization: AuthorizationRequest
    ) -> Response | None:
        """Single sign-on: a hosted session of this pool that still stands is granted again."""
        value = self._cookies.read(request, SESSION)
        pool = authorization.pool
        if value is None or value.get("p") != pool.id:
            return None
        username, auth_time, started = value.get("u"), value.get("a"), value.get("t")
        if not isinstance(username, str) or not isinstance(auth_time, int):
            return None
        if not isinstance(started, int | float):
            return None
        user = await self._services.authorizations.signed_in(pool, username, started)
        if user is None or (
            user.status is not UserStatus.EXTERNAL_PROVIDER and not authorization.local_sign_in
        ):
            return None
        location = await self._services.authorizations.grant(authorization, user, auth_time)
        return redirect(location)
