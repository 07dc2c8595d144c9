"""Input checks for IAM and STS parameters, raising `ValidationError` in AWS's wording.

Pure. Field names are the ones AWS puts in its messages (`userName`, `path`, ...).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from authgate.iam.errors import InvalidInput, LimitExceeded, ValidationError

NAME_RULE = r"[\w+=,.@-]+"
PATH_RULE = r"(\u002F)|(\u002F[\u0021-\u007E]+\u002F)"
PATH_PREFIX_RULE = r"\u002F[\u0021-\u007F]*"
SESSION_NAME_RULE = r"[\w+=,.@-]*"
TAG_KEY_RULE = r"[\p{L}\p{Z}\p{N}_.:/=+\-@]+"
TAG_VALUE_RULE = r"[\p{L}\p{Z}\p{N}_.:/=+\-@]*"

_NAME = re.compile(r"[\w+=,.@-]+", re.ASCII)
_PATH = re.compile(r"/|/[\x21-\x7e]+/")
_PATH_PREFIX = re.compile(r"/[\x21-\x7f]*")
_TAG_KEY = re.compile(r"[\w\s.:/=+\-@]+")
_TAG_VALUE = re.compile(r"[\w\s.:/=+\-@]*")

MAX_PATH = 512
MAX_DESCRIPTION = 1000
MAX_TAGS = 50
MAX_TAG_KEY = 128
MAX_TAG_VALUE = 256


def length(value: str, field: str, low: int, high: int) -> None:
    if len(value) < low:
        raise ValidationError.constraint(
            value, field, f"have length greater than or equal to {low}"
        )
    if len(value) > high:
        raise ValidationError.constraint(value, field, f"have length less than or equal to {high}")


def name(value: str, field: str, high: int) -> None:
    """A user, group, role or policy name: 1..`high` of letters, digits and `+=,.@_-`."""
    length(value, field, 1, high)
    if _NAME.fullmatch(value) is None:
        raise ValidationError.constraint(
            value, field, f"satisfy regular expression pattern: {NAME_RULE}"
        )


def path(value: str, field: str = "path") -> None:
    """`/` or `/a/b/`: starts and ends with a slash, printable ASCII between."""
    length(value, field, 1, MAX_PATH)
    if _PATH.fullmatch(value) is None:
        raise ValidationError.constraint(
            value, field, f"satisfy regular expression pattern: {PATH_RULE}"
        )


def path_prefix(value: str) -> None:
    length(value, "pathPrefix", 1, MAX_PATH)
    if _PATH_PREFIX.fullmatch(value) is None:
        raise ValidationError.constraint(
            value, "pathPrefix", f"satisfy regular expression pattern: {PATH_PREFIX_RULE}"
        )


def description(value: str) -> None:
    length(value, "description", 0, MAX_DESCRIPTION)


def session_name(value: str) -> None:
    length(value, "roleSessionName", 2, 64)
    if _NAME.fullmatch(value) is None:
        raise ValidationError.constraint(
            value, "roleSessionName", f"satisfy regular expression pattern: {SESSION_NAME_RULE}"
        )


def number(value: int, field: str, low: int, high: int) -> None:
    if value < low:
        raise ValidationError.constraint(value, field, f"have value greater than or equal to {low}")
    if value > high:
        raise ValidationError.constraint(value, field, f"have value less than or equal to {high}")


def tags(pairs: Sequence[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    """Up to 50 tags with distinct keys (compared ignoring case), as IAM allows."""
    if len(pairs) > MAX_TAGS:
        raise LimitExceeded("The number of tags has reached the maximum limit.")
    seen: set[str] = set()
    for key, value in pairs:
        length(key, "tags.member.key", 1, MAX_TAG_KEY)
        length(value, "tags.member.value", 0, MAX_TAG_VALUE)
        if _TAG_KEY.fullmatch(key) is None:
            raise ValidationError.constraint(
                key, "tags.member.key", f"satisfy regular expression pattern: {TAG_KEY_RULE}"
            )
        if _TAG_VALUE.fullmatch(value) is None:
            raise ValidationError.constraint(
                value, "tags.member.value", f"satisfy regular expression pattern: {TAG_VALUE_RULE}"
            )
        if key.lower() in seen:
            raise InvalidInput(
                "Duplicate tag keys found. Please note that Tag keys are case insensitive."
            )
        seen.add(key.lower())
    return tuple((key, value) for key, value in pairs)
