"""The MOCK integration: API Gateway answers by itself from the method's declared responses.

As on AWS, the request template's `statusCode` picks the integration response (by its
selection pattern), whose template becomes the body. Templates may use `$context.requestId`,
`$context.stage` and `$stageVariables.NAME`; other mapping-template directives are refused
at load time rather than answered wrongly.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import orjson

from authgate.definition.model import Integration as IntegrationSpec
from authgate.definition.model import IntegrationResponse
from authgate.errors import ConfigError, Problem
from authgate.http1.message import Response

if TYPE_CHECKING:
    from authgate.gateway.exchange import Exchange

_VARIABLE = re.compile(r"\$(context\.requestId|context\.stage|stageVariables\.[A-Za-z0-9_]+)")
_DIRECTIVE = re.compile(r"[#$]")


class MockIntegration:
    def __init__(self, status: int, headers: list[tuple[str, str]], template: str) -> None:
        self._status = status
        self._headers = headers
        self._template = template
        self._dynamic = bool(_VARIABLE.search(template))
        self._static = template.encode()

    async def invoke(self, exchange: Exchange) -> Response:
        body = self._static
        if self._dynamic:
            body = _VARIABLE.sub(lambda m: _value(m.group(1), exchange), self._template).encode()
        return Response(self._status, list(self._headers), body)


def _value(name: str, exchange: Exchange) -> str:
    stage = exchange.stage
    if name == "context.requestId":
        return exchange.request_id
    if stage is None:
        return ""
    if name == "context.stage":
        return stage.stage
    return stage.variables.get(name.removeprefix("stageVariables."), "")


def build_mock_integration(spec: IntegrationSpec, where: str) -> MockIntegration:
    problems: list[Problem] = []
    status_code = 200
    template = spec.request_templates.get("application/json")
    if template is not None:
        try:
            parsed = orjson.loads(template)
            status_code = int(parsed["statusCode"])
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            problems.append(
                Problem(f"{where}/requestTemplates", 'must be {"statusCode": NNN} for MOCK')
            )
    chosen = _select(spec.responses, str(status_code))
    headers = [("content-type", "application/json")]
    body = ""
    if chosen is not None:
        status_code = chosen.status_code
        for name, source in chosen.response_parameters.items():
            if not (
                name.startswith("method.response.header.") and source[:1] == "'" == source[-1:]
            ):
                problems.append(
                    Problem(
                        f"{where}/responses", f"MOCK supports static header values only: {name}"
                    )
                )
                continue
            headers.append((name.removeprefix("method.response.header."), source[1:-1]))
        body = chosen.response_templates.get("application/json", "")
        if _DIRECTIVE.search(_VARIABLE.sub("", body)):
            problems.append(
                Problem(f"{where}/responses", "mapping-template directives are not supported yet")
            )
    if problems:
        raise ConfigError(problems)
    return MockIntegration(status_code, headers, body)


def _select(responses: tuple[IntegrationResponse, ...], status: str) -> IntegrationResponse | None:
    default = None
    for response in responses:
        if response.selection_pattern is None:
            default = response
        elif re.fullmatch(response.selection_pattern, status):
            return response
    return default
