"""A verified token's claims as API Gateway hands them to the backend.

Two renderings, both all-strings, because the integration sees text, not JSON types:

- REST APIs (COGNITO_USER_POOLS, `requestContext.authorizer.claims`): numbers in decimal,
  booleans `true`/`false`, `exp` and `iat` as Java's `Date.toString()` in UTC
  (`Tue Apr 04 18:39:39 UTC 2023`), string arrays joined with commas (authorizers.md §4).
- HTTP APIs (JWT, `requestContext.authorizer.jwt.claims`): numbers in decimal, arrays and
  objects as Go's `fmt` prints them (`[admin users]`, `map[k:v]`), which is what reaches
  backends (authorizers.md §3 and observed payloads).

Pure: no I/O.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Mapping, Sequence

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_JAVA_DATES = frozenset({"exp", "iat"})


def java_date(epoch: float) -> str:
    """`Date.toString()` of a UTC instant, locale-free: `Tue Apr 04 18:39:39 UTC 2023`."""
    t = time.gmtime(int(epoch))
    return (
        f"{_DAYS[t.tm_wday]} {_MONTHS[t.tm_mon - 1]} {t.tm_mday:02d} "
        f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} UTC {t.tm_year:04d}"
    )


def _number(value: int | float) -> str:
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return str(int(value))
    return str(value)


def _scalar(value: object) -> str | None:
    """Text of a JSON scalar; None when the value is an array or object."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return _number(value)
    if value is None:
        return "null"
    return None


def _json_text(value: object) -> str:
    return json.dumps(_thawed(value), separators=(",", ":"), ensure_ascii=False)


def _thawed(value: object) -> object:
    """Verified claims are read-only (tuples, mapping proxies); JSON wants lists and dicts."""
    if isinstance(value, Mapping):
        return {str(k): _thawed(v) for k, v in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, str):
        return [_thawed(v) for v in value]
    return value


def rest_claim(name: str, value: object) -> str:
    """One claim as a REST API's user-pool authorizer passes it on."""
    if name in _JAVA_DATES and isinstance(value, int | float) and not isinstance(value, bool):
        return java_date(value)
    text = _scalar(value)
    if text is not None:
        return text
    if isinstance(value, Sequence) and not isinstance(value, str):
        parts = [_scalar(item) for item in value]
        if all(part is not None for part in parts):
            return ",".join(part for part in parts if part is not None)
    return _json_text(value)


def rest_claims(claims: Mapping[str, object]) -> dict[str, str]:
    return {name: rest_claim(name, value) for name, value in claims.items()}


def go_text(value: object) -> str:
    """Go's `fmt.Sprint` of a decoded JSON value (numbers as integers when they are whole)."""
    text = _scalar(value)
    if text is not None:
        return "<nil>" if value is None else text
    if isinstance(value, Mapping):
        members = " ".join(f"{k}:{go_text(value[k])}" for k in sorted(value, key=str))
        return f"map[{members}]"
    if isinstance(value, Sequence):
        return "[" + " ".join(go_text(item) for item in value) + "]"
    return str(value)


def http_claims(claims: Mapping[str, object]) -> dict[str, str]:
    """Claims as an HTTP API's JWT authorizer passes them on."""
    return {name: go_text(value) for name, value in claims.items()}


def token_scopes(claims: Mapping[str, object]) -> list[str]:
    """The token's scopes in the order it lists them (`scope`, else `scp`)."""
    value = claims.get("scope", claims.get("scp"))
    if isinstance(value, str):
        return value.split()
    if isinstance(value, Sequence):
        return [item for item in value if isinstance(item, str)]
    return []


def rest_context(claims: Mapping[str, object]) -> dict[str, object]:
    """`requestContext.authorizer` of a REST API method behind a user-pool authorizer."""
    return {"claims": rest_claims(claims)}


def http_context(
    claims: Mapping[str, object], payload_version: str, *, route_has_scopes: bool
) -> dict[str, object]:
    """`requestContext.authorizer` of an HTTP API route behind a JWT authorizer.

    `scopes` lists the token's scopes when the route requires some, and is null otherwise.
    Payload 2.0 nests both under `jwt`; payload 1.0 has them at the top.
    """
    shaped: dict[str, object] = {
        "claims": http_claims(claims),
        "scopes": token_scopes(claims) if route_has_scopes else None,
    }
    return {"jwt": shaped} if payload_version == "2.0" else shaped
