"""PATCH operations as API Gateway's Update* calls take them, and the value parsing they share.

Pure: no I/O. Values arrive as strings (`"value": "100"`); each path decides how to read its
value, and a value it cannot read is a BadRequestException naming the path.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from authgate.usage.errors import BadRequest

OPS = frozenset({"add", "remove", "replace", "move", "copy", "test"})
_INT_MAX = 2**31 - 1


@dataclass(frozen=True, slots=True)
class PatchOperation:
    op: str
    path: str
    value: str | None = None
    from_: str | None = None


def unescape(segment: str) -> str:
    """A JSON Pointer segment: `~1` is `/` and `~0` is `~` (RFC 6901 §4), so a resource path
    can sit inside a patch path (`/apiStages/a1:prod/throttle/~1pets/GET/rateLimit`)."""
    return segment.replace("~1", "/").replace("~0", "~")


def require_value(operation: PatchOperation) -> str:
    if operation.value is None:
        raise BadRequest(f"Invalid patch operation: a value is required for {operation.path}")
    return operation.value


def boolean(operation: PatchOperation) -> bool:
    value = require_value(operation).strip().lower()
    if value in ("true", "false"):
        return value == "true"
    raise BadRequest(f"Invalid boolean value specified for {operation.path}: {operation.value!r}")


def integer(operation: PatchOperation, *, minimum: int = 0) -> int:
    text = require_value(operation).strip()
    try:
        number = int(text)
    except ValueError:
        raise BadRequest(
            f"Invalid integer value specified for {operation.path}: {text!r}"
        ) from None
    if not minimum <= number <= _INT_MAX:
        raise BadRequest(f"The value of {operation.path} must be at least {minimum}")
    return number


def number(operation: PatchOperation) -> float:
    text = require_value(operation).strip()
    try:
        value = float(text)
    except ValueError:
        raise BadRequest(f"Invalid number value specified for {operation.path}: {text!r}") from None
    if not math.isfinite(value) or value < 0:
        raise BadRequest(f"The value of {operation.path} must be a number of at least 0")
    return value


def unsupported(operation: PatchOperation, allowed: str) -> BadRequest:
    """AWS's wording (two spaces included) for a path an operation does not support."""
    return BadRequest(
        f"Invalid patch path  '{operation.path}' specified for op '{operation.op}'. "
        f"Must be one of: [{allowed}]"
    )
