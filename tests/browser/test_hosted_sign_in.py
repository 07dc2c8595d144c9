"""The hosted pages in real Chromium, as a person uses them: sign up, confirm with the code
from the outbox, sign in, arrive at the app's callback with a code, and exchange it for tokens;
and, in a pool that requires MFA, set up an authenticator app on the way in.
Fields are found by their labels and buttons by their names, as assistive technology finds
them."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.parse import urlencode

import httpx
import jwt
import pyotp

from authgate.http1.message import Handler, Request, Response
from tests.browser.chromium import chromium
from tests.e2e.oauth import pkce_pair, query_of
from tests.e2e.userpools import PASSWORD, PoolsGateway, pools

if TYPE_CHECKING:
    from playwright.sync_api import Browser

__all__ = ["chromium", "pools"]


async def app_page(request: Request) -> Response:
    """The app behind the callback URL: a page the browser can land on."""
    body = b"<!doctype html><html lang='en'><title>App</title><h1>Signed in</h1></html>"
    return Response(200, [("content-type", "text/html; charset=utf-8")], body)


def code_client(pools: PoolsGateway, pool_id: str, callback: str) -> str:
    """A public app client of the authorization-code flow, calling back to `callback`."""
    client: dict[str, str] = pools.app_client(
        pool_id,
        AllowedOAuthFlowsUserPoolClient=True,
        AllowedOAuthFlows=["code"],
        AllowedOAuthScopes=["openid", "email"],
        CallbackURLs=[callback],
        SupportedIdentityProviders=["COGNITO"],
    )
    return client["ClientId"]


def authorize_url(
    pools: PoolsGateway, client_id: str, callback: str, challenge: str, **extra: str
) -> str:
    query = {
        "client_id": client_id,
        "redirect_uri": callback,
        "response_type": "code",
        "scope": "openid email",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **extra,
    }
    return f"{pools.url}/oauth2/authorize?{urlencode(query)}"


def test_sign_up_confirm_sign_in_and_exchange_the_code(
    pools: PoolsGateway, chromium: Browser, backend: Callable[[Handler], str]
) -> None:
    callback = backend(app_page) + "/callback"
    pool_id = pools.pool()
    client_id = code_client(pools, pool_id, callback)
    verifier, challenge = pkce_pair()
    authorize = authorize_url(
        pools, client_id, callback, challenge, state="browser-state", nonce="browser-nonce"
    )
    context = chromium.new_context()
    try:
        page = context.new_page()
        page.goto(authorize)
        assert page.get_by_role("heading", level=1).inner_text() == "Sign in"

        page.get_by_role("link", name="Need an account? Sign up").click()
        page.get_by_label("Email address").fill("kim@example.com")
        page.get_by_label("New password").fill("short")
        page.get_by_role("button", name="Sign up").click()
        alert = page.get_by_role("alert")
        assert "Password did not conform with policy" in alert.inner_text()
        password = page.get_by_label("New password")
        assert password.get_attribute("aria-invalid") == "true"
        password.fill(PASSWORD)
        page.get_by_role("button", name="Sign up").click()

        assert page.get_by_role("heading", level=1).inner_text() == "Confirm your account"
        assert page.get_by_label("Email address").input_value() == "kim@example.com"
        page.get_by_label("Code").fill(pools.last_code("kim@example.com"))
        page.get_by_role("button", name="Confirm").click()

        assert "Your account is confirmed." in page.get_by_role("status").inner_text()
        assert page.get_by_label("Email address").input_value() == "kim@example.com"
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()

        page.wait_for_url(callback + "?*")
        assert page.get_by_role("heading", level=1).inner_text() == "Signed in"
        returned = query_of(page.url)
    finally:
        context.close()

    assert returned["state"] == "browser-state"
    answer = httpx.post(
        f"{pools.url}/oauth2/token",
        data={
            "grant_type": "authorization_code",
            "client_id": client_id,
            "code": returned["code"],
            "redirect_uri": callback,
            "code_verifier": verifier,
        },
    )
    assert answer.status_code == 200, answer.text
    claims = jwt.decode(answer.json()["id_token"], options={"verify_signature": False})
    assert claims["email"] == "kim@example.com"
    assert claims["nonce"] == "browser-nonce"
    assert claims["aud"] == client_id


def test_a_pool_that_requires_mfa_has_the_app_set_up_on_the_way_in(
    pools: PoolsGateway, chromium: Browser, backend: Callable[[Handler], str]
) -> None:
    callback = backend(app_page) + "/callback"
    pool_id = pools.pool(MfaConfiguration="ON")
    client_id = code_client(pools, pool_id, callback)
    pools.confirmed_user(pool_id, client_id, "lee@example.com")
    authorize = authorize_url(pools, client_id, callback, pkce_pair()[1])
    context = chromium.new_context()
    try:
        page = context.new_page()
        page.goto(authorize)
        page.get_by_label("Email address").fill("lee@example.com")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()

        heading = page.get_by_role("heading", level=1)
        assert heading.inner_text() == "Set up your authenticator app"
        intro = page.locator("p.intro").inner_text()
        shown = re.search(r"Add this key to your app: ([A-Z2-7 ]+)\.", intro)
        assert shown is not None
        secret = shown.group(1).replace(" ", "")
        link = page.get_by_role("link", name="Open the key in an authenticator app on this device")
        assert (link.get_attribute("href") or "").startswith("otpauth://totp/")
        page.get_by_label("Code").fill(pyotp.TOTP(secret).at(pools.clock.now()))
        page.get_by_role("button", name="Verify and sign in").click()

        page.wait_for_url(callback + "?*")
        assert "code" in query_of(page.url)
    finally:
        context.close()
    user = pools.admin.admin_get_user(UserPoolId=pool_id, Username="lee@example.com")
    assert user["UserMFASettingList"] == ["SOFTWARE_TOKEN_MFA"]
