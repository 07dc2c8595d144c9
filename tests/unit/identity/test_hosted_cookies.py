"""The hosted pages' cookies: sealed values that expire and cannot be moved between names or
altered, attributes that keep them from scripts and other sites, and the CSRF double-submit."""

from __future__ import annotations

import os

from authgate.clock import ManualClock
from authgate.http1.message import EmptyBody, Request
from authgate.identity.hosted_ui.cookies import CSRF, PENDING, SESSION, Cookies
from authgate.security.secrets import SecretBox


def request_with(cookie: str | None) -> Request:
    headers = [] if cookie is None else [("Cookie", cookie)]
    return Request("GET", "/login", "", headers, EmptyBody(), ("127.0.0.1", 1), ("127.0.0.1", 2))


def pair(header: tuple[str, str]) -> str:
    return header[1].split(";", 1)[0]


def test_sealed_values_round_trip_expire_and_stay_under_their_name() -> None:
    clock = ManualClock()
    cookies = Cookies(SecretBox(os.urandom(32)), clock, lambda: False)
    header = cookies.write(SESSION, {"u": "ann"}, 60)
    assert header[0] == "set-cookie"
    assert "HttpOnly" in header[1]
    assert "SameSite=Lax" in header[1]
    assert "Path=/" in header[1]
    assert "Secure" not in header[1]
    jar = request_with("other=1; " + pair(header))
    assert cookies.read(jar, SESSION) == {"u": "ann", "exp": clock.now() + 60}
    moved = pair(header).replace(SESSION, PENDING, 1)
    assert cookies.read(request_with(moved), PENDING) is None
    value = pair(header).split("=", 1)[1]
    altered = value[:-2] + ("A" if value[-2] != "A" else "B") + value[-1]
    assert cookies.read(request_with(f"{SESSION}={altered}"), SESSION) is None
    other_box = Cookies(SecretBox(os.urandom(32)), clock, lambda: False)
    assert other_box.read(jar, SESSION) is None
    clock.advance(60)
    assert cookies.read(jar, SESSION) is None
    assert cookies.clear(SESSION)[1].startswith(f"{SESSION}=; Path=/; Max-Age=0")


def test_secure_under_an_https_public_url() -> None:
    cookies = Cookies(SecretBox(os.urandom(32)), ManualClock(), lambda: True)
    assert cookies.write(SESSION, {}, 60)[1].endswith("; Secure")
    _, headers = cookies.csrf(request_with(None))
    assert headers[0][1].endswith("; Secure")


def test_csrf_tokens_are_a_keyed_digest_of_the_browsers_cookie() -> None:
    cookies = Cookies(SecretBox(os.urandom(32)), ManualClock(), lambda: False)
    token, headers = cookies.csrf(request_with(None))
    browser = request_with(pair(headers[0]))
    again, more = cookies.csrf(browser)
    assert (again, more) == (token, [])  # the same cookie, the same token
    assert cookies.csrf_valid(browser, token)
    assert not cookies.csrf_valid(browser, None)
    assert not cookies.csrf_valid(browser, token[:-1] + ("1" if token.endswith("0") else "0"))
    assert not cookies.csrf_valid(request_with(None), token)
    cookie_value = pair(headers[0]).split("=", 1)[1]
    assert not cookies.csrf_valid(browser, cookie_value)  # the raw cookie is not the token
    stranger, _ = cookies.csrf(request_with(f"{CSRF}={'x' * 43}"))
    assert not cookies.csrf_valid(browser, stranger)
