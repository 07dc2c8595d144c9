"""Read an authorizer's identity sources from a request: the values its result depends on.

Headers are matched case-insensitively (repeated fields comma-joined), query parameters
exactly (REST APIs: the last value of a repeated name, HTTP APIs: all values comma-joined, as
each shows them to functions), stage variables by name, and `context.*` from the few request
variables API Gateway knows before any authorizer has run. A source that is absent or empty
makes the whole read fail: AWS answers 401 then, without calling the function
(authorizers.md §2 "Identity-source gating", §3).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from authgate.definition.model import IdentitySource, Protocol
from authgate.errors import ConfigError, Problem
from authgate.integrations.lambda_events import parse_query

if TYPE_CHECKING:
    from authgate.gateway.exchange import Exchange

__all__ = ["CONTEXT_VARIABLES", "IdentityReader", "check_sources"]

ContextGetter = Callable[["Exchange"], "str | None"]


def _stage(exchange: Exchange) -> str | None:
    return exchange.stage.stage if exchange.stage is not None else None


def _api_id(exchange: Exchange) -> str | None:
    return exchange.stage.api_id if exchange.stage is not None else None


def _resource_path(exchange: Exchange) -> str | None:
    return exchange.method.resource_path if exchange.method is not None else None


def _route_key(exchange: Exchange) -> str | None:
    return exchange.method.route_key if exchange.method is not None else None


CONTEXT_VARIABLES: dict[str, ContextGetter] = {
    "apiId": _api_id,
    "httpMethod": lambda e: e.request.method,
    "identity.sourceIp": lambda e: e.source_ip,
    "identity.userAgent": lambda e: e.request.header("user-agent"),
    "path": lambda e: e.request.path,
    "protocol": lambda e: f"HTTP/{e.request.http_version}",
    "requestId": lambda e: e.request_id,
    "resourcePath": _resource_path,
    "routeKey": _route_key,
    "stage": _stage,
}
"""`$context` variables usable as identity sources (known before authorization)."""


def check_sources(sources: Sequence[IdentitySource], location: str) -> None:
    """Refuse, when the deployment is compiled, a `context.*` source authgate cannot read (it
    would otherwise turn every request away with 401)."""
    problems = [
        Problem(location, f"identity source {source.expression!r} is not supported yet")
        for source in sources
        if source.kind == "context" and source.name not in CONTEXT_VARIABLES
    ]
    if problems:
        raise ConfigError(problems)


class IdentityReader:
    """The compiled reader for one authorizer's identity sources."""

    def __init__(self, sources: Sequence[IdentitySource], protocol: Protocol) -> None:
        self._sources = tuple(
            (source.kind, source.name.lower() if source.kind == "header" else source.name)
            for source in sources
        )
        self._rest = protocol is Protocol.REST
        self._needs_query = any(source.kind == "querystring" for source in sources)
        self._one_header = (
            self._sources[0][1] if len(self._sources) == 1 and sources[0].kind == "header" else None
        )

    def read(self, exchange: Exchange) -> tuple[str, ...] | None:
        """Every source's value in declaration order; None when one is absent or empty."""
        if self._one_header is not None:  # TOKEN authorizers, on every request
            token = exchange.request.header(self._one_header)
            return (token,) if token else None
        query = self._query(exchange) if self._needs_query else None
        values: list[str] = []
        for kind, name in self._sources:
            value: str | None
            if kind == "header":
                value = exchange.request.header(name)
            elif kind == "querystring":
                value = query.get(name) if query is not None else None
            elif kind == "stageVariables":
                stage = exchange.stage
                value = stage.variables.get(name) if stage is not None else None
            else:
                value = CONTEXT_VARIABLES[name](exchange)
            if not value:
                return None
            values.append(value)
        return tuple(values)

    def _query(self, exchange: Exchange) -> dict[str, str]:
        found: dict[str, str] = {}
        for name, value in parse_query(exchange.request.query, rest=self._rest):
            if self._rest or name not in found:
                found[name] = value
            else:
                found[name] = f"{found[name]},{value}"
        return found
