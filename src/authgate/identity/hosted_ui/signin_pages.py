"""The sign-in pages: `/login` (password, or a button per external identity provider), `/mfa`
(a code from an authenticator app), `/mfaSetup` (a pool that requires MFA: the user adds a key
to an authenticator app and proves it with a code) and `/newPassword` (a user whose password
was set by an administrator chooses their own). The checks are the user pool's own
(`SignInService`, `MfaSetup`), so lockout, disabled users and PreventUserExistenceErrors behave
as in the API.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Final

from authgate.http1.message import Response
from authgate.identity.errors import (
    CognitoError,
    NotAuthorized,
    PasswordResetRequired,
    UserNotConfirmed,
    UserNotFound,
)
from authgate.identity.hosted_ui.context import Completion, Page, username_field
from authgate.identity.hosted_ui.render import Field, FormPage
from authgate.identity.mfa import otpauth_uri
from authgate.identity.model import UserRecord
from authgate.identity.oauth_authorize import append_query
from authgate.identity.pool_config import SOFTWARE_TOKEN_MFA
from authgate.identity.provider import UserPoolServices
from authgate.identity.signin import MFA_SETUP, NEW_PASSWORD_REQUIRED

CODE_HINT: Final = "The 6-digit code your authenticator app shows now."


def password_field(
    error: str | None = None, *, new: bool = False, hint: str | None = None
) -> Field:
    return Field(
        "password",
        "New password" if new else "Password",
        "password",
        autocomplete="new-password" if new else "current-password",
        hint=hint,
        error=error,
    )


def code_field(value: str = "", error: str | None = None, hint: str | None = None) -> Field:
    return Field(
        "code",
        "Code",
        "text",
        value,
        autocomplete="one-time-code",
        inputmode="numeric",
        hint=hint,
        error=error,
    )


class SignInPages:
    def __init__(self, services: UserPoolServices, completion: Completion) -> None:
        self._services = services
        self._completion = completion

    # -- /login ----------------------------------------------------------------------------------
    def _login_page(
        self,
        page: Page,
        *,
        username: str = "",
        username_error: str | None = None,
        password_error: str | None = None,
    ) -> FormPage:
        authorization = page.authorization
        pool = authorization.pool
        email = "email" in pool.settings.username_attributes
        fields: list[Field] = []
        links: list[tuple[str, str]] = []
        if authorization.local_sign_in:
            fields = [
                username_field(page, email, username, username_error),
                password_field(password_error),
            ]
            links.append((page.url("/forgotPassword"), "Forgot your password?"))
            if not pool.settings.admin_create_only:
                links.append((page.url("/signup"), "Need an account? Sign up"))
        providers = [
            (
                append_query(
                    "/oauth2/authorize", {**authorization.parameters, "identity_provider": name}
                ),
                name,
            )
            for name in authorization.external_providers
        ]
        return FormPage(
            heading="Sign in",
            action=page.url("/login"),
            fields=fields,
            submit="Sign in",
            notice=page.notice(),
            providers=providers,
            links=links,
        )

    async def login(self, page: Page) -> Response:
        if page.form is None or not page.authorization.local_sign_in:
            return page.show(self._login_page(page, username=page.query.get("username", "")))
        username, password = page.value("username"), (page.form or {}).get("password", "")
        if not username or not password:
            return page.show(
                self._login_page(
                    page,
                    username=username,
                    username_error=None if username else "Enter your username.",
                    password_error=None if password else "Enter your password.",
                ),
                400,
            )
        authorization = page.authorization
        try:
            user = await self._services.signin.hosted_password(
                authorization.pool, authorization.client, username, password
            )
        except UserNotConfirmed:
            return page.go(page.url("/confirmUser", username=username))
        except PasswordResetRequired:
            return page.go(page.url("/forgotPassword", username=username, notice="reset_required"))
        except (NotAuthorized, UserNotFound) as refused:
            return page.show(
                self._login_page(page, username=username, password_error=refused.message), 400
            )
        return await self._next(page, user, int(self._services.clock.now()))

    async def _next(self, page: Page, user: UserRecord, auth_time: int) -> Response:
        """After a step of the sign-in: the next step's page, or the callback."""
        authorization = page.authorization
        try:
            step = self._services.signin.next_step(authorization.pool, user)
        except NotAuthorized as refused:
            return page.show(self._login_page(page, password_error=refused.message), 400)
        if step is None:
            return await self._completion.finish(authorization, user, auth_time, page.headers)
        page.headers.append(self._completion.pend(page, user, step, auth_time))
        return page.go(page.url(_STEP_PAGES[step]))

    # -- /mfa ------------------------------------------------------------------------------------
    async def mfa(self, page: Page) -> Response:
        pending = await self._completion.pending(page, SOFTWARE_TOKEN_MFA)
        if pending is None:
            return page.go(page.url("/login"))
        user, auth_time = pending
        form = FormPage(
            heading="Enter your code", action=page.url("/mfa"), fields=(), submit="Sign in"
        )

        async def check(code: str) -> UserRecord:
            return await self._services.signin.check_totp(page.authorization.pool, user, code)

        # the last step: a new password, if one was needed, came before it
        return await self._code_step(page, form, check, auth_time)

    # -- /mfaSetup --------------------------------------------------------------------------------
    async def mfa_setup(self, page: Page) -> Response:
        pending = await self._completion.pending(page, MFA_SETUP)
        if pending is None:
            return page.go(page.url("/login"))
        user, auth_time = pending
        pool, enrolment = page.authorization.pool, self._services.mfa
        try:
            secret = enrolment.pending_seed(user) or await enrolment.new_seed(pool, user)
        except CognitoError as refused:
            return page.show(self._login_page(page, password_error=refused.message), 400)
        account = user.attributes.get("email") or user.attributes.get("phone_number")
        key_uri = otpauth_uri(secret, account=account or user.username, issuer=page.pool_name)

        form = FormPage(
            heading="Set up your authenticator app",
            intro="This account signs in with a code from an authenticator app. Add this key "
            f"to your app: {_grouped(secret)}. Then enter the code it shows.",
            action=page.url("/mfaSetup"),
            fields=(),
            submit="Verify and sign in",
            links=[(key_uri, "Open the key in an authenticator app on this device")],
        )

        async def enrol(code: str) -> UserRecord:
            verified = await enrolment.confirm_seed(pool, user, code)
            return await self._services.signin.finish_mfa_setup(pool, verified)

        return await self._code_step(page, form, enrol, auth_time)

    async def _code_step(
        self,
        page: Page,
        form: FormPage,
        check: Callable[[str], Awaitable[UserRecord]],
        auth_time: int,
    ) -> Response:
        """A step answered with a code from an authenticator app: `form` with a code field,
        the refusals of `check` on it, then the callback."""

        def show(error: str | None = None, status: int = 200) -> Response:
            fields = [code_field(error=error, hint=CODE_HINT)]
            return page.show(replace(form, fields=fields), status)

        if page.form is None:
            return show()
        code = page.value("code")
        if not code:
            return show("Enter the code from your authenticator app.", 400)
        try:
            user = await check(code)
        except CognitoError as refused:
            return show(refused.message, 400)
        return await self._completion.finish(page.authorization, user, auth_time, page.headers)

    # -- /newPassword ----------------------------------------------------------------------------
    async def new_password(self, page: Page) -> Response:
        pending = await self._completion.pending(page, NEW_PASSWORD_REQUIRED)
        if pending is None:
            return page.go(page.url("/login"))
        user, auth_time = pending

        def show(error: str | None = None, status: int = 200) -> Response:
            return page.show(
                FormPage(
                    heading="Choose a new password",
                    intro="Your password was set for you. Choose your own to continue.",
                    action=page.url("/newPassword"),
                    fields=[password_field(error, new=True)],
                    submit="Save and sign in",
                ),
                status,
            )

        if page.form is None:
            return show()
        password = (page.form or {}).get("password", "")
        if not password:
            return show("Enter a new password.", 400)
        authorization = page.authorization
        try:
            user = await self._services.signin.set_new_password(
                authorization.pool, authorization.client, user, {"NEW_PASSWORD": password}
            )
        except CognitoError as refused:
            return show(refused.message, 400)
        return await self._next(page, user, auth_time)


_STEP_PAGES: Final = {
    SOFTWARE_TOKEN_MFA: "/mfa",
    MFA_SETUP: "/mfaSetup",
    NEW_PASSWORD_REQUIRED: "/newPassword",
}


def _grouped(secret: str) -> str:
    """The key in groups of four, as authenticator apps show keys typed in by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
