"""The hosted pages over real HTTP, as a browser without JavaScript submits them: CSRF
protection, accessible markup, sign-up and confirmation with the outbox code, password reset,
the MFA and new-password steps, and the pool's own refusals shown on the form."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pyotp
import pytest

from tests.e2e.oauth import CALLBACK, FormClient, OAuthPool, query_of
from tests.e2e.test_userpools_clients import totp_setup
from tests.e2e.userpools import PASSWORD, PoolsGateway, pools

__all__ = ["pools"]


@pytest.fixture
def http(pools: PoolsGateway) -> Iterator[FormClient]:
    client = FormClient(pools.url)
    yield client
    client.close()


def test_forms_need_their_csrf_token(pools: PoolsGateway, http: FormClient) -> None:
    setup = OAuthPool.make(pools)
    pools.confirmed_user(setup.pool_id, setup.public, "cy@example.com")
    query = setup.authorize_query()
    public = {k: v for k, v in query.items() if k[0] != "_"}
    page = http.get("/login", **query)
    assert "authgate-csrf=" in page.headers["set-cookie"]
    form = {"username": "cy@example.com", "password": PASSWORD}
    for token in (None, "forged", re.search(r'name="csrf" value="([^"]+)"', page.text)):
        data = dict(form)
        if isinstance(token, str):
            data["csrf"] = token
        elif token is not None:
            data["csrf"] = token.group(1)
            stranger = FormClient(pools.url)  # the right token without the browser's cookie
            try:
                answer = stranger.http.post("/login", params=public, data=data)
            finally:
                stranger.close()
            assert answer.status_code == 403
            continue
        answer = http.http.post("/login", params=public, data=data)
        assert answer.status_code == 403, token
        assert "This page had expired" in answer.text
        assert "location" not in answer.headers
    assert http.submit("/login", query, **form).status_code == 302


def test_pages_are_accessible_html(pools: PoolsGateway, http: FormClient) -> None:
    setup = OAuthPool.make(pools)
    query = setup.authorize_query()
    page = http.get("/login", **query)
    assert page.status_code == 200
    headers = page.headers
    assert headers["content-type"] == "text/html; charset=utf-8"
    assert headers["x-frame-options"] == "DENY"
    assert "script-src" not in headers["content-security-policy"]
    assert "default-src 'none'" in headers["content-security-policy"]
    html = page.text
    assert '<html lang="en">' in html
    assert "<h1>Sign in</h1>" in html
    assert '<label for="field-username">Email address</label>' in html
    assert '<label for="field-password">Password</label>' in html
    assert 'autocomplete="current-password"' in html
    assert "<script" not in html
    css = http.get("/oauth2/static/hosted-ui.css")
    assert css.headers["content-type"] == "text/css; charset=utf-8"
    assert ":focus-visible" in css.text

    refused = http.submit("/login", query, username="nobody@example.com", password="Wrong-pass-1")
    assert refused.status_code == 400
    assert 'role="alert"' in refused.text
    assert 'aria-invalid="true"' in refused.text
    assert 'aria-describedby="field-password-error"' in refused.text
    assert 'id="field-password-error"' in refused.text
    assert "User does not exist." in refused.text  # LEGACY: Cognito names the problem
    assert "Wrong-pass-1" not in refused.text  # a password is never echoed
    empty = http.submit("/login", query, username="", password="")
    assert empty.text.count('aria-invalid="true"') == 2


def test_sign_up_confirm_and_reset_the_password_through_the_pages(
    pools: PoolsGateway, http: FormClient
) -> None:
    setup = OAuthPool.make(pools)
    query = setup.authorize_query()
    weak = http.submit("/signup", query, username="di@example.com", password="short")
    assert weak.status_code == 400
    assert "Password did not conform with policy" in weak.text
    assert 'aria-describedby="field-password-hint field-password-error"' in weak.text
    done = http.submit("/signup", query, username="di@example.com", password=PASSWORD)
    assert done.status_code == 302
    assert done.headers["location"].startswith("/confirmUser?")
    assert query_of(done.headers["location"])["username"] == "di@example.com"
    taken = http.submit("/signup", query, username="di@example.com", password=PASSWORD)
    assert "An account with the given email already exists." in taken.text

    first = pools.last_code("di@example.com")
    confirm_query = {**query, "username": "di@example.com"}
    resent = http.submit("/confirmUser", confirm_query, username="di@example.com", action="resend")
    assert resent.status_code == 200
    assert "We have sent you a new code." in resent.text
    code = pools.last_code("di@example.com")
    assert code != first or len(pools.outbox()) >= 2
    wrong = http.submit("/confirmUser", confirm_query, username="di@example.com", code="000000")
    assert "Invalid verification code provided" in wrong.text
    confirmed = http.submit("/confirmUser", confirm_query, username="di@example.com", code=code)
    assert confirmed.status_code == 302
    assert query_of(confirmed.headers["location"])["notice"] == "confirmed"
    assert "Your account is confirmed." in http.http.get(confirmed.headers["location"]).text

    sent = http.submit("/forgotPassword", query, username="di@example.com")
    assert sent.status_code == 302
    assert sent.headers["location"].startswith("/confirmForgotPassword?")
    reset_code = pools.last_code("di@example.com", "forgot_password")
    changed = http.submit(
        "/confirmForgotPassword",
        {**query, "username": "di@example.com"},
        username="di@example.com",
        code=reset_code,
        password="New-horse-8",
    )
    assert changed.status_code == 302, changed.text
    location = http.sign_in(query, "di@example.com", "New-horse-8")
    assert location.startswith(CALLBACK + "?code=")


def test_unconfirmed_users_are_sent_to_confirm_and_locked_users_told(
    pools: PoolsGateway, http: FormClient
) -> None:
    setup = OAuthPool.make(pools)
    query = setup.authorize_query()
    pools.public.sign_up(ClientId=setup.public, Username="ed@example.com", Password=PASSWORD)
    answer = http.submit("/login", query, username="ed@example.com", password=PASSWORD)
    assert answer.status_code == 302
    assert answer.headers["location"].startswith("/confirmUser?")
    pools.confirmed_user(setup.pool_id, setup.public, "fay@example.com")
    for _ in range(5):
        http.submit("/login", query, username="fay@example.com", password="Wrong-pass-1")
    locked = http.submit("/login", query, username="fay@example.com", password=PASSWORD)
    assert locked.status_code == 400
    assert "Password attempts exceeded" in locked.text


def test_mfa_and_new_password_steps(pools: PoolsGateway, http: FormClient) -> None:
    setup = OAuthPool.make(pools, MfaConfiguration="OPTIONAL")
    pools.confirmed_user(setup.pool_id, setup.public, "gil@example.com")
    authenticator, _ = totp_setup(pools, setup.public, "gil@example.com")
    query = setup.authorize_query()
    answer = http.submit("/login", query, username="gil@example.com", password=PASSWORD)
    assert answer.status_code == 302
    assert answer.headers["location"].startswith("/mfa?")
    stranger = FormClient(pools.url)  # the step belongs to the browser that began it
    try:
        assert stranger.get("/mfa", **query).headers["location"].startswith("/login?")
    finally:
        stranger.close()
    wrong = http.submit("/mfa", query, code="000000")
    assert wrong.status_code == 400
    assert "Invalid code received for user" in wrong.text
    pools.clock.advance(30)
    done = http.submit("/mfa", query, code=authenticator.at(pools.clock.now()))
    assert done.status_code == 302
    assert done.headers["location"].startswith(CALLBACK + "?code=")

    pools.admin.admin_create_user(
        UserPoolId=setup.pool_id,
        Username="hal@example.com",
        TemporaryPassword="Temp-pass-123",
        MessageAction="SUPPRESS",
    )
    other = FormClient(pools.url)
    try:
        step = other.submit("/login", query, username="hal@example.com", password="Temp-pass-123")
        assert step.headers["location"].startswith("/newPassword?")
        weak = other.submit("/newPassword", query, password="weak")
        assert "Password did not conform with policy" in weak.text
        saved = other.submit("/newPassword", query, password="Own-pass-456")
        assert saved.headers["location"].startswith(CALLBACK + "?code=")
    finally:
        other.close()
    user = pools.admin.admin_get_user(UserPoolId=setup.pool_id, Username="hal@example.com")
    assert user["UserStatus"] == "CONFIRMED"


def test_a_pool_that_requires_mfa_has_it_set_up_in_the_pages(
    pools: PoolsGateway, http: FormClient
) -> None:
    setup = OAuthPool.make(pools, MfaConfiguration="ON")
    pools.confirmed_user(setup.pool_id, setup.public, "ida@example.com")
    query = setup.authorize_query()
    answer = http.submit("/login", query, username="ida@example.com", password=PASSWORD)
    assert answer.headers["location"].startswith("/mfaSetup?")
    page = http.get("/mfaSetup", **query)
    shown = re.search(r"Add this key to your app: ([A-Z2-7 ]+)\.", page.text)
    assert shown is not None
    secret = shown.group(1).replace(" ", "")
    assert page.headers["cache-control"] == "no-store"  # the key is a secret
    assert f"secret={secret}" in page.text  # the otpauth:// link carries the same key
    assert secret in http.get("/mfaSetup", **query).text.replace(" ", "")  # a reload keeps it
    code = pyotp.TOTP(secret).at(pools.clock.now())
    wrong = http.submit("/mfaSetup", query, code=f"{(int(code[0]) + 1) % 10}{code[1:]}")
    assert wrong.status_code == 400
    assert "Code mismatch" in wrong.text
    done = http.submit("/mfaSetup", query, code=code)
    assert done.headers["location"].startswith(CALLBACK + "?code=")
    user = pools.admin.admin_get_user(UserPoolId=setup.pool_id, Username="ida@example.com")
    assert user["UserMFASettingList"] == ["SOFTWARE_TOKEN_MFA"]
    other = FormClient(pools.url)  # from now on a sign-in asks for a code
    try:
        step = other.submit("/login", query, username="ida@example.com", password=PASSWORD)
        assert step.headers["location"].startswith("/mfa?")
        pools.clock.advance(30)
        signed = other.submit("/mfa", query, code=pyotp.TOTP(secret).at(pools.clock.now()))
        assert signed.headers["location"].startswith(CALLBACK + "?code=")
    finally:
        other.close()


def test_clients_of_external_providers_only_show_their_buttons(
    pools: PoolsGateway, http: FormClient
) -> None:
    setup = OAuthPool.make(pools)
    pools.admin.create_identity_provider(
        UserPoolId=setup.pool_id,
        ProviderName="Corp",
        ProviderType="OIDC",
        ProviderDetails={
            "client_id": "up",
            "client_secret": "s",
            "authorize_scopes": "openid email",
            "oidc_issuer": "https://idp.example.com",
        },
    )
    client_id = pools.app_client(
        setup.pool_id,
        AllowedOAuthFlowsUserPoolClient=True,
        AllowedOAuthFlows=["code"],
        AllowedOAuthScopes=["openid"],
        CallbackURLs=[CALLBACK],
        SupportedIdentityProviders=["Corp"],
    )["ClientId"]
    page = http.get("/login", **setup.authorize_query(client_id, scope="openid"))
    assert page.status_code == 200, page.headers.get("location")
    assert 'name="password"' not in page.text
    assert "identity_provider=Corp" in page.text
    assert "Sign in with" in page.text
