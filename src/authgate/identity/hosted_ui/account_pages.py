"""The account pages: `/signup`, `/confirmUser` (the code sent at sign-up, or a new one),
`/forgotPassword` and `/confirmForgotPassword`. They call the same flows as the cognito-idp
API (SignUp, ConfirmSignUp, ResendConfirmationCode, ForgotPassword, ConfirmForgotPassword),
on behalf of the app client: a client with a secret gets its SECRET_HASH computed here, as the
page is the pool's own.
"""

from __future__ import annotations

from typing import Any

from authgate.http1.message import Response
from authgate.identity.errors import (
    AliasExists,
    CodeMismatch,
    CognitoError,
    ExpiredCode,
    InvalidPassword,
    UsernameExists,
    UserNotFound,
)
from authgate.identity.hosted_ui.context import Page, username_field
from authgate.identity.hosted_ui.render import Field, FormPage, message_page
from authgate.identity.hosted_ui.signin_pages import code_field, password_field
from authgate.identity.provider import UserPoolServices
from authgate.identity.secret_hash import secret_hash

CODE_ERRORS = (CodeMismatch, ExpiredCode)


class AccountPages:
    def __init__(self, services: UserPoolServices) -> None:
        self._services = services

    def _request(self, page: Page, username: str, **members: Any) -> dict[str, Any]:
        """A cognito-idp request of this page's client, SECRET_HASH included when needed."""
        client = page.authorization.client
        request: dict[str, Any] = {"ClientId": client.id, "Username": username, **members}
        if client.secret is not None:
            request["SecretHash"] = secret_hash(client.secret, username, client.id)
        return request

    def _email_username(self, page: Page) -> bool:
        return "email" in page.authorization.pool.settings.username_attributes

    # -- /signup ---------------------------------------------------------------------------------
    async def sign_up(self, page: Page) -> Response:
        pool = page.authorization.pool
        if pool.settings.admin_create_only:
            return message_page(
                "Sign up",
                "Accounts of this app are created by its administrators.",
                pool_name=page.pool_name,
                status=403,
                links=[(page.url("/login"), "Back to sign in")],
            )
        email_username = self._email_username(page)
        asks_email = not email_username and "email" in (
            pool.settings.auto_verified | pool.settings.required
        )
        username, email = page.value("username"), page.value("email")
        errors: dict[str, str] = {}

        def show(status: int = 200, error: str | None = None) -> Response:
            fields = [username_field(page, email_username, username, errors.get("username"))]
            if asks_email:
                fields.append(
                    Field(
                        "email", "Email address", "email", email, "email", error=errors.get("email")
                    )
                )
            fields.append(password_field(errors.get("password"), new=True, hint=self._policy(page)))
            return page.show(
                FormPage(
                    heading="Create an account",
                    action=page.url("/signup"),
                    fields=fields,
                    submit="Sign up",
                    error=error,
                    links=[(page.url("/login"), "Already have an account? Sign in")],
                ),
                status,
            )

        if page.form is None:
            return show()
        password = (page.form or {}).get("password", "")
        if not username:
            errors["username"] = (
                "Enter your email address." if email_username else "Enter a username."
            )
        if asks_email and not email:
            errors["email"] = "Enter your email address."
        if not password:
            errors["password"] = "Enter a password."  # noqa: S105 - a message
        if errors:
            return show(400)
        attributes = [{"Name": "email", "Value": email}] if asks_email else []
        try:
            result = await self._services.users.sign_up(
                self._request(page, username, Password=password, UserAttributes=attributes)
            )
        except (UsernameExists, AliasExists) as refused:
            errors["username"] = refused.message
            return show(400)
        except InvalidPassword as refused:
            errors["password"] = refused.message
            return show(400)
        except CognitoError as refused:
            return show(400, refused.message)
        if result.delivery is None:
            return message_page(
                "Account created",
                "Your account was created. An administrator must confirm it before you sign in.",
                pool_name=page.pool_name,
                status=200,
                problem=False,
                links=[(page.url("/login"), "Back to sign in")],
            )
        return page.go(page.url("/confirmUser", username=username, notice="code_sent"))

    def _policy(self, page: Page) -> str:
        policy = page.authorization.pool.settings.password_policy
        needs = [
            word
            for word, needed in (
                ("an uppercase letter", policy.require_uppercase),
                ("a lowercase letter", policy.require_lowercase),
                ("a number", policy.require_numbers),
                ("a symbol", policy.require_symbols),
            )
            if needed
        ]
        text = f"At least {policy.minimum_length} characters"
        return f"{text}, with {', '.join(needs)}." if needs else f"{text}."

    # -- /confirmUser ----------------------------------------------------------------------------
    async def confirm(self, page: Page) -> Response:
        username = page.value("username") or page.query.get("username", "")
        errors: dict[str, str] = {}
        notice = page.notice()

        def show(status: int = 200, error: str | None = None) -> Response:
            return page.show(
                FormPage(
                    heading="Confirm your account",
                    intro="Enter the code we sent you when you signed up.",
                    action=page.url("/confirmUser"),
                    fields=[
                        username_field(
                            page, self._email_username(page), username, errors.get("username")
                        ),
                        code_field(page.value("code"), errors.get("code")),
                    ],
                    submit="Confirm",
                    secondary=[("resend", "Send a new code")],
                    notice=notice,
                    error=error,
                ),
                status,
            )

        if page.form is None:
            return show()
        if not username:
            errors["username"] = "Enter your username."
            return show(400)
        users = self._services.users
        if page.value("action") == "resend":
            try:
                await users.resend_confirmation_code(self._request(page, username))
            except CognitoError as refused:
                return show(400, refused.message)
            notice = "We have sent you a new code."
            return show()
        code = page.value("code")
        if not code:
            errors["code"] = "Enter the code we sent you."
            return show(400)
        try:
            await users.confirm_sign_up(self._request(page, username, ConfirmationCode=code))
        except CODE_ERRORS as refused:
            errors["code"] = refused.message
            return show(400)
        except UserNotFound as refused:
            errors["username"] = refused.message
            return show(400)
        except CognitoError as refused:
            return show(400, refused.message)
        return page.go(page.url("/login", username=username, notice="confirmed"))

    # -- /forgotPassword -------------------------------------------------------------------------
    async def forgot(self, page: Page) -> Response:
        username = page.value("username") or page.query.get("username", "")

        def show(status: int = 200, error: str | None = None) -> Response:
            return page.show(
                FormPage(
                    heading="Reset your password",
                    intro="We will send you a code to choose a new password.",
                    action=page.url("/forgotPassword"),
                    fields=[username_field(page, self._email_username(page), username, error)],
                    submit="Send code",
                    notice=page.notice(),
                    links=[(page.url("/login"), "Back to sign in")],
                ),
                status,
            )

        if page.form is None:
            return show()
        if not username:
            return show(400, "Enter your username.")
        try:
            await self._services.users.forgot_password(self._request(page, username))
        except CognitoError as refused:
            return show(400, refused.message)
        return page.go(page.url("/confirmForgotPassword", username=username, notice="code_sent"))

    # -- /confirmForgotPassword ------------------------------------------------------------------
    async def reset(self, page: Page) -> Response:
        username = page.value("username") or page.query.get("username", "")
        errors: dict[str, str] = {}

        def show(status: int = 200, error: str | None = None) -> Response:
            return page.show(
                FormPage(
                    heading="Choose a new password",
                    action=page.url("/confirmForgotPassword"),
                    fields=[
                        username_field(
                            page, self._email_username(page), username, errors.get("username")
                        ),
                        code_field(page.value("code"), errors.get("code")),
                        password_field(errors.get("password"), new=True, hint=self._policy(page)),
                    ],
                    submit="Change password",
                    notice=page.notice(),
                    error=error,
                ),
                status,
            )

        if page.form is None:
            return show()
        code, password = page.value("code"), (page.form or {}).get("password", "")
        for name, value, text in (
            ("username", username, "Enter your username."),
            ("code", code, "Enter the code we sent you."),
            ("password", password, "Enter a new password."),
        ):
            if not value:
                errors[name] = text
        if errors:
            return show(400)
        try:
            await self._services.users.confirm_forgot_password(
                self._request(page, username, ConfirmationCode=code, Password=password)
            )
        except CODE_ERRORS as refused:
            errors["code"] = refused.message
            return show(400)
        except InvalidPassword as refused:
            errors["password"] = refused.message
            return show(400)
        except CognitoError as refused:
            return show(400, refused.message)
        return page.go(page.url("/login", username=username, notice="password_reset"))
