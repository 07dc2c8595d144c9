"""How API Gateway reads a function's proxy response, and which answers it refuses.

Pure: no I/O. Format 1.0 follows the REST behaviour recorded on AWS (the 502 table of
`lambda-proxy-events.md`); format 2.0 follows the inference rules of the guide's
`http-api-develop-integrations-lambda`. A refused answer raises `MalformedResponse`: REST APIs
turn it into a 502, HTTP APIs into a 500.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from typing import NamedTuple, TypeGuard

import orjson

from authgate.integrations.lambda_events import media_type_matches

__all__ = ["MalformedResponse", "ProxyResult", "parse_response_v1", "parse_response_v2"]


class MalformedResponse(ValueError):
    """The function's result is not a proxy response API Gateway accepts (REST answers 502)."""


class ProxyResult(NamedTuple):
    status: int
    headers: list[tuple[str, str]]
    body: bytes


_V1_KEYS = frozenset({"statusCode", "headers", "multiValueHeaders", "body", "isBase64Encoded"})
_TOKEN = frozenset("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


def parse_response_v1(
    result: object, binary_media_types: Iterable[str] = (), accept: str | None = None
) -> ProxyResult:
    """Read a format 1.0 response as REST APIs do (the 502 table of `lambda-proxy-events.md`).

    `headers` and `multiValueHeaders` merge per name, multi values first, a pair given in both
    counted once (guide, `set-up-lambda-proxy-integrations`); each value goes out as its own
    header line, named as `multiValueHeaders` spells it. A base64 body is decoded only when the
    response's Content-Type, or the first type the client accepts, is a binary media type;
    otherwise the base64 text is the body. HTTP APIs decode whenever asked: pass `("*/*",)`.
    """
    if not isinstance(result, dict):
        raise MalformedResponse(f"the result is {_kind(result)}, not an object")
    unknown = sorted(str(key) for key in result if key not in _V1_KEYS)
    if unknown:
        raise MalformedResponse(f"unknown top-level field(s): {', '.join(unknown)}")
    status = _status(result.get("statusCode"))
    headers = _merged_headers(result.get("multiValueHeaders"), result.get("headers"))
    content_type = _find(headers, "content-type")
    if content_type is None:
        content_type = "application/json"
        headers.append(("Content-Type", content_type))
    text = _body_text(result.get("body"))
    binary = media_type_matches(content_type, binary_media_types) or media_type_matches(
        _first_accepted(accept), binary_media_types
    )
    if _base64_flag(result.get("isBase64Encoded")) and binary:
        return ProxyResult(status, headers, _b64decode(text))
    return ProxyResult(status, headers, text.encode("utf-8"))


def parse_response_v2(result: object) -> ProxyResult:
    """Read a format 2.0 response as HTTP APIs do (guide, `http-api-develop-integrations-lambda`).

    Without `statusCode` the whole value is the body of a 200 `application/json` response (a
    string as it is, anything else as JSON); `cookies` become `set-cookie` headers, and a body
    flagged `isBase64Encoded` is always decoded.
    """
    if not isinstance(result, dict) or "statusCode" not in result:
        if isinstance(result, str):
            body = result.encode("utf-8")
        else:
            try:
                body = orjson.dumps(result)
            except TypeError as exc:
                raise MalformedResponse(f"the result is not JSON-serialisable: {exc}") from exc
        return ProxyResult(200, [("content-type", "application/json")], body)
    status = _status(result["statusCode"])
    headers = _merged_headers(None, result.get("headers"))
    cookies = result.get("cookies")
    if cookies is not None:
        if not isinstance(cookies, list | tuple):
            raise MalformedResponse(f"cookies is {_kind(cookies)}, not a list")
        for cookie in cookies:
            if not isinstance(cookie, str):
                raise MalformedResponse(f"a cookie is {_kind(cookie)}, not a string")
            headers.append(("set-cookie", _header_value(cookie)))
    if _find(headers, "content-type") is None:
        headers.append(("content-type", "application/json"))
    text = _body_text(result.get("body"))
    if _base64_flag(result.get("isBase64Encoded")):
        return ProxyResult(status, headers, _b64decode(text))
    return ProxyResult(status, headers, text.encode("utf-8"))


def _kind(value: object) -> str:
    if value is None:
        return "null"
    return f"a {type(value).__name__}"


def _status(value: object) -> int:
    """`statusCode`: a number, or a numeric string (AWS accepts "201"); absent means 200."""
    if value is None:
        return 200
    if isinstance(value, bool) or not _integral(value):
        raise MalformedResponse(f"statusCode {value!r} is not a number")
    status = int(value)
    if not 100 <= status <= 599:
        raise MalformedResponse(f"statusCode {status} is not an HTTP status")
    return status


def _integral(value: object) -> TypeGuard[int | float | str]:
    if isinstance(value, str):
        return value.isascii() and value.isdigit()
    if isinstance(value, float):
        return value.is_integer()
    return isinstance(value, int)


def _merged_headers(multi: object, single: object) -> list[tuple[str, str]]:
    grouped: dict[str, tuple[str, list[str]]] = {}
    if multi is not None:
        if not isinstance(multi, dict):
            raise MalformedResponse(f"multiValueHeaders is {_kind(multi)}, not an object")
        for name, values in multi.items():
            if not isinstance(values, list | tuple):
                raise MalformedResponse(f"multiValueHeaders[{name!r}] is {_kind(values)}")
            entry = grouped.setdefault(_header_name(name).lower(), (name, []))
            entry[1].extend(v for v in map(_stringify, values) if v is not None)
    if single is not None:
        if not isinstance(single, dict):
            raise MalformedResponse(f"headers is {_kind(single)}, not an object")
        for name, raw in single.items():
            value = _stringify(raw)
            entry = grouped.setdefault(_header_name(name).lower(), (name, []))
            if value is not None and value not in entry[1]:
                entry[1].append(value)
    return [(name, _header_value(v)) for name, values in grouped.values() for v in values]


def _header_name(name: object) -> str:
    if not isinstance(name, str) or not name or not _TOKEN.issuperset(name):
        raise MalformedResponse(f"{name!r} is not a valid header name")
    return name


def _header_value(value: str) -> str:
    """Refuse values that would split the header; others go out as UTF-8 bytes."""
    if "\r" in value or "\n" in value or "\0" in value:
        raise MalformedResponse("a header value contains CR, LF or NUL")
    return value if value.isascii() else value.encode("utf-8").decode("latin-1")


def _stringify(value: object) -> str | None:
    """Header values that are not strings go out as their JSON text (`true`, `1.5`)."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    try:
        return orjson.dumps(value).decode("utf-8")
    except TypeError as exc:
        raise MalformedResponse(f"a header value is not JSON-serialisable: {exc}") from exc


def _find(headers: list[tuple[str, str]], name: str) -> str | None:
    return next((value for key, value in headers if key.lower() == name), None)


def _body_text(value: object) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise MalformedResponse(f"body is {_kind(value)}, not a string")
    return value


def _base64_flag(value: object) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        raise MalformedResponse(f"isBase64Encoded is {_kind(value)}, not a boolean")
    return value


def _b64decode(text: str) -> bytes:
    """Decode strictly, but allow the line breaks `base64.encodebytes` puts in."""
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except ValueError as exc:
        raise MalformedResponse("body is flagged isBase64Encoded but is not base64") from exc


def _first_accepted(accept: str | None) -> str | None:
    """API Gateway looks only at the first type in Accept (guide, `lambda-proxy-binary-media`)."""
    return None if accept is None else accept.split(",", 1)[0]
