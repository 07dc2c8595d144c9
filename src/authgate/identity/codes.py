"""One-time codes (sign-up confirmation, forgot password, attribute verification) and the
paging tokens of list calls.

A code is six random digits, delivered to the user and stored only as a keyed digest bound to
the pool, the user and the purpose, so a database reader can neither read nor brute-force it
offline (`SecretBox.digest`). Pure: no I/O.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from collections.abc import Callable, Sequence
from typing import Final, TypeVar

from authgate.identity.errors import InvalidParameter
from authgate.identity.model import CodePurpose
from authgate.security.secrets import SecretBox

T = TypeVar("T")

CODE_DIGITS: Final = 6
SIGN_UP_CODE_SECONDS: Final = 24 * 3600
FORGOT_PASSWORD_CODE_SECONDS: Final = 3600
ATTRIBUTE_CODE_SECONDS: Final = 24 * 3600
MAX_CODE_ATTEMPTS: Final = 5
"""Wrong answers to one code before it is burned (TooManyFailedAttemptsException)."""

VALIDITY: Final = {
    CodePurpose.SIGN_UP: SIGN_UP_CODE_SECONDS,
    CodePurpose.FORGOT_PASSWORD: FORGOT_PASSWORD_CODE_SECONDS,
    CodePurpose.VERIFY_EMAIL: ATTRIBUTE_CODE_SECONDS,
    CodePurpose.VERIFY_PHONE_NUMBER: ATTRIBUTE_CODE_SECONDS,
}


def new_code() -> str:
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def code_digest(
    box: SecretBox,
    pool_id: str,
    username: str,
    purpose: CodePurpose,
    code: str,
    binding: str = "",
) -> str:
    """`binding`: what else the code is only good for (the address an attribute code went
    to: once the attribute changes, the code no longer verifies it)."""
    context = f"userpool code\x00{pool_id}\x00{username}\x00{purpose.value}\x00{binding}"
    return box.digest(code.encode(), context=context.encode())


def page_token(key: str) -> str:
    """The NextToken / PaginationToken that resumes after `key`."""
    return base64.urlsafe_b64encode(key.encode()).decode("ascii")


def after_key(token: object, name: str) -> str | None:
    if token is None:
        return None
    if not isinstance(token, str) or not token:
        raise InvalidParameter(f"{name} is not valid")
    try:
        return base64.urlsafe_b64decode(token.encode("ascii")).decode()
    except (binascii.Error, UnicodeError, ValueError):
        raise InvalidParameter(f"{name} is not valid") from None


def page(found: Sequence[T], limit: int, key: Callable[[T], str]) -> tuple[list[T], str | None]:
    """The first `limit` of `found` (read with `limit + 1`), and the token for the next page
    if there is one."""
    if len(found) > limit:
        return list(found[:limit]), page_token(key(found[limit - 1]))
    return list(found), None
