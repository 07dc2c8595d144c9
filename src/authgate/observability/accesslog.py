"""Access log: one line per request, in AWS's `$context` vocabulary.

A stage may set its own format exactly as AWS's `accessLogSettings.format` (JSON, CLF, ...).
Formats are compiled once into literal and variable parts; a request only fills them in.
Credentials never reach this module: no variable reads the Authorization, x-api-key or
Cookie headers, and the API key itself is never a loggable variable.
"""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Callable
from typing import IO

import orjson

from authgate.clock import request_time
from authgate.errors import ConfigError, Problem
from authgate.gateway.exchange import Exchange

Getter = Callable[[Exchange, int, int, float], object]
"""(exchange, status, response length, response latency ms) → value."""


def _stage_path(ex: Exchange) -> str:
    if ex.stage is None or ex.stage.stage == "$default":
        return ex.path or ex.request.path
    return f"/{ex.stage.stage}{ex.path}"


VARIABLES: dict[str, Getter] = {
    "requestId": lambda ex, s, n, lat: ex.request_id,
    "extendedRequestId": lambda ex, s, n, lat: ex.extended_request_id,
    "ip": lambda ex, s, n, lat: ex.source_ip,
    "identity.sourceIp": lambda ex, s, n, lat: ex.source_ip,
    "identity.userAgent": lambda ex, s, n, lat: ex.request.header("user-agent"),
    "identity.caller": lambda ex, s, n, lat: ex.identity.get("caller"),
    "identity.user": lambda ex, s, n, lat: ex.identity.get("user"),
    "identity.userArn": lambda ex, s, n, lat: ex.identity.get("userArn"),
    "identity.accountId": lambda ex, s, n, lat: ex.identity.get("accountId"),
    "identity.apiKeyId": lambda ex, s, n, lat: ex.identity.get("apiKeyId"),
    "requestTime": lambda ex, s, n, lat: request_time(ex.received_at),
    "requestTimeEpoch": lambda ex, s, n, lat: int(ex.received_at * 1000),
    "httpMethod": lambda ex, s, n, lat: ex.request.method,
    "resourcePath": lambda ex, s, n, lat: ex.method.resource_path if ex.method else None,
    "routeKey": lambda ex, s, n, lat: ex.method.route_key if ex.method else None,
    "resourceId": lambda ex, s, n, lat: ex.method.resource_id if ex.method else None,
    "path": lambda ex, s, n, lat: _stage_path(ex),
    "status": lambda ex, s, n, lat: s,
    "protocol": lambda ex, s, n, lat: f"HTTP/{ex.request.http_version}",
    "responseLength": lambda ex, s, n, lat: n,
    "responseLatency": lambda ex, s, n, lat: lat,
    "integrationLatency": lambda ex, s, n, lat: ex.integration_latency_ms,
    "integration.latency": lambda ex, s, n, lat: ex.integration_latency_ms,
    "stage": lambda ex, s, n, lat: ex.stage.stage if ex.stage else None,
    "apiId": lambda ex, s, n, lat: ex.stage.api_id if ex.stage else None,
    "accountId": lambda ex, s, n, lat: ex.stage.account_id if ex.stage else None,
    "domainName": lambda ex, s, n, lat: ex.request.header("host"),
    "error.message": lambda ex, s, n, lat: ex.error_message,
    "error.responseType": lambda ex, s, n, lat: ex.error_type,
    "authorizer.principalId": lambda ex, s, n, lat: (ex.authorizer_context or {}).get(
        "principalId"
    ),
}


def _render_default(ex: Exchange, status: int, length: int, latency: float) -> bytes:
    """The default line, written out by hand: it is on every request's path."""
    method, stage = ex.method, ex.stage
    record = {
        "requestId": ex.request_id,
        "ip": ex.source_ip,
        "requestTime": request_time(ex.received_at),
        "httpMethod": ex.request.method,
        "resourcePath": method.resource_path if method else None,
        "path": _stage_path(ex),
        "status": status,
        "protocol": "HTTP/1.1" if ex.request.http_version == "1.1" else "HTTP/1.0",
        "responseLength": length,
        "integrationLatency": ex.integration_latency_ms,
        "responseLatency": latency,
        "apiId": stage.api_id if stage else None,
        "stage": stage.stage if stage else None,
        "errorType": ex.error_type,
    }
    return orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE)


_VARIABLE = re.compile(r"\$context\.([A-Za-z][A-Za-z0-9.]*[A-Za-z0-9])")


class LineFormat:
    """A compiled access-log format."""

    def __init__(self, template: str | None, where: str = "access_log_format") -> None:
        self._parts: list[str | Getter] | None = None
        if template is None:
            return
        parts: list[str | Getter] = []
        problems: list[Problem] = []
        pos = 0
        for match in _VARIABLE.finditer(template):
            parts.append(template[pos : match.start()])
            getter = VARIABLES.get(match.group(1))
            if getter is None:
                problems.append(
                    Problem(where, f"$context.{match.group(1)} is not a supported log variable")
                )
            else:
                parts.append(getter)
            pos = match.end()
        parts.append(template[pos:])
        if problems:
            raise ConfigError(problems)
        self._parts = parts

    def render(self, ex: Exchange, status: int, length: int, latency: float) -> bytes:
        if self._parts is None:
            return _render_default(ex, status, length, latency)
        out: list[str] = []
        for part in self._parts:
            if isinstance(part, str):
                out.append(part)
            else:
                value = part(ex, status, length, latency)
                out.append("-" if value is None else str(value))
        out.append("\n")
        return "".join(out).encode()


class AccessLog:
    """Buffers lines and writes them in batches, so a request never waits on a write call."""

    def __init__(self, stream: IO[bytes], *, flush_bytes: int = 65_536) -> None:
        self._stream = stream
        self._buffer: list[bytes] = []
        self._size = 0
        self._flush_bytes = flush_bytes
        self._default = LineFormat(None)

    @classmethod
    def open(cls, target: str) -> AccessLog:
        if target == "-":
            return cls(sys.stdout.buffer)
        return cls(open(target, "ab"))

    def write(self, ex: Exchange, fmt: LineFormat | None, status: int, length: int) -> None:
        latency = round((time.monotonic() - ex.started) * 1000, 3)
        line = (fmt or self._default).render(ex, status, length, latency)
        self._buffer.append(line)
        self._size += len(line)
        if self._size >= self._flush_bytes:
            self.flush()

    def flush(self) -> None:
        if not self._buffer:
            return
        data = b"".join(self._buffer)
        self._buffer.clear()
        self._size = 0
        try:
            self._stream.write(data)
            self._stream.flush()
        except (OSError, ValueError):
            pass  # a closed or broken log sink must not take the data plane down

    def close(self) -> None:
        self.flush()
        if self._stream is not sys.stdout.buffer:
            self._stream.close()
