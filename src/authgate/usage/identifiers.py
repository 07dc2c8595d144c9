"""Random identifiers and key values in API Gateway's shapes, drawn from `secrets` (a CSPRNG).

Key ids are 10 lower-case letters and digits (`a1b2c3d4e5`), usage plan ids 6 (`n371pt`);
generated key values are 40 letters and digits (about 238 bits), as AWS generates them.
"""

from __future__ import annotations

import secrets
import string

ID_ALPHABET = string.ascii_lowercase + string.digits
VALUE_ALPHABET = string.ascii_letters + string.digits

API_KEY_ID_LENGTH = 10
USAGE_PLAN_ID_LENGTH = 6
GENERATED_VALUE_LENGTH = 40


def _draw(alphabet: str, length: int) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


def api_key_id() -> str:
    return _draw(ID_ALPHABET, API_KEY_ID_LENGTH)


def usage_plan_id() -> str:
    return _draw(ID_ALPHABET, USAGE_PLAN_ID_LENGTH)


def api_key_value() -> str:
    return _draw(VALUE_ALPHABET, GENERATED_VALUE_LENGTH)
