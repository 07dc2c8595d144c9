"""The AWS query protocol, request side: a form of `Action=…&Version=…&Name=value` pairs.

Pure: no I/O. Parameters arrive flattened (`Users.member.1`, `Tags.member.2.Key`); this
module decodes the form into a flat mapping and unflattens the list and structure members an
operation asks for. Every count and length is bounded before anything grows with the input.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final
from urllib.parse import unquote_plus

from authgate.errors import AuthgateError

FORM_TYPE: Final = "application/x-www-form-urlencoded"


@dataclass(frozen=True, slots=True)
class QueryLimits:
    """Bounds on what one request may make us parse and hold."""

    max_body_bytes: int = 1_048_576
    """A policy document may be 131 072 characters, about three times that once form-encoded."""
    max_params: int = 1_000
    max_name_length: int = 256
    """Longest parameter name, e.g. `Tags.member.50.Value`."""
    max_members: int = 1_000
    """Highest N accepted in `Name.member.N`."""


DEFAULT_LIMITS: Final = QueryLimits()


class QueryError(AuthgateError):
    """The request is not a well-formed query-protocol request; answered as a Sender error."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


@dataclass(frozen=True, slots=True)
class QueryRequest:
    action: str | None
    version: str | None
    params: Mapping[str, str]
    """Every other parameter, names as sent, values decoded (`+` is a space)."""


def is_form(content_type: str | None) -> bool:
    """Whether a body with this Content-Type carries query parameters (absent counts)."""
    if content_type is None:
        return True
    return content_type.split(";", 1)[0].strip().lower() == FORM_TYPE


def parse_query(
    url_query: str,
    body: bytes,
    content_type: str | None,
    limits: QueryLimits = DEFAULT_LIMITS,
) -> QueryRequest:
    """Decode the parameters of the URL query and of a form body, which AWS treats alike.

    A parameter given twice (in either place) is refused rather than resolved: two readers
    of one request must never disagree about what it asked for.
    """
    if len(body) > limits.max_body_bytes:
        raise too_large(limits.max_body_bytes)
    params: dict[str, str] = {}
    _decode_into(params, url_query, limits)
    if body and is_form(content_type):
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise _malformed("The request body is not valid UTF-8.") from None
        _decode_into(params, text, limits)
    action = params.pop("Action", None)
    version = params.pop("Version", None)
    return QueryRequest(action, version, params)


def too_large(limit: int) -> QueryError:
    return QueryError("RequestEntityTooLarge", f"Request body must not exceed {limit} bytes.", 413)


def member_list(
    params: Mapping[str, str], name: str, limits: QueryLimits = DEFAULT_LIMITS
) -> list[str]:
    """The scalar list `name.member.1 … name.member.N`, in index order."""
    prefix = f"{name}.member."
    found: dict[int, str] = {}
    for key, value in params.items():
        if key.startswith(prefix):
            found[_index(key[len(prefix) :], key, limits)] = value
    return [found[i] for i in sorted(found)]


def member_structs(
    params: Mapping[str, str], name: str, limits: QueryLimits = DEFAULT_LIMITS
) -> list[dict[str, str]]:
    """The structure list `name.member.N.Field`, one dict of fields per N, in index order."""
    prefix = f"{name}.member."
    found: dict[int, dict[str, str]] = {}
    for key, value in params.items():
        if not key.startswith(prefix):
            continue
        index, dot, field = key[len(prefix) :].partition(".")
        if not dot or not field:
            raise _malformed(f"Parameter {key} must name a field of {name}.member.N.")
        found.setdefault(_index(index, key, limits), {})[field] = value
    return [found[i] for i in sorted(found)]


def member_pairs(
    params: Mapping[str, str],
    name: str,
    key: str = "Key",
    value: str = "Value",
    limits: QueryLimits = DEFAULT_LIMITS,
) -> list[tuple[str | None, str | None]]:
    """`name.member.N.Key` / `.Value` as (key, value) pairs; a missing half is None."""
    return [(s.get(key), s.get(value)) for s in member_structs(params, name, limits)]


def _decode_into(params: dict[str, str], text: str, limits: QueryLimits) -> None:
    if not text:
        return
    pieces = text.split("&", limits.max_params)
    if len(pieces) > limits.max_params and pieces[-1]:
        raise _malformed(f"A request may carry at most {limits.max_params} parameters.")
    for piece in pieces:
        if not piece:
            continue
        raw_name, _, raw_value = piece.partition("=")
        if len(raw_name) > 3 * limits.max_name_length:
            raise _malformed("A parameter name is too long.")
        try:
            name = unquote_plus(raw_name, errors="strict")
            value = unquote_plus(raw_value, errors="strict")
        except UnicodeDecodeError:
            raise _malformed("A parameter is not valid UTF-8 once percent-decoded.") from None
        if not name:
            raise _malformed("A parameter has no name.")
        if len(name) > limits.max_name_length:
            raise _malformed("A parameter name is too long.")
        if name in params:
            raise _malformed(f"Parameter {name} is given more than once.")
        if len(params) >= limits.max_params:
            raise _malformed(f"A request may carry at most {limits.max_params} parameters.")
        params[name] = value


def _index(text: str, key: str, limits: QueryLimits) -> int:
    if not text.isascii() or not text.isdigit() or text.startswith("0"):
        raise _malformed(f"Parameter {key} has an invalid member index.")
    if len(text) > len(str(limits.max_members)) or int(text) > limits.max_members:
        raise _malformed(f"Parameter {key} has a member index over {limits.max_members}.")
    return int(text)


def _malformed(message: str) -> QueryError:
    return QueryError("MalformedQueryString", message)
