"""HTTP_PROXY and HTTP integrations: forward an allowed request to a backend over the pool.

Built once per compiled method; everything a definition can get wrong is reported then, as a
ConfigError, so a request only renders precompiled pieces and streams bodies through.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING

from authgate.definition.model import EMPTY, IntegrationType
from authgate.definition.model import Integration as IntegrationSpec
from authgate.errors import ConfigError, IntegrationMalformed, Problem
from authgate.http1.client import UpstreamPool, UpstreamResponse, Url
from authgate.http1.message import Body, Headers, Response, ResponseBody
from authgate.integrations.base import Integration
from authgate.integrations.http_mapping import (
    RequestMapping,
    TargetTemplate,
    add_forwarding,
    add_mapped_headers,
    compile_request_parameters,
    compile_target,
    decoded_query,
    merge_query,
    pointer_token,
    proxy_request_headers,
    response_head,
)
from authgate.integrations.http_response import (
    ResponseSelector,
    backend_length,
    compile_responses,
    mapped_headers,
)

if TYPE_CHECKING:
    from authgate.gateway.exchange import Exchange

_INTEGRATION = "x-amazon-apigateway-integration"
_METHOD = re.compile(r"^[A-Z]+$")
_PASSTHROUGH = frozenset({"WHEN_NO_MATCH", "WHEN_NO_TEMPLATES"})


class _HttpBase:
    """What both kinds share: where the backend is and how its request line is rendered."""

    def __init__(
        self,
        pool: UpstreamPool,
        url: Url,
        template: TargetTemplate,
        mapping: RequestMapping,
        method: str | None,
        timeout: float,
    ) -> None:
        self._pool = pool
        self._url = url
        self._authority = url.authority
        self._template = template
        self._mapping = mapping
        self._method = method
        """None: the client's own verb (ANY)."""
        self._timeout = timeout

    def _query(self, exchange: Exchange) -> Mapping[str, str]:
        return decoded_query(exchange.request) if self._mapping.needs_query else EMPTY

    def _target(self, exchange: Exchange, client_query: str, query: Mapping[str, str]) -> str:
        target = self._template.render(exchange, self._mapping, query)
        return merge_query(target, client_query, exchange, self._mapping, query)

    async def _send(
        self, exchange: Exchange, target: str, headers: Headers, body: Body
    ) -> UpstreamResponse:
        method = self._method or exchange.request.method
        started = time.monotonic()
        try:
            return await self._pool.request(
                method, self._url.with_target(target), headers, body, timeout=self._timeout
            )
        finally:
            exchange.integration_latency_ms = int((time.monotonic() - started) * 1000)


class HttpProxyIntegration(_HttpBase):
    """HTTP_PROXY: the client's request goes through, and the backend's response comes back."""

    async def invoke(self, exchange: Exchange) -> Response:
        request = exchange.request
        mapping = self._mapping
        query = self._query(exchange)
        headers = proxy_request_headers(request, mapping.header_names, self._authority)
        if mapping.headers:
            add_mapped_headers(headers, exchange, mapping, query)
        add_forwarding(headers, request, exchange.source_ip)
        target = self._target(exchange, request.query, query)
        upstream = await self._send(exchange, target, headers, request.body)
        length, head = response_head(upstream.raw_headers)
        body: ResponseBody = upstream.body_bytes() if upstream.complete else upstream
        framing = [("Content-Length", length)] if length is not None else []
        return Response(upstream.status, framing, body, head)


class HttpIntegration(_HttpBase):
    """HTTP (non-proxy): only mapped parameters reach the backend; integration responses
    choose the status and headers the client sees."""

    def __init__(
        self,
        pool: UpstreamPool,
        url: Url,
        template: TargetTemplate,
        mapping: RequestMapping,
        method: str | None,
        timeout: float,
        selector: ResponseSelector,
    ) -> None:
        super().__init__(pool, url, template, mapping, method, timeout)
        self._selector = selector

    async def invoke(self, exchange: Exchange) -> Response:
        request = exchange.request
        mapping = self._mapping
        query = self._query(exchange)
        headers: Headers = [("Host", self._authority)]
        content_type = request.header("content-type")
        if content_type is not None and "content-type" not in mapping.header_names:
            headers.append(("Content-Type", content_type))  # describes the body passed through
        if mapping.headers:
            add_mapped_headers(headers, exchange, mapping, query)
        add_forwarding(headers, request, exchange.source_ip)
        target = self._target(exchange, "", query)
        upstream = await self._send(exchange, target, headers, request.body)
        rule = self._selector.select(upstream.status)
        if rule is None:
            await upstream.aclose()
            raise IntegrationMalformed(
                f"no integration response matches status {upstream.status} and none is default"
            )
        body: ResponseBody
        if rule.body is not None:
            await upstream.aclose()
            body = rule.body
            length: int | None = len(body)
        elif upstream.complete:
            body = upstream.body_bytes()
            length = len(body)
        else:
            body = upstream
            length = backend_length(upstream.headers)
        return Response(rule.status, mapped_headers(rule, upstream.headers, length), body)


def build_http_integration(
    spec: IntegrationSpec,
    uri: str,
    pool: UpstreamPool,
    *,
    location: str = "",
) -> Integration:
    """Compile an HTTP or HTTP_PROXY integration; ConfigError lists everything wrong with it.

    `uri` has its stage variables substituted already; `location` points at the method
    (`file:#/paths/...`) so problems name the field at fault.
    """
    where = f"{location}/{_INTEGRATION}" if location else _INTEGRATION
    problems: list[Problem] = []
    if spec.type not in (IntegrationType.HTTP, IntegrationType.HTTP_PROXY):
        problems.append(
            Problem(
                f"{where}/type",
                f"{getattr(spec.type, 'value', spec.type)} is not an HTTP integration",
            )
        )
        raise ConfigError(problems)
    url: Url | None = None
    if "${" in uri:
        problems.append(Problem(f"{where}/uri", f"unresolved variable in uri {uri!r}"))
    else:
        try:
            url = Url.parse(uri)
        except ValueError as exc:
            problems.append(Problem(f"{where}/uri", f"invalid uri {uri!r}: {exc}"))
        else:
            if "{" in url.host or "}" in url.host:
                problems.append(
                    Problem(f"{where}/uri", "placeholders in the host are not supported")
                )
    template = compile_target(url.target if url else "/", f"{where}/uri", problems)
    mapping = compile_request_parameters(
        spec.request_parameters, f"{where}/requestParameters", problems
    )
    for name in mapping.path or ():
        if name not in template.names:
            target = pointer_token(f"integration.request.path.{name}")
            problems.append(
                Problem(
                    f"{where}/requestParameters/{target}", f"the uri has no {{{name}}} placeholder"
                )
            )
    verb = spec.http_method.upper()
    if not _METHOD.match(verb):
        problems.append(Problem(f"{where}/httpMethod", f"invalid httpMethod {spec.http_method!r}"))
    if spec.timeout_ms <= 0:
        problems.append(Problem(f"{where}/timeoutInMillis", "must be a positive number"))
    selector: ResponseSelector | None = None
    if spec.type == IntegrationType.HTTP:
        if any(t.strip() for t in spec.request_templates.values()):
            problems.append(
                Problem(f"{where}/requestTemplates", "request templates are not supported yet")
            )
        if spec.passthrough_behavior.upper() not in _PASSTHROUGH:
            problems.append(
                Problem(
                    f"{where}/passthroughBehavior",
                    f"{spec.passthrough_behavior} is not supported (WHEN_NO_MATCH)",
                )
            )
        selector = compile_responses(spec.responses, f"{where}/responses", problems)
    if problems or url is None:
        raise ConfigError(problems)
    method = None if verb == "ANY" else verb
    timeout = spec.timeout_ms / 1000
    if selector is None:
        return HttpProxyIntegration(pool, url, template, mapping, method, timeout)
    return HttpIntegration(pool, url, template, mapping, method, timeout, selector)
