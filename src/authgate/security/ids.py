"""Random identifiers in AWS's shapes, all drawn from `secrets` (a CSPRNG).

Unique ids are a 4-letter prefix and 17 base32 letters (21 in all: `AIDA…`, `AGPA…`,
`AROA…`, `ANPA…`); access key ids a prefix and 16 (20 in all: `AKIA…` long-term, `ASIA…`
temporary); secret keys 40 characters of the base64 alphabet (about 238 bits).
"""

from __future__ import annotations

import secrets
import string

BASE32 = string.ascii_uppercase + "234567"
SECRET_ALPHABET = string.ascii_letters + string.digits + "+/"

USER_PREFIX = "AIDA"
GROUP_PREFIX = "AGPA"
ROLE_PREFIX = "AROA"
POLICY_PREFIX = "ANPA"
ACCESS_KEY_PREFIX = "AKIA"
TEMPORARY_KEY_PREFIX = "ASIA"
SESSION_TOKEN_PREFIX = "IQoJb3JpZ2luX2Vj"  # noqa: S105 - a fixed prefix, as AWS tokens begin

UNIQUE_ID_LENGTH = 21
ACCESS_KEY_ID_LENGTH = 20
SECRET_LENGTH = 40


def _draw(alphabet: str, length: int) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


def unique_id(prefix: str) -> str:
    """An IAM unique id such as `AIDA` + 17 base32 letters."""
    return prefix + _draw(BASE32, UNIQUE_ID_LENGTH - len(prefix))


def access_key_id(*, temporary: bool = False) -> str:
    """`AKIA…` (long-term) or `ASIA…` (temporary), 20 characters."""
    prefix = TEMPORARY_KEY_PREFIX if temporary else ACCESS_KEY_PREFIX
    return prefix + _draw(BASE32, ACCESS_KEY_ID_LENGTH - len(prefix))


def secret_access_key() -> str:
    """40 characters of the base64 alphabet, the shape of an AWS secret access key."""
    return _draw(SECRET_ALPHABET, SECRET_LENGTH)


def session_token() -> str:
    """A long opaque session token (768 random bits after a fixed prefix)."""
    return SESSION_TOKEN_PREFIX + secrets.token_urlsafe(96)
