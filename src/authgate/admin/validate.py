"""Parameter checks for management operations, worded as IAM and STS word them.

Pure: no I/O. Each reader takes the flat query parameters and a parameter name
(`UserName`), checks what the botocore model constrains (presence, length, pattern, range),
and returns the value or raises `ValidationError`/`InvalidInput`. The field named in a
message is the parameter with a lower-case first letter (`userName`), as AWS names it.
Messages never echo a string the caller sent, only numbers and enum values.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Mapping
from typing import Final

from authgate.iam.errors import InvalidInput, ValidationError
from authgate.wire.query import member_pairs

Params = Mapping[str, str]

_NAME: Final = re.compile(r"[A-Za-z0-9_+=,.@-]+")
_WORD: Final = re.compile(r"[A-Za-z0-9_]+")
_PATH: Final = re.compile(r"/|/[\x21-\x7e]+/")
_POLICY_PATH: Final = re.compile(r"(/[A-Za-z0-9.,+@=_-]+)*/")
_PATH_PREFIX: Final = re.compile(r"/[\x21-\x7f]*")
_DOCUMENT: Final = re.compile(r"[\t\n\r\x20-\xff]+")
_DESCRIPTION: Final = re.compile(r"[\t\n\r\x20-\x7e\xa1-\xff]*")
_TAG_EXTRA: Final = frozenset("_.:/=+-@")
_INTEGER: Final = re.compile(r"-?[0-9]{1,10}")

NAME_CHARS: Final = "+=,.@_-"
MAX_DOCUMENT: Final = 131_072
MAX_TAGS: Final = 50


def field_of(param: str) -> str:
    """`UserName` → `userName`: how AWS names a parameter in validation messages."""
    return param[:1].lower() + param[1:]


def violation(field: str, rule: str) -> ValidationError:
    """AWS's one-field message, without the offending value."""
    return ValidationError(
        f"1 validation error detected: Value at '{field}' failed to satisfy constraint: "
        f"Member must {rule}"
    )


def required(params: Params, param: str) -> str:
    value = params.get(param)
    if value is None:
        raise violation(field_of(param), "not be null")
    return value


def length(value: str, param: str, low: int, high: int | None) -> str:
    if len(value) < low:
        raise violation(field_of(param), f"have length greater than or equal to {low}")
    if high is not None and len(value) > high:
        raise violation(field_of(param), f"have length less than or equal to {high}")
    return value


def name(params: Params, param: str, high: int = 64) -> str:
    """A user, group, role or policy name: `[\\w+=,.@-]{1,high}`."""
    value = length(required(params, param), param, 1, high)
    if not _NAME.fullmatch(value):
        raise ValidationError(
            f"The specified value for {field_of(param)} is invalid. It must contain only "
            f"alphanumeric characters and/or the following: {NAME_CHARS}"
        )
    return value


def optional_name(params: Params, param: str, high: int = 64) -> str | None:
    return None if params.get(param) is None else name(params, param, high)


def path(params: Params, param: str = "Path", *, policy: bool = False) -> str:
    """An entity path (`/` or `/a/b/`); policies allow a narrower alphabet."""
    value = params.get(param)
    if value is None:
        return "/"
    length(value, param, 1, 512)
    if not (_POLICY_PATH if policy else _PATH).fullmatch(value):
        raise ValidationError(
            f"The specified value for {field_of(param)} is invalid. It must begin and end "
            "with / and contain only alphanumeric characters and/or / characters."
        )
    return value


def path_prefix(params: Params, param: str = "PathPrefix", *, policy: bool = False) -> str:
    value = params.get(param)
    if value is None:
        return "/"
    length(value, param, 1, 512)
    if not (_POLICY_PATH if policy else _PATH_PREFIX).fullmatch(value):
        raise ValidationError(
            f"The specified value for {field_of(param)} is invalid. It must begin with the / "
            "character and contain only alphanumeric characters and/or / characters."
        )
    return value


def document(params: Params, param: str) -> str:
    """A policy document's text; its JSON and grammar are the policy parser's to judge."""
    value = length(required(params, param), param, 1, MAX_DOCUMENT)
    if not _DOCUMENT.fullmatch(value):
        raise violation(
            field_of(param),
            "satisfy regular expression pattern: [\\u0009\\u000A\\u000D\\u0020-\\u00FF]+",
        )
    return value


def description(params: Params, param: str = "Description") -> str:
    value = length(params.get(param, ""), param, 0, 1000)
    if not _DESCRIPTION.fullmatch(value):
        raise violation(
            field_of(param),
            "satisfy regular expression pattern: "
            "[\\u0009\\u000A\\u000D\\u0020-\\u007E\\u00A1-\\u00FF]*",
        )
    return value


def arn(params: Params, param: str) -> str:
    return length(required(params, param), param, 20, 2048)


def access_key_id(params: Params, param: str = "AccessKeyId") -> str:
    value = length(required(params, param), param, 16, 128)
    if not _WORD.fullmatch(value):
        raise violation(field_of(param), "satisfy regular expression pattern: [\\w]+")
    return value


def session_name(params: Params, param: str = "RoleSessionName") -> str:
    """An STS session name: `[\\w+=,.@-]{2,64}`."""
    value = length(required(params, param), param, 2, 64)
    if not _NAME.fullmatch(value):
        raise violation(field_of(param), "satisfy regular expression pattern: [\\w+=,.@-]*")
    return value


def integer(params: Params, param: str, low: int, high: int, default: int) -> int:
    text = params.get(param)
    if text is None:
        return default
    if not _INTEGER.fullmatch(text):
        raise violation(field_of(param), "be a number")
    value = int(text)
    if value < low:
        raise ValidationError.constraint(
            value, field_of(param), f"have value greater than or equal to {low}"
        )
    if value > high:
        raise ValidationError.constraint(
            value, field_of(param), f"have value less than or equal to {high}"
        )
    return value


def boolean(params: Params, param: str, default: bool = False) -> bool:
    text = params.get(param)
    if text is None:
        return default
    if text.lower() not in ("true", "false"):
        raise violation(field_of(param), "be a boolean")
    return text.lower() == "true"


def choice(params: Params, param: str, allowed: Collection[str], default: str | None) -> str:
    value = params.get(param, default)
    if value is None:
        raise violation(field_of(param), "not be null")
    if value not in allowed:
        if not value.isascii() or len(value) > 64:
            raise violation(field_of(param), f"satisfy enum value set: [{', '.join(allowed)}]")
        raise ValidationError.constraint(
            value, field_of(param), f"satisfy enum value set: [{', '.join(allowed)}]"
        )
    return value


def tags(params: Params, param: str = "Tags") -> list[tuple[str, str]]:
    """`Tags.member.N.Key/Value`: at most 50, keys unique regardless of case."""
    pairs = member_pairs(params, param)
    if len(pairs) > MAX_TAGS:
        raise violation(field_of(param), f"have length less than or equal to {MAX_TAGS}")
    result: list[tuple[str, str]] = []
    seen: set[str] = set()
    for index, (key, value) in enumerate(pairs, 1):
        where = f"{field_of(param)}.{index}.member"
        if key is None:
            raise violation(f"{where}.key", "not be null")
        if value is None:
            raise violation(f"{where}.value", "not be null")
        _tag_text(key, f"{where}.key", 1, 128, "+")
        _tag_text(value, f"{where}.value", 0, 256, "*")
        if key.lower() in seen:
            raise InvalidInput(
                "Duplicate tag keys found. Please note that Tag keys are case insensitive."
            )
        seen.add(key.lower())
        result.append((key, value))
    return result


def refuse(params: Params, *unsupported: str) -> None:
    """Parameters authgate does not implement: refused, because dropping them would either
    loosen what the caller meant to restrict (boundaries, session policies and tags) or
    lose what it asked to store."""
    for param in unsupported:
        if any(key == param or key.startswith(f"{param}.") for key in params):
            raise InvalidInput(f"The {param} parameter is not supported by this service.")


def _tag_text(text: str, field: str, low: int, high: int, repeat: str) -> None:
    if len(text) < low:
        raise violation(field, f"have length greater than or equal to {low}")
    if len(text) > high:
        raise violation(field, f"have length less than or equal to {high}")
    for char in text:
        if char not in _TAG_EXTRA and unicodedata.category(char)[0] not in "LZN":
            raise violation(
                field,
                f"satisfy regular expression pattern: [\\p{{L}}\\p{{Z}}\\p{{N}}_.:/=+\\-@]{repeat}",
            )
