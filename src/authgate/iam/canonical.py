"""SigV4 canonical request and string to sign, rebuilt from a request as it arrived on the wire.

Text convention: every `str` here stands for wire bytes decoded as latin-1 (how the HTTP layer
hands over header values), so `text.encode("latin-1")` gives the original bytes back. Text that
cannot be latin-1 (a caller passing real Unicode) is encoded as UTF-8 instead, which is what a
client signing that Unicode would have done.

The rules (double-encoded path, normalised query, trimmed headers) follow AWS for every service
except S3; see the SigV4 conformance vectors and the spec for execute-api.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from urllib.parse import quote_from_bytes, unquote_to_bytes

ALGORITHM = "AWS4-HMAC-SHA256"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()

_UNRESERVED = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~"
_UNRESERVED_OR_PLUS = _UNRESERVED + "+"
_PATH_SAFE = _UNRESERVED + "/"
_QUERY_PLAIN_OR_PLUS = _UNRESERVED + "=&+"
_HEADER_SPACE = " \t\r\n"
_HEX = "0123456789ABCDEFabcdef"

# str.translate tables over the latin-1 range; wider characters pass through untouched, which
# the callers detect (not ASCII afterwards) and hand to the UTF-8 fallback.
_PATH_TABLE = {c: f"%{c:02X}" for c in range(256) if chr(c) not in _PATH_SAFE}
_QUERY_TABLE = {c: f"%{c:02X}" for c in range(256) if chr(c) not in _UNRESERVED}
_QUERY_TABLE[ord("+")] = "%20"
# Every `%xy` escape in canonical form: unreserved characters decoded, other hex upper-cased.
_ESCAPES = {
    a + b: chr(int(a + b, 16)) if chr(int(a + b, 16)) in _UNRESERVED else f"%{(a + b).upper()}"
    for a in _HEX
    for b in _HEX
}


def to_bytes(text: str) -> bytes:
    """The wire bytes behind `text` (latin-1), or its UTF-8 when it holds wider characters."""
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return text.encode("utf-8")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# -- path -------------------------------------------------------------------------------------


def normalize_path(path: str) -> str:
    """Drop `.`/`..` segments and empty segments as SDKs do for every service but S3.

    A trailing slash survives only when something is left before it (`/a/` stays, `/a/..` is `/`).
    """
    if not path:
        return "/"
    if path[0] == "/" and "//" not in path and "/." not in path:
        return path
    kept: list[str] = []
    for segment in path.split("/"):
        if not segment or segment == ".":
            continue
        if segment == "..":
            if kept:
                kept.pop()
        else:
            kept.append(segment)
    lead = "/" if path[0] == "/" else ""
    trail = "/" if path[-1] == "/" and kept else ""
    return lead + "/".join(kept) + trail


def canonical_uri(path: str) -> str:
    """Normalise the wire path, then percent-encode it once more (`%` becomes `%25`)."""
    # Paths repeat across requests; long (client-chosen) ones are not worth keeping.
    return _canonical_uri_cached(path) if len(path) <= 256 else _canonical_uri(path)


def _canonical_uri(path: str) -> str:
    normalized = normalize_path(path)
    if not normalized.strip(_PATH_SAFE):
        return normalized
    encoded = normalized.translate(_PATH_TABLE)
    if encoded.isascii():
        return encoded
    return quote_from_bytes(to_bytes(normalized), safe="/~")


_canonical_uri_cached = lru_cache(maxsize=4096)(_canonical_uri)


# -- query ------------------------------------------------------------------------------------


def _normalize_component(raw: str) -> str:
    """One query name or value in RFC 3986 form; `+` counts as an encoded space."""
    if not raw.strip(_UNRESERVED):
        return raw
    if "%" not in raw:
        if not raw.strip(_UNRESERVED_OR_PLUS):
            return raw.replace("+", "%20")
        encoded = raw.translate(_QUERY_TABLE)
    else:
        chunks = raw.split("%")
        out = [chunks[0].translate(_QUERY_TABLE)]
        for chunk in chunks[1:]:
            escape = _ESCAPES.get(chunk[:2])
            if escape is None:  # a stray `%` is data
                out.append("%25" + chunk.translate(_QUERY_TABLE))
            else:
                out.append(escape + chunk[2:].translate(_QUERY_TABLE))
        encoded = "".join(out)
    if encoded.isascii():
        return encoded
    return quote_from_bytes(unquote_to_bytes(to_bytes(raw.replace("+", " "))), safe="~")


def query_pairs(query: str) -> list[tuple[str, str]]:
    """The query's parameters in wire order, names and values re-encoded canonically.

    Pieces without `=` get an empty value, and empty pieces are kept (as `=`), as SDKs sign them.
    """
    if not query:
        return []
    if not query.strip(_QUERY_PLAIN_OR_PLUS):
        query = query.replace("+", "%20")
        plain: list[tuple[str, str]] = []
        for piece in query.split("&"):
            name, _, value = piece.partition("=")
            plain.append((name, value.replace("=", "%3D") if "=" in value else value))
        return plain
    pairs: list[tuple[str, str]] = []
    for piece in query.split("&"):
        name, _, value = piece.partition("=")
        pairs.append((_normalize_component(name), _normalize_component(value)))
    return pairs


def decode_component(encoded: str) -> str:
    """The text of a canonically encoded query component (for reading `X-Amz-*` parameters)."""
    if "%" not in encoded:
        return encoded
    return unquote_to_bytes(encoded).decode("latin-1")


def canonical_query(pairs: Iterable[tuple[str, str]], exclude: str | None = None) -> str:
    """Sorted by name, then value (byte order), optionally leaving out one parameter name."""
    chosen = [p for p in pairs if p[0] != exclude] if exclude is not None else list(pairs)
    if len(chosen) > 1:
        chosen.sort()
    return "&".join([f"{name}={value}" for name, value in chosen])


# -- headers ----------------------------------------------------------------------------------


def trim_header_value(value: str) -> str:
    """Trim, and fold every run of whitespace (obs-fold line breaks included) to one space."""
    value = value.strip(_HEADER_SPACE)
    if "  " in value or "\t" in value or "\n" in value or "\r" in value:
        spaced = value.replace("\t", " ").replace("\r", " ").replace("\n", " ")
        value = " ".join([word for word in spaced.split(" ") if word])
    return value


def canonical_headers(index: Mapping[str, list[str]], signed: Sequence[str]) -> str:
    """`name:value\\n` per signed header; repeated fields joined with `,` in arrival order.

    `index` maps lower-case names to raw values. A signed name the request lacks is rendered
    with an empty value, so the signature can only match if the signer did the same.
    """
    lines: list[str] = []
    for name in signed:
        values = index.get(name) or index.get(name.lower())
        if not values:
            lines.append(f"{name}:\n")
        elif len(values) == 1:
            lines.append(f"{name}:{trim_header_value(values[0])}\n")
        else:
            lines.append(f"{name}:{','.join([trim_header_value(v) for v in values])}\n")
    return "".join(lines)


# -- assembly ---------------------------------------------------------------------------------


def canonical_request(
    method: str,
    uri: str,
    query: str,
    headers: str,
    signed_headers: str,
    payload_hash: str,
) -> str:
    return f"{method}\n{uri}\n{query}\n{headers}\n{signed_headers}\n{payload_hash}"


def string_to_sign(timestamp: str, scope: str, canonical: str) -> str:
    """`scope` is `YYYYMMDD/region/service/aws4_request`; the last line is the request's hash."""
    return f"{ALGORITHM}\n{timestamp}\n{scope}\n{sha256_hex(to_bytes(canonical))}"
