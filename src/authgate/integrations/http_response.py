"""Integration responses of a non-proxy HTTP integration: which entry a backend status
selects, and the headers and body the client gets from it.

Pure: no I/O. Patterns are compiled and templates checked when the method is compiled.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from authgate.definition.model import IntegrationResponse
from authgate.errors import Problem
from authgate.http1.message import Headers
from authgate.integrations.http_mapping import header_value, pointer_token

JSON = "application/json"


@dataclass(frozen=True, slots=True)
class HeaderRule:
    """`method.response.header.name` ← a backend header (lower-case) or a static value."""

    name: str
    backend_header: str | None
    static: str | None


@dataclass(frozen=True, slots=True)
class ResponseRule:
    status: int
    pattern: re.Pattern[str] | None
    headers: tuple[HeaderRule, ...]
    body: bytes | None
    """A static body replacing the backend's, or None to pass the backend's through."""
    content_type: str
    """Sent unless a header rule sets Content-Type: API Gateway always sends one."""


@dataclass(frozen=True, slots=True)
class ResponseSelector:
    rules: tuple[ResponseRule, ...]
    default: ResponseRule | None

    def select(self, status: int) -> ResponseRule | None:
        """The first entry whose selectionPattern matches the whole status, else the default."""
        text = str(status)
        for rule in self.rules:
            assert rule.pattern is not None
            if rule.pattern.fullmatch(text):
                return rule
        return self.default


def compile_responses(
    responses: Sequence[IntegrationResponse], where: str, problems: list[Problem]
) -> ResponseSelector:
    rules: list[ResponseRule] = []
    default: ResponseRule | None = None
    if not responses:
        problems.append(Problem(where, "an HTTP integration needs at least a default response"))
    for index, entry in enumerate(responses):
        at = f"{where}/{index}"
        pattern: re.Pattern[str] | None = None
        if entry.selection_pattern is not None:
            try:
                pattern = re.compile(entry.selection_pattern)
            except re.error as exc:
                problems.append(Problem(at, f"invalid selectionPattern: {exc}"))
                continue
        if not 100 <= entry.status_code <= 599:
            problems.append(Problem(at, f"invalid statusCode {entry.status_code}"))
            continue
        headers = _header_rules(entry.response_parameters, f"{at}/responseParameters", problems)
        body, content_type = _template(
            entry.response_templates, f"{at}/responseTemplates", problems
        )
        rule = ResponseRule(entry.status_code, pattern, headers, body, content_type)
        if pattern is None:
            if default is not None:
                problems.append(Problem(at, "more than one default response"))
            default = rule
        else:
            rules.append(rule)
    return ResponseSelector(tuple(rules), default)


def _header_rules(
    parameters: Mapping[str, str], where: str, problems: list[Problem]
) -> tuple[HeaderRule, ...]:
    rules: list[HeaderRule] = []
    for target, expression in parameters.items():
        at = f"{where}/{pointer_token(target)}"
        prefix = "method.response.header."
        if not target.startswith(prefix) or len(target) == len(prefix):
            problems.append(Problem(at, f"unsupported response mapping target {target!r}"))
            continue
        name = target[len(prefix) :]
        if len(expression) >= 2 and expression[0] == "'" and expression[-1] == "'":
            rules.append(HeaderRule(name, None, header_value(expression[1:-1])))
            continue
        source = "integration.response.header."
        if expression.startswith(source) and len(expression) > len(source):
            rules.append(HeaderRule(name, expression[len(source) :].lower(), None))
            continue
        problems.append(Problem(at, f"unsupported response mapping source {expression!r}"))
    return tuple(rules)


def _template(
    templates: Mapping[str, str], where: str, problems: list[Problem]
) -> tuple[bytes | None, str]:
    """Only static application/json templates are served; an empty one means passthrough."""
    body: bytes | None = None
    for content_type, template in templates.items():
        at = f"{where}/{pointer_token(content_type)}"
        if not template or not template.strip():
            continue
        if "$" in template or "#" in template:
            problems.append(
                Problem(at, "mapping templates with $ or # directives are not supported")
            )
            continue
        if content_type.lower() != JSON:
            problems.append(Problem(at, f"response templates for {content_type} are not supported"))
            continue
        body = template.encode("utf-8")
    return body, JSON


def mapped_headers(rule: ResponseRule, backend: Headers, length: int | None) -> Headers:
    """The client's headers: only what the rule maps, plus Content-Type and the body's length."""
    out: Headers = []
    has_type = False
    for header in rule.headers:
        value = header.static
        if value is None:
            value = _joined(backend, header.backend_header)
        if value is None:
            continue
        if header.name.lower() == "content-type":
            has_type = True
        out.append((header.name, value))
    if not has_type:
        out.append(("Content-Type", rule.content_type))
    if length is not None:
        out.append(("Content-Length", str(length)))
    return out


def _joined(headers: Headers, name: str | None) -> str | None:
    values = [value for key, value in headers if key.lower() == name]
    return ",".join(values) if values else None


def backend_length(headers: Headers) -> int | None:
    """The backend's declared body length, when it declared one we can trust."""
    for key, value in headers:
        if key.lower() == "content-length":
            return int(value) if value.isdigit() else None
    return None
