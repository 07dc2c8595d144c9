"""How an HTTP integration's request is assembled from the client's: URI placeholders,
`requestParameters` and the forwarding headers.

Pure: no I/O. Everything in a definition is parsed once, when a method is compiled, into
small operations (closures over names already lower-cased and escaped); a request only runs
them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, quote

from authgate.errors import Problem
from authgate.http1.client import RawHeaders
from authgate.http1.message import Headers, Request

if TYPE_CHECKING:
    from authgate.gateway.exchange import Exchange

Query = Mapping[str, str]
Getter = Callable[["Exchange", Query], "str | None"]
"""Reads one source value; the query argument is the decoded query string, or empty when no
source of the method needs it."""

HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-connection",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
"""RFC 9110 §7.6.1 connection-specific fields, plus the legacy Proxy-Connection."""

_CONNECTION_OPTIONS = frozenset({"keep-alive", "close"})
_NOT_FORWARDED = frozenset(
    {"host", "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "expect"}
)
"""Replaced by the proxy's own values; `Expect` was already answered to the client."""
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_NAME = re.compile(r"^[A-Za-z0-9._~\-]+$")
_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_UNSAFE_VALUE = re.compile(r"[\r\n\x00]")


@dataclass(frozen=True, slots=True)
class Source:
    """One compiled right-hand side of a request parameter."""

    get: Getter
    raw_path: bool = False
    """The value is a raw (still percent-escaped) path segment: never escape it again."""
    needs_query: bool = False


@dataclass(frozen=True, slots=True)
class RequestMapping:
    """The compiled `requestParameters` of one integration."""

    headers: tuple[tuple[str, Source], ...] = ()
    """(Header-Name as declared, source)."""
    header_names: frozenset[str] = frozenset()
    """The mapped header names, lower-case: client headers of these names are replaced."""
    query: tuple[tuple[str, Source], ...] = ()
    """(name already percent-encoded, source)."""
    query_names: frozenset[str] = frozenset()
    path: Mapping[str, Source] | None = None
    needs_query: bool = False


def pointer_token(text: str) -> str:
    """Escape one JSON-pointer reference token."""
    return text.replace("~", "~0").replace("/", "~1")


def compile_source(
    expression: str, where: str, problems: list[Problem], *, allow_stage: bool = True
) -> Source | None:
    """Turn an API Gateway mapping expression into a getter; None (and a problem) if unknown."""
    if len(expression) >= 2 and expression[0] == "'" and expression[-1] == "'":
        static = expression[1:-1]
        return Source(lambda _e, _q: static)
    prefix, _, name = expression.partition(".request.")
    if prefix == "method" and name:
        kind, _, key = name.partition(".")
        if key and kind == "header":
            low = key.lower()
            return Source(lambda e, _q: e.request.header(low))
        if key and kind == "querystring":
            return Source(lambda _e, q: q.get(key), needs_query=True)
        if key and kind == "path":
            return Source(lambda e, _q: e.path_parameters.get(key), raw_path=True)
    if expression == "context.requestId":
        return Source(lambda e, _q: e.request_id)
    if expression == "context.identity.sourceIp":
        return Source(lambda e, _q: e.source_ip)
    if expression == "context.stage":
        return Source(lambda e, _q: e.stage.stage if e.stage is not None else None)
    if expression.startswith("context.authorizer.") and len(expression) > 19:
        key = expression[19:]
        return Source(lambda e, _q: _authorizer_value(e, key))
    if allow_stage and expression.startswith("stageVariables.") and len(expression) > 15:
        key = expression[15:]
        return Source(lambda e, _q: e.stage.variables.get(key) if e.stage is not None else None)
    problems.append(Problem(where, f"unsupported mapping source {expression!r}"))
    return None


def _authorizer_value(exchange: Exchange, key: str) -> str | None:
    context = exchange.authorizer_context
    if not context:
        return None
    value = context.get(key)
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def compile_request_parameters(
    parameters: Mapping[str, str], where: str, problems: list[Problem]
) -> RequestMapping:
    """Compile `integration.request.{header,querystring,path}.NAME` → source expressions."""
    headers: list[tuple[str, Source]] = []
    query: list[tuple[str, Source]] = []
    path: dict[str, Source] = {}
    for target, expression in parameters.items():
        at = f"{where}/{pointer_token(target)}"
        kind, name = _target(target)
        if kind is None:
            problems.append(Problem(at, f"unsupported mapping target {target!r}"))
            continue
        if kind == "header" and not _TOKEN.match(name):
            problems.append(Problem(at, f"invalid header name {name!r}"))
            continue
        source = compile_source(expression, at, problems)
        if source is None:
            continue
        if kind == "header":
            headers.append((name, source))
        elif kind == "querystring":
            query.append((quote(name, safe=""), source))
        else:
            path[name] = source
    sources = [s for _, s in headers] + [s for _, s in query] + list(path.values())
    return RequestMapping(
        headers=tuple(headers),
        header_names=frozenset(name.lower() for name, _ in headers),
        query=tuple(query),
        query_names=frozenset(name for name, _ in query),
        path=path or None,
        needs_query=any(s.needs_query for s in sources),
    )


def _target(target: str) -> tuple[str | None, str]:
    prefix = "integration.request."
    if not target.startswith(prefix):
        return None, ""
    kind, _, name = target[len(prefix) :].partition(".")
    if kind not in ("header", "querystring", "path") or not name:
        return None, ""
    return kind, name


def decoded_query(request: Request) -> dict[str, str]:
    """The client's query string as REST API mappings see it: decoded, last value wins."""
    return dict(parse_qsl(request.query, keep_blank_values=True))


def header_value(value: str) -> str:
    """A mapped value made safe for a header line: no CR/LF/NUL, UTF-8 octets kept."""
    if _UNSAFE_VALUE.search(value):
        value = _UNSAFE_VALUE.sub("", value)
    if not value.isascii():
        value = value.encode("utf-8").decode("latin-1")
    return value


@dataclass(frozen=True, slots=True)
class TargetTemplate:
    """The integration URI's path and query with `{name}` placeholders, split once.

    `parts` alternates literal text and placeholder names: literal, name, literal, ...
    """

    parts: tuple[str, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return self.parts[1::2]

    def render(self, exchange: Exchange, mapping: RequestMapping, query: Query) -> str:
        parts = self.parts
        if len(parts) == 1:
            return parts[0]
        out = [parts[0]]
        mapped = mapping.path
        for i in range(1, len(parts), 2):
            name = parts[i]
            source = mapped.get(name) if mapped is not None else None
            if source is None:
                value = exchange.path_parameters.get(name) or ""
            else:
                value = source.get(exchange, query) or ""
                if not source.raw_path:
                    value = quote(value, safe="")
            out.append(value)
            out.append(parts[i + 1])
        return "".join(out)


def compile_target(target: str, where: str, problems: list[Problem]) -> TargetTemplate:
    """Split a request target at its `{name}` / `{name+}` placeholders."""
    parts: list[str] = []
    last = 0
    for match in _PLACEHOLDER.finditer(target):
        name = match.group(1)
        if name.endswith("+"):
            name = name[:-1]
        if not _NAME.match(name):
            problems.append(Problem(where, f"invalid placeholder {match.group(0)!r} in uri"))
        parts.append(target[last : match.start()])
        parts.append(name)
        last = match.end()
    rest = target[last:]
    if "{" in rest or "}" in rest or any("{" in p or "}" in p for p in parts[::2]):
        problems.append(Problem(where, "unbalanced '{' or '}' in uri"))
    parts.append(rest)
    return TargetTemplate(tuple(parts))


def connection_tokens(value: str | None) -> frozenset[str]:
    """The header names a Connection header declares hop-by-hop."""
    if not value:
        return frozenset()
    return frozenset(t.strip().lower() for t in value.split(",") if t.strip())


def proxy_request_headers(request: Request, drop_mapped: frozenset[str], authority: str) -> Headers:
    """Client headers as a proxy forwards them: hop-by-hop, Expect, Host and X-Forwarded-*
    removed (the caller adds its own), `Host` set to the backend's."""
    dropped = connection_tokens(request.header("connection"))
    out: Headers = [("Host", authority)]
    append = out.append
    for name, value in request.headers:
        low = name.lower()
        if low in HOP_BY_HOP or low in _NOT_FORWARDED or low in dropped or low in drop_mapped:
            continue
        append((name, value))
    return out


def add_forwarding(headers: Headers, request: Request, client_ip: str) -> None:
    """X-Forwarded-For gets the client appended; -Proto and -Host describe the client's view."""
    previous = request.header("x-forwarded-for")
    headers.append(("X-Forwarded-For", f"{previous}, {client_ip}" if previous else client_ip))
    headers.append(("X-Forwarded-Proto", request.scheme))
    host = request.header("host")
    if host:
        headers.append(("X-Forwarded-Host", host))


def add_mapped_headers(
    headers: Headers, exchange: Exchange, mapping: RequestMapping, query: Query
) -> None:
    for name, source in mapping.headers:
        value = source.get(exchange, query)
        if value is not None:
            headers.append((name, header_value(value)))


def merge_query(
    target: str, client_query: str, exchange: Exchange, mapping: RequestMapping, query: Query
) -> str:
    """Append the client's raw query (minus names the mapping sets) and the mapped pairs."""
    pieces: list[str] = []
    if client_query:
        if mapping.query_names:
            for pair in client_query.split("&"):
                name = pair.partition("=")[0]
                if name not in mapping.query_names:
                    pieces.append(pair)
        else:
            pieces.append(client_query)
    for name, source in mapping.query:
        value = source.get(exchange, query)
        if value is not None:
            pieces.append(f"{name}={value if source.raw_path else quote(value, safe='')}")
    if not pieces:
        return target
    joined = "&".join(p for p in pieces if p)
    if not joined:
        return target
    separator = "&" if "?" in target else "?"
    if target.endswith(("?", "&")):
        separator = ""
    return f"{target}{separator}{joined}"


_RAW_NOT_PASSED = frozenset(name.encode() for name in HOP_BY_HOP | {"content-length"})


def response_head(raw: RawHeaders) -> tuple[str | None, bytes]:
    """A backend's response as a proxy passes it back: (its content-length, the rest of its
    header lines encoded once). Hop-by-hop fields are dropped; the parser has already refused
    CR, LF and bad names. The length travels apart because the server frames what it sends
    with it (and a HEAD answer keeps the backend's)."""
    lines = [b"%b: %b\r\n" % field for field in raw if field[0].lower() not in _RAW_NOT_PASSED]
    length = None
    connection: list[bytes] = []
    for name, value in raw:
        if len(name) == 14 and name.lower() == b"content-length":
            length = value.decode("latin-1")
        elif len(name) == 10 and name.lower() == b"connection":
            connection.append(value)
    if connection:
        named = connection_tokens(b",".join(connection).decode("latin-1")) - _CONNECTION_OPTIONS
        if named:
            return length, b"".join(line for line in lines if _field_name(line) not in named)
    return length, b"".join(lines)


def _field_name(line: bytes) -> str:
    return line.partition(b":")[0].decode("latin-1").lower()
