"""The hosted pages' cookies: sealed state the browser carries between pages, and the CSRF
token of their forms.

Every value the server must trust is sealed with the installation's SecretBox (AES-GCM, bound
to the cookie's name), carries its own expiry, and is HttpOnly, SameSite=Lax and Path=/; Secure
when the public URL is HTTPS. Forms carry a CSRF token that is a keyed digest of a random
cookie value (a signed double-submit token): a page of another site can neither read the
cookie nor compute the digest without the master key.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import secrets
from collections.abc import Callable, Mapping
from typing import Any, Final

from authgate.clock import Clock
from authgate.http1.message import Request
from authgate.security.compare import constant_time_equals
from authgate.security.secrets import SealedValueError, SecretBox

SESSION: Final = "authgate-session"
"""Signed in at the hosted pages: pool, user, when (Cognito's managed-login session, 1 h)."""
PENDING: Final = "authgate-signin"
"""A sign-in between its password and its last step (MFA code, new password)."""
FEDERATION: Final = "authgate-federation"
"""An authorization request waiting for an external identity provider to answer."""
CSRF: Final = "authgate-csrf"
SESSION_LIFETIME: Final = 3600
FEDERATION_LIFETIME: Final = 600
MAX_COOKIE: Final = 3800
_CSRF_VALUE: Final = re.compile(r"[A-Za-z0-9_-]{43}")
_CSRF_CONTEXT: Final = b"hosted pages csrf"

Header = tuple[str, str]


def request_cookies(request: Request) -> dict[str, str]:
    """The Cookie header's pairs (RFC 6265 §5.4); the first of a repeated name wins."""
    found: dict[str, str] = {}
    for part in (request.header("cookie") or "").split(";"):
        name, eq, value = part.strip().partition("=")
        if eq and name and name not in found:
            found[name] = value.strip().strip('"')
    return found


class Cookies:
    def __init__(self, box: SecretBox, clock: Clock, secure: Callable[[], bool]) -> None:
        self._box = box
        self._clock = clock
        self._secure = secure

    def _attributes(self, max_age: int) -> str:
        secure = "; Secure" if self._secure() else ""
        return f"Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}"

    # -- sealed values ---------------------------------------------------------------------------
    def read(self, request: Request, name: str) -> dict[str, Any] | None:
        """The sealed value of cookie `name`, if it is ours, intact and unexpired."""
        text = request_cookies(request).get(name)
        if not text or len(text) > MAX_COOKIE:
            return None
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            value = json.loads(self._box.open(raw, context=_context(name)))
        except (binascii.Error, ValueError, UnicodeError, SealedValueError):
            return None
        if not isinstance(value, dict) or not isinstance(value.get("exp"), int | float):
            return None
        if value["exp"] <= self._clock.now():
            return None
        return value

    def write(self, name: str, values: Mapping[str, Any], lifetime: int) -> Header:
        body = {**values, "exp": self._clock.now() + lifetime}
        sealed = self._box.seal(json.dumps(body).encode(), context=_context(name))
        text = base64.urlsafe_b64encode(sealed).decode("ascii").rstrip("=")
        if len(text) > MAX_COOKIE:
            raise ValueError(f"cookie {name} would be too large")
        return ("set-cookie", f"{name}={text}; {self._attributes(lifetime)}")

    def clear(self, name: str) -> Header:
        return ("set-cookie", f"{name}=; {self._attributes(0)}")

    # -- CSRF ------------------------------------------------------------------------------------
    def csrf(self, request: Request) -> tuple[str, list[Header]]:
        """The token to put in a form, and the cookie to set when the browser has none yet."""
        value = request_cookies(request).get(CSRF)
        headers: list[Header] = []
        if value is None or not _CSRF_VALUE.fullmatch(value):
            value = secrets.token_urlsafe(32)
            headers.append(("set-cookie", f"{CSRF}={value}; {self._attributes(86400)}"))
        return self._box.digest(value.encode(), context=_CSRF_CONTEXT), headers

    def csrf_valid(self, request: Request, submitted: str | None) -> bool:
        value = request_cookies(request).get(CSRF)
        if not submitted or value is None or not _CSRF_VALUE.fullmatch(value):
            return False
        expected = self._box.digest(value.encode(), context=_CSRF_CONTEXT)
        return constant_time_equals(expected, submitted)


def _context(name: str) -> bytes:
    return f"hosted pages cookie\x00{name}".encode()
