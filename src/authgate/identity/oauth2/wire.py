"""What the OAuth endpoints read and write on the wire: query strings and form bodies where a
parameter may appear once (RFC 6749 §3.1, §3.2), HTTP Basic client credentials (§2.3.1), and
JSON answers that are never cached (§5.1).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any, Final
from urllib.parse import parse_qsl, unquote_plus

import orjson

from authgate.http1.message import BodyTooLarge, Headers, Request, Response
from authgate.identity.hosted_ui.render import message_page
from authgate.identity.oauth_authorize import RedirectedError
from authgate.identity.oauth_errors import OAuthError, UnredirectableRequest

MAX_FORM_BYTES: Final = 64 * 1024
MAX_FIELDS: Final = 64
FORM_TYPE: Final = "application/x-www-form-urlencoded"
JSON_TYPE: Final = "application/json;charset=UTF-8"
NO_STORE: Final = [("cache-control", "no-store"), ("pragma", "no-cache")]


class DuplicateParameter(OAuthError):
    def __init__(self, name: str) -> None:
        super().__init__("invalid_request", f"{name} appears more than once")


def parameters(text: str) -> dict[str, str]:
    """`a=1&b=2` as a dict; a parameter sent twice is an invalid request (RFC 6749 §3.1)."""
    try:
        pairs = parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_FIELDS)
    except ValueError:
        raise OAuthError("invalid_request", "too many parameters") from None
    found: dict[str, str] = {}
    for name, value in pairs:
        if name in found:
            raise DuplicateParameter(name)
        found[name] = value
    return found


async def form(request: Request) -> dict[str, str]:
    """The url-encoded body of a POST; anything else is an invalid request."""
    kind = (request.header("content-type") or "").split(";", 1)[0].strip().lower()
    if request.method != "POST" or kind != FORM_TYPE:
        raise OAuthError("invalid_request", f"a POST with {FORM_TYPE} is expected")
    declared = request.body.content_length
    if declared is not None and declared > MAX_FORM_BYTES:
        raise OAuthError("invalid_request", "the body is too large")
    try:
        raw = await request.body.read()
    except BodyTooLarge:
        raise OAuthError("invalid_request", "the body is too large") from None
    if len(raw) > MAX_FORM_BYTES:
        raise OAuthError("invalid_request", "the body is too large")
    try:
        return parameters(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise OAuthError("invalid_request", "the body is not UTF-8") from None


def basic_credentials(request: Request) -> tuple[str, str] | None:
    """RFC 6749 §2.3.1: `Authorization: Basic base64(urlencode(id):urlencode(secret))`."""
    header = request.header("authorization")
    if header is None:
        return None
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        raise OAuthError("invalid_client", "malformed Basic credentials", status=401) from None
    client_id, colon, secret = decoded.partition(":")
    if not colon or not client_id:
        raise OAuthError("invalid_client", "malformed Basic credentials", status=401)
    return unquote_plus(client_id), unquote_plus(secret)


def bearer_token(request: Request) -> str | None:
    header = request.header("authorization")
    if header is None:
        return None
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or " " in token:
        return None
    return token


def json_response(status: int, body: Mapping[str, Any], headers: Headers | None = None) -> Response:
    return Response(
        status,
        [("content-type", JSON_TYPE), *NO_STORE, *(headers or [])],
        orjson.dumps(dict(body)),
    )


def error_response(error: OAuthError) -> Response:
    """RFC 6749 §5.2 (401 answers to Basic credentials carry WWW-Authenticate)."""
    body: dict[str, str] = {"error": error.error}
    if error.description:
        body["error_description"] = error.description
    headers: Headers = []
    if error.status == 401 and error.error == "invalid_client":
        headers.append(("www-authenticate", 'Basic realm="authgate"'))
    return json_response(error.status, body, headers)


def redirect(location: str, headers: Headers | None = None) -> Response:
    return Response(302, [("location", location), *NO_STORE, *(headers or [])])


def browser_error(
    error: UnredirectableRequest | RedirectedError | OAuthError, headers: Headers | None = None
) -> Response:
    """How an endpoint a browser follows answers a refused authorization: back to the client
    when its redirect URI is known to be safe, else a page saying what went wrong."""
    if isinstance(error, RedirectedError):
        return redirect(error.location, headers)
    if isinstance(error, UnredirectableRequest):
        message = error.message
    else:
        message = error.description or error.error
    return message_page("Something went wrong", message, headers=headers or ())
