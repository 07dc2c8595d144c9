"""Verification of AWS Signature Version 4 requests, in the header and presigned-URL forms.

Pure: no I/O and no clock (callers pass `now`); the only state is a bounded signing-key cache.
An authorizer runs the steps in the order AWS reports problems, looking the secret up in between:

    signed = parse(parts)                        # syntax: Incomplete/InvalidSignature, MissingToken
    check(signed, now=..., expected_region=..., expected_service=...)  # clock, expiry, scope
    secret = <look up signed.access_key_id>      # unknown key: raise UnrecognizedClient
    verify_signature(signed, secret)             # mismatch: AWS's text with the canonical strings

`verify()` runs parse, check and verify_signature in one call. Messages follow the spec for
execute-api; the few it does not give are marked [UNV] next to their constant. One ordering
difference: AWS reports clock skew before an unsigned host, a bad algorithm or a malformed
credential; here parse() finds those first, as it has no clock.
"""

from __future__ import annotations

import base64
import calendar
import hashlib
import hmac
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date as _date
from email.utils import parsedate_tz
from functools import lru_cache
from typing import TYPE_CHECKING, ClassVar, NamedTuple

if TYPE_CHECKING:
    from hashlib import _Hash

from authgate.errors import AuthgateError
from authgate.iam import canonical as _c

UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
MAX_PRESIGNED_EXPIRES = 604_800
DEFAULT_MAX_SKEW = 300

MSG_MISSING_TOKEN = "Missing Authentication Token"  # noqa: S105 - a message
MSG_KEY_VALUE = (
    "Invalid key=value pair (missing equal-sign) in Authorization header "
    "(hashed with SHA-256 and encoded with Base64): '{digest}'."
)
MSG_REQUIRES_CREDENTIAL = "Authorization header requires 'Credential' parameter."
MSG_REQUIRES_SIGNATURE = "Authorization header requires 'Signature' parameter."
MSG_REQUIRES_SIGNED_HEADERS = "Authorization header requires 'SignedHeaders' parameter."
MSG_REQUIRES_DATE = (
    "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
)
MSG_QUERY_REQUIRES = "AWS query-string parameters must include '{name}'."
MSG_QUERY_REEXAMINE = "Re-examine the query-string parameters."
MSG_CREDENTIAL_PARTS = (
    "Credential must have exactly 5 slash-delimited elements, "
    "e.g. keyid/date/region/service/term, got '{credential}'"
)
MSG_ALGORITHM = "Unsupported AWS 'algorithm': '{algorithm}'"
MSG_DATE_FORMAT = (
    "Date must be in ISO-8601 'basic format'. Got '{value}'. "
    "See http://en.wikipedia.org/wiki/ISO_8601"
)
MSG_HOST_NOT_SIGNED = "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."
MSG_NOT_SIGNED = "'{name}' must be a 'SignedHeader' in the AWS Authorization."  # [UNV] casing
MSG_SCOPE_DATE = (
    "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: "
    "'{scope}' != '{request}', from '{timestamp}'"
)
MSG_SCOPE_REGION = "Credential should be scoped to a valid region, not '{region}'. "
MSG_SCOPE_SERVICE = "Credential should be scoped to correct service: '{service}'. "
MSG_SCOPE_TERMINATOR = (
    "Credential should be scoped with a valid terminator: 'aws4_request', not '{terminator}'. "
)
MSG_EXPIRED = "Signature expired: {request} is now earlier than {limit} ({now} - {window}.)"
MSG_NOT_YET = "Signature not yet current: {request} is still later than {limit} ({now} + {window}.)"
MSG_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. "
    "Consult the service documentation for details."
    "\n\nThe Canonical String for this request should have been\n'{canonical}'"
    "\n\nThe String-to-Sign should have been\n'{string_to_sign}'\n"
)
MSG_UNRECOGNIZED = "The security token included in the request is invalid."
MSG_EXPIRED_TOKEN = "The security token included in the request is expired"  # noqa: S105
# Not given by the spec for execute-api; AWS texts from S3 (or our own) stand in. [UNV]
MSG_BOTH_FORMS = (
    "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query "
    "string parameter or the Authorization header should be specified"
)
MSG_PRESIGNED_EXPIRED = "Request has expired"
MSG_EXPIRES_NAN = "X-Amz-Expires should be a number"
MSG_EXPIRES_NEGATIVE = "X-Amz-Expires must be non-negative"
MSG_EXPIRES_ZERO = "X-Amz-Expires must be at least 1 second"
MSG_EXPIRES_TOO_LONG = (
    "X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires "
    "must be less than 604800 seconds"
)
MSG_CONTENT_SHA256 = "The provided 'x-amz-content-sha256' header does not match what was computed."

_DATE_HEADERS = {"x-amz-date": "X-Amz-Date", "date": "Date"}
_EPOCH_ORDINAL = _date(1970, 1, 1).toordinal()


# -- errors -----------------------------------------------------------------------------------


class SigV4Error(AuthgateError):
    """A request AWS refuses with 403: `error_type` is x-amzn-ErrorType, `message` the body text."""

    error_type: ClassVar[str] = ""
    gateway_response: ClassVar[str] = "INVALID_SIGNATURE"
    status: ClassVar[int] = 403

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class MissingAuthenticationToken(SigV4Error):
    error_type = "MissingAuthenticationTokenException"
    gateway_response = "MISSING_AUTHENTICATION_TOKEN"

    def __init__(self) -> None:
        super().__init__(MSG_MISSING_TOKEN)


class IncompleteSignature(SigV4Error):
    error_type = "IncompleteSignatureException"


class InvalidSignature(SigV4Error):
    error_type = "InvalidSignatureException"


class SignatureMismatch(InvalidSignature):
    """The signature is wrong; AWS shows the strings it signed so the client can compare."""

    def __init__(self, canonical_request: str, string_to_sign: str) -> None:
        super().__init__(
            MSG_MISMATCH.format(canonical=canonical_request, string_to_sign=string_to_sign)
        )
        self.canonical_request = canonical_request
        self.string_to_sign = string_to_sign


class UnrecognizedClient(SigV4Error):
    """For the authorizer: the access key id (or session token) is unknown."""

    error_type = "UnrecognizedClientException"

    def __init__(self) -> None:
        super().__init__(MSG_UNRECOGNIZED)


class ExpiredToken(SigV4Error):
    """For the authorizer: the session token has expired."""

    error_type = "ExpiredTokenException"
    gateway_response = "EXPIRED_TOKEN"

    def __init__(self) -> None:
        super().__init__(MSG_EXPIRED_TOKEN)


# -- request model ----------------------------------------------------------------------------


class RequestParts(NamedTuple):
    """A request as received, independent of the transport. (A named tuple: one is made for
    every signed request, and a frozen dataclass costs three times as much to build.)

    `path` and `query` are the raw request-target pieces (percent-escapes kept, no `?`), and
    all text is latin-1-decoded wire bytes, like the HTTP layer's header values. A caller that
    hashed a streamed body passes `body_sha256` (lowercase hex) instead of `body`.
    """

    method: str
    path: str
    query: str
    headers: Sequence[tuple[str, str]]
    body: bytes = b""
    body_sha256: str | None = None

    def __repr__(self) -> str:
        # Headers and query may carry a session token; keep them out of logs.
        return (
            f"RequestParts(method={self.method!r}, path={self.path!r}, "
            f"headers={len(self.headers)}, body={len(self.body)} bytes)"
        )


@dataclass(frozen=True, slots=True)
class CredentialScope:
    date: str
    region: str
    service: str
    terminator: str
    text: str = field(init=False, repr=False, compare=False)
    """`date/region/service/terminator`, as it goes into the string to sign."""

    def __post_init__(self) -> None:
        text = f"{self.date}/{self.region}/{self.service}/{self.terminator}"
        object.__setattr__(self, "text", text)

    def __str__(self) -> str:
        return self.text


class SignedRequest(NamedTuple):
    """What a request claims about its signature; nothing here has been verified yet.

    Immutable (a named tuple: it is built on every request and this is the cheapest record).
    """

    access_key_id: str
    scope: CredentialScope
    signed_headers: tuple[str, ...]
    timestamp: str
    """`YYYYMMDD'T'HHMMSS'Z'`, as used in the string to sign."""
    request_time: int
    """`timestamp` in seconds since the epoch."""
    presigned: bool
    expires: int | None
    """X-Amz-Expires of a presigned URL, when given."""
    session_token: str | None
    session_token_signed: bool
    signature: str
    parts: RequestParts
    signed_headers_text: str
    header_index: Mapping[str, list[str]]
    """Header values by lower-case name, in arrival order."""
    query: list[tuple[str, str]]
    """Canonically encoded query parameters in wire order."""

    def __repr__(self) -> str:
        # The session token is a credential; the rest of the request stays out of logs too.
        return (
            f"SignedRequest(access_key_id={self.access_key_id!r}, scope='{self.scope}', "
            f"signed_headers={self.signed_headers!r}, timestamp={self.timestamp!r}, "
            f"presigned={self.presigned}, expires={self.expires})"
        )


# -- parsing ----------------------------------------------------------------------------------


def _index_headers(headers: Sequence[tuple[str, str]]) -> dict[str, list[str]]:
    index: dict[str, list[str]] = {}
    for name, value in headers:
        index.setdefault(name.lower(), []).append(value)
    return index


def _iso_epoch(value: str) -> int | None:
    """Seconds since the epoch for `YYYYMMDDTHHMMSSZ`, or None if it is not exactly that."""
    return _iso_epoch_16(value) if len(value) == 16 else None


@lru_cache(maxsize=4096)
def _iso_epoch_16(value: str) -> int | None:
    if value[8] != "T" or value[15] != "Z":
        return None
    digits = value[:8] + value[9:15]
    if not (digits.isascii() and digits.isdigit()):
        return None
    hour, minute, second = int(value[9:11]), int(value[11:13]), int(value[13:15])
    if hour > 23 or minute > 59 or second > 59:
        return None
    try:
        day = _date(int(value[:4]), int(value[4:6]), int(value[6:8])).toordinal()
    except ValueError:
        return None
    return (day - _EPOCH_ORDINAL) * 86400 + hour * 3600 + minute * 60 + second


def format_timestamp(epoch: float) -> str:
    """`YYYYMMDDTHHMMSSZ` for a time in seconds since the epoch (fractions dropped)."""
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(int(epoch)))


def _parse_date(value: str, *, http_date: bool) -> tuple[str, int]:
    """The string-to-sign timestamp and its epoch; a `Date` header may also be an HTTP date."""
    value = value.strip()
    epoch = _iso_epoch(value)
    if epoch is not None:
        return value, epoch
    if http_date:
        parsed = parsedate_tz(value)
        if parsed is not None:
            # email.utils reports "-0000" as an unknown zone; HTTP dates are UTC regardless.
            epoch = calendar.timegm((*parsed[:6], 0, 1, -1)) - (parsed[9] or 0)
            return format_timestamp(epoch), epoch
    raise IncompleteSignature(MSG_DATE_FORMAT.format(value=value))


# Memoised helpers see client-controlled text: only short inputs are cached, so the caches
# stay small whatever a client sends.
_CACHEABLE = 256


def _parse_credential(credential: str) -> tuple[str, CredentialScope]:
    if len(credential) <= _CACHEABLE:
        return _parse_credential_cached(credential)
    return _parse_credential_uncached(credential)


def _parse_credential_uncached(credential: str) -> tuple[str, CredentialScope]:
    pieces = credential.rstrip("/").split("/")  # AWS ignores trailing slashes here
    if len(pieces) != 5:
        raise IncompleteSignature(MSG_CREDENTIAL_PARTS.format(credential=credential))
    key, day, region, service, terminator = pieces
    return key, CredentialScope(day, region, service, terminator)


_parse_credential_cached = lru_cache(maxsize=4096)(_parse_credential_uncached)


def _split_signed_headers(text: str) -> tuple[tuple[str, ...], frozenset[str]]:
    """The names as listed (they go into the canonical request) and lower-cased (for checks)."""
    if len(text) <= _CACHEABLE:
        return _split_signed_headers_cached(text)
    return _split_signed_headers_uncached(text)


def _split_signed_headers_uncached(text: str) -> tuple[tuple[str, ...], frozenset[str]]:
    names = tuple(text.split(";")) if text else ()
    lowered = frozenset(n.lower() for n in names)
    if "host" not in lowered and ":authority" not in lowered:
        raise InvalidSignature(MSG_HOST_NOT_SIGNED)
    return names, lowered


_split_signed_headers_cached = lru_cache(maxsize=1024)(_split_signed_headers_uncached)


def parse(parts: RequestParts) -> SignedRequest:
    """Read the signature claims from the Authorization header or the presigned query.

    Raises MissingAuthenticationToken when the request carries neither, and
    IncompleteSignature / InvalidSignature (with AWS's texts) when they are malformed.
    """
    index = _index_headers(parts.headers)
    pairs = _c.query_pairs(parts.query)
    authorization = index.get("authorization")
    # Without a `%` the name can only be spelled literally; skip the scan when it is absent.
    query = parts.query
    presigned = ("X-Amz-Algorithm" in query or "%" in query) and any(
        name == "X-Amz-Algorithm" for name, _ in pairs
    )
    if authorization is not None:
        if presigned:
            raise InvalidSignature(MSG_BOTH_FORMS)
        return _parse_header_form(parts, index, pairs, authorization[0])
    if presigned:
        return _parse_query_form(parts, index, pairs)
    raise MissingAuthenticationToken()


def _parse_header_form(
    parts: RequestParts,
    index: dict[str, list[str]],
    pairs: list[tuple[str, str]],
    header: str,
) -> SignedRequest:
    fields = header.strip().split(None, 1)
    algorithm = fields[0] if fields else ""
    params: dict[str, str] = {}
    if len(fields) > 1:
        for piece in fields[1].split(","):
            key, equals, value = piece.partition("=")
            if not equals:
                if not piece.strip():
                    continue
                digest = base64.b64encode(hashlib.sha256(_c.to_bytes(header)).digest())
                raise IncompleteSignature(MSG_KEY_VALUE.format(digest=digest.decode("ascii")))
            params[key.strip()] = value.strip()  # a repeated key: the last one counts

    credential = params.get("Credential", "")
    signature = params.get("Signature", "")
    signed_text = params.get("SignedHeaders")
    date_name = "x-amz-date" if "x-amz-date" in index else "date" if "date" in index else None
    missing = []
    if not credential:
        missing.append(MSG_REQUIRES_CREDENTIAL)
    if not signature:
        missing.append(MSG_REQUIRES_SIGNATURE)
    if signed_text is None:
        missing.append(MSG_REQUIRES_SIGNED_HEADERS)
    if date_name is None:
        missing.append(MSG_REQUIRES_DATE)
    if missing or signed_text is None or date_name is None:
        raise IncompleteSignature(f"{' '.join(missing)} Authorization={header}")

    timestamp, when = _parse_date(index[date_name][0], http_date=date_name == "date")
    signed, lowered = _split_signed_headers(signed_text)
    if date_name not in lowered:
        raise InvalidSignature(MSG_NOT_SIGNED.format(name=_DATE_HEADERS[date_name]))
    if algorithm != _c.ALGORITHM:
        raise IncompleteSignature(MSG_ALGORITHM.format(algorithm=algorithm))
    access_key_id, scope = _parse_credential(credential)
    tokens = index.get("x-amz-security-token")
    return SignedRequest(
        access_key_id,
        scope,
        signed,
        timestamp,
        when,
        False,  # presigned
        None,  # expires
        tokens[0].strip() if tokens else None,
        "x-amz-security-token" in lowered,
        signature,
        parts,
        signed_text,
        index,
        pairs,
    )


def _parse_expires(text: str) -> int:
    digits = text[1:] if text.startswith("-") else text
    if not (digits.isascii() and digits.isdigit()):
        raise IncompleteSignature(MSG_EXPIRES_NAN)
    seconds = int(text)
    if seconds < 0:
        raise IncompleteSignature(MSG_EXPIRES_NEGATIVE)
    if seconds == 0:
        raise IncompleteSignature(MSG_EXPIRES_ZERO)
    if seconds > MAX_PRESIGNED_EXPIRES:
        raise IncompleteSignature(MSG_EXPIRES_TOO_LONG)
    return seconds


def _parse_query_form(
    parts: RequestParts, index: dict[str, list[str]], pairs: list[tuple[str, str]]
) -> SignedRequest:
    amz: dict[str, str] = {}
    for name, value in pairs:
        if name.startswith("X-Amz-") and name not in amz:  # a repeated one: the first counts
            amz[name] = _c.decode_component(value)
    if amz["X-Amz-Algorithm"] != _c.ALGORITHM:
        raise MissingAuthenticationToken()
    required = ("X-Amz-Credential", "X-Amz-Signature", "X-Amz-SignedHeaders", "X-Amz-Date")
    missing = [
        MSG_QUERY_REQUIRES.format(name=name)
        for name in required
        if name not in amz or (not amz[name] and name != "X-Amz-SignedHeaders")
    ]
    if missing:
        raise IncompleteSignature(f"{' '.join(missing)} {MSG_QUERY_REEXAMINE}")

    timestamp, when = _parse_date(amz["X-Amz-Date"], http_date=False)
    signed, _ = _split_signed_headers(amz["X-Amz-SignedHeaders"])
    access_key_id, scope = _parse_credential(amz["X-Amz-Credential"])
    expires_text = amz.get("X-Amz-Expires")
    token = amz.get("X-Amz-Security-Token")
    return SignedRequest(
        access_key_id,
        scope,
        signed,
        timestamp,
        when,
        True,  # presigned
        _parse_expires(expires_text) if expires_text is not None else None,
        token,
        token is not None,  # the token is a query parameter, so it is signed
        amz["X-Amz-Signature"],
        parts,
        amz["X-Amz-SignedHeaders"],
        index,
        pairs,
    )


# -- checks that need no secret ---------------------------------------------------------------


def _window(seconds: int) -> str:
    return f"{seconds // 60} min" if seconds % 60 == 0 else f"{seconds} sec"


def check(
    signed: SignedRequest,
    *,
    now: float,
    expected_region: str,
    expected_service: str,
    max_skew: int = DEFAULT_MAX_SKEW,
    require_signed_session_token: bool = False,
) -> None:
    """Clock skew (or presigned expiry) and credential scope, in AWS's order.

    Run it before looking the access key up, so these errors win over an unknown key as in AWS.
    `now` is seconds since the epoch.
    """
    now_s = int(now)
    when = signed.request_time
    if signed.expires is not None:
        if now_s > when + signed.expires:
            raise InvalidSignature(MSG_PRESIGNED_EXPIRED)
    elif when < now_s - max_skew:
        raise InvalidSignature(
            MSG_EXPIRED.format(
                request=signed.timestamp,
                limit=format_timestamp(now_s - max_skew),
                now=format_timestamp(now_s),
                window=_window(max_skew),
            )
        )
    if when > now_s + max_skew:
        raise InvalidSignature(
            MSG_NOT_YET.format(
                request=signed.timestamp,
                limit=format_timestamp(now_s + max_skew),
                now=format_timestamp(now_s),
                window=_window(max_skew),
            )
        )

    scope = signed.scope
    problems = ""
    if scope.region != expected_region:
        problems += MSG_SCOPE_REGION.format(region=scope.region)
    if scope.service != expected_service:
        problems += MSG_SCOPE_SERVICE.format(service=expected_service)
    if scope.terminator != "aws4_request":
        problems += MSG_SCOPE_TERMINATOR.format(terminator=scope.terminator)
    if scope.date != signed.timestamp[:8]:
        problems += MSG_SCOPE_DATE.format(
            scope=scope.date, request=signed.timestamp[:8], timestamp=signed.timestamp
        )
    if problems:
        raise InvalidSignature(problems)
    if require_signed_session_token and signed.session_token and not signed.session_token_signed:
        raise InvalidSignature(MSG_NOT_SIGNED.format(name="X-Amz-Security-Token"))


# -- signing keys -----------------------------------------------------------------------------


_IPAD = bytes(b ^ 0x36 for b in range(256))
_OPAD = bytes(b ^ 0x5C for b in range(256))


class SigningKey:
    """kSigning with HMAC-SHA256's keyed inner and outer states computed once.

    Signing a string then costs two hash-state copies instead of re-keying (RFC 2104 by hand;
    the result equals `hmac.new(key, msg, sha256)`).
    """

    __slots__ = ("_inner", "_outer")

    def __init__(self, key: bytes) -> None:
        block = (hashlib.sha256(key).digest() if len(key) > 64 else key).ljust(64, b"\0")
        self._inner: _Hash = hashlib.sha256(block.translate(_IPAD))
        self._outer: _Hash = hashlib.sha256(block.translate(_OPAD))

    def __repr__(self) -> str:
        return "SigningKey(<redacted>)"

    def sign(self, message: bytes) -> str:
        """Lowercase hex HMAC-SHA256 of `message`."""
        inner = self._inner.copy()
        inner.update(message)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.hexdigest()


class SecretKey:
    """A secret access key. It never shows in reprs; `fingerprint` stands for it in caches."""

    __slots__ = ("_material", "fingerprint")

    def __init__(self, secret: str) -> None:
        self._material = b"AWS4" + secret.encode("utf-8")
        self.fingerprint = hashlib.sha256(b"authgate-sigv4-key\0" + self._material).digest()

    def __repr__(self) -> str:
        return "SecretKey(<redacted>)"

    def signing_key(self, day: str, region: str, service: str) -> bytes:
        """kSigning for one day, region and service (four chained HMAC-SHA256)."""
        key = hmac.digest(self._material, day.encode("utf-8"), "sha256")
        key = hmac.digest(key, region.encode("utf-8"), "sha256")
        key = hmac.digest(key, service.encode("utf-8"), "sha256")
        return hmac.digest(key, b"aws4_request", "sha256")


class SigningKeyCache:
    """Least-recently-used signing keys, keyed by (secret fingerprint, day, region, service).

    A key is valid for a whole day, so a busy caller derives it once instead of four HMACs per
    request. Thread-safe; entries are never shown.
    """

    def __init__(self, maxsize: int = 4096) -> None:
        if maxsize < 1:
            raise ValueError("maxsize must be at least 1")
        self.maxsize = maxsize
        self._entries: OrderedDict[tuple[bytes, str, str, str], SigningKey] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"SigningKeyCache(size={len(self._entries)}, maxsize={self.maxsize})"

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def get(self, secret: SecretKey, day: str, region: str, service: str) -> SigningKey:
        slot = (secret.fingerprint, day, region, service)
        entries = self._entries
        with self._lock:
            found = entries.get(slot)
            if found is not None:
                entries.move_to_end(slot)
                return found
        derived = SigningKey(secret.signing_key(day, region, service))
        with self._lock:
            entries[slot] = derived
            if len(entries) > self.maxsize:
                entries.popitem(last=False)
        return derived


DEFAULT_KEY_CACHE = SigningKeyCache()


# -- signature --------------------------------------------------------------------------------


def _body_sha256(parts: RequestParts) -> str:
    if parts.body_sha256 is not None:
        return parts.body_sha256.lower()
    return _c.sha256_hex(parts.body) if parts.body else _c.EMPTY_SHA256


def payload_hash(signed: SignedRequest) -> str:
    """The canonical request's last line: what the client claims in x-amz-content-sha256
    (checked against the body after the signature), else the body's own SHA-256."""
    if not signed.presigned:
        claimed = signed.header_index.get("x-amz-content-sha256")
        if claimed:
            return claimed[0].strip()
    return _body_sha256(signed.parts)


def canonical_request(signed: SignedRequest, payload: str | None = None) -> str:
    parts = signed.parts
    return _c.canonical_request(
        parts.method,
        _c.canonical_uri(parts.path),
        _c.canonical_query(signed.query, "X-Amz-Signature" if signed.presigned else None),
        _c.canonical_headers(signed.header_index, signed.signed_headers),
        signed.signed_headers_text,
        payload_hash(signed) if payload is None else payload,
    )


def string_to_sign(signed: SignedRequest, canonical: str) -> str:
    return _c.string_to_sign(signed.timestamp, signed.scope.text, canonical)


def verify_signature(
    signed: SignedRequest,
    secret: SecretKey | str,
    *,
    allow_unsigned_payload: bool = False,
    key_cache: SigningKeyCache = DEFAULT_KEY_CACHE,
) -> None:
    """Recompute the signature with `secret` and compare in constant time.

    When the client sent x-amz-content-sha256, the body must hash to it, except for
    `UNSIGNED-PAYLOAD` when `allow_unsigned_payload` (an S3 convention; off for execute-api).
    """
    key = secret if isinstance(secret, SecretKey) else SecretKey(secret)
    payload = payload_hash(signed)
    creq = canonical_request(signed, payload)
    sts = string_to_sign(signed, creq)
    scope = signed.scope
    expected = key_cache.get(key, scope.date, scope.region, scope.service).sign(_c.to_bytes(sts))
    provided = signed.signature
    if not (provided.isascii() and hmac.compare_digest(expected, provided)):
        raise SignatureMismatch(creq, sts)
    if signed.presigned or "x-amz-content-sha256" not in signed.header_index:
        return
    if payload == UNSIGNED_PAYLOAD and allow_unsigned_payload:
        return
    if payload.lower() != _body_sha256(signed.parts):
        raise InvalidSignature(MSG_CONTENT_SHA256)


def verify(
    request: RequestParts | SignedRequest,
    secret: SecretKey | str,
    *,
    now: float,
    expected_region: str,
    expected_service: str,
    max_skew: int = DEFAULT_MAX_SKEW,
    allow_unsigned_payload: bool = False,
    require_signed_session_token: bool = False,
    key_cache: SigningKeyCache = DEFAULT_KEY_CACHE,
) -> SignedRequest:
    """parse + check + verify_signature; returns the (now verified) claims."""
    signed = request if isinstance(request, SignedRequest) else parse(request)
    check(
        signed,
        now=now,
        expected_region=expected_region,
        expected_service=expected_service,
        max_skew=max_skew,
        require_signed_session_token=require_signed_session_token,
    )
    verify_signature(
        signed, secret, allow_unsigned_payload=allow_unsigned_payload, key_cache=key_cache
    )
    return signed
