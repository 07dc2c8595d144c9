"""Rendering the hosted pages: Jinja2 templates with autoescaping, and the headers every page
gets (no caching, no framing, no referrer, a Content-Security-Policy that allows our stylesheet
and nothing else: the pages need no script).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any, Final

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from authgate.http1.message import Response

Header = tuple[str, str]
STYLESHEET: Final = "/oauth2/static/hosted-ui.css"
PAGE_HEADERS: Final = (
    ("content-type", "text/html; charset=utf-8"),
    ("cache-control", "no-store"),
    ("x-frame-options", "DENY"),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    (
        "content-security-policy",
        "default-src 'none'; style-src 'self'; img-src 'self'; "
        "frame-ancestors 'none'; base-uri 'none'",
    ),
)


@dataclass(frozen=True, slots=True)
class Field:
    """One labelled input; its error and hint are tied to it with aria-describedby."""

    name: str
    label: str
    type: str = "text"
    value: str = ""
    autocomplete: str | None = None
    inputmode: str | None = None
    hint: str | None = None
    error: str | None = None
    required: bool = True

    @property
    def id(self) -> str:
        return f"field-{self.name}"

    @property
    def described_by(self) -> str:
        parts = []
        if self.hint:
            parts.append(f"{self.id}-hint")
        if self.error:
            parts.append(f"{self.id}-error")
        return " ".join(parts)


@dataclass(frozen=True, slots=True)
class FormPage:
    """What `form.html` shows."""

    heading: str
    action: str
    fields: Sequence[Field]
    submit: str
    intro: str | None = None
    notice: str | None = None
    error: str | None = None
    secondary: Sequence[tuple[str, str]] = ()
    providers: Sequence[tuple[str, str]] = ()
    links: Sequence[tuple[str, str]] = ()
    extra: dict[str, Any] = field(default_factory=dict)


@cache
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("authgate.identity.hosted_ui", "templates"),
        autoescape=select_autoescape(["html"], default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(
    template: str, *, status: int = 200, headers: Sequence[Header] = (), **context: Any
) -> Response:
    body = _environment().get_template(template).render(stylesheet=STYLESHEET, lang="en", **context)
    return Response(status, [*PAGE_HEADERS, *headers], body.encode("utf-8"))


def form_page(
    page: FormPage,
    *,
    pool_name: str,
    csrf: str,
    status: int = 200,
    headers: Sequence[Header] = (),
) -> Response:
    return render(
        "form.html",
        status=status,
        headers=headers,
        pool_name=pool_name,
        csrf=csrf,
        heading=page.heading,
        action=page.action,
        fields=page.fields,
        submit=page.submit,
        intro=page.intro,
        notice=page.notice,
        error=page.error,
        secondary=page.secondary,
        providers=page.providers,
        links=page.links,
    )


def message_page(
    heading: str,
    message: str,
    *,
    pool_name: str = "Sign in",
    status: int = 400,
    problem: bool = True,
    links: Sequence[tuple[str, str]] = (),
    headers: Sequence[Header] = (),
) -> Response:
    return render(
        "message.html",
        status=status,
        headers=headers,
        pool_name=pool_name,
        heading=heading,
        message=message,
        problem=problem,
        links=links,
    )


@cache
def _stylesheet() -> bytes:
    return (
        resources.files("authgate.identity.hosted_ui").joinpath("static/hosted-ui.css").read_bytes()
    )


def stylesheet() -> Response:
    return Response(
        200,
        [
            ("content-type", "text/css; charset=utf-8"),
            ("cache-control", "public, max-age=3600"),
            ("x-content-type-options", "nosniff"),
        ],
        _stylesheet(),
    )
