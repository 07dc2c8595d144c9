"""Policy variables: `${aws:username}`, `${aws:PrincipalTag/team, 'default'}`, `${*}` `${?}` `${$}`.

A policy string is split once into a `Template` of parts; per request only the variables are
looked up. Variables exist only in `2012-10-17` policies (older versions keep `${...}` as text),
so callers parse a template only when the version allows it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

_VARIABLE = re.compile(r"\$\{\s*([^\s,}'$]+)\s*(?:,\s*'([^']*)'\s*)?\}")
_ESCAPES = {"${*}": "*", "${?}": "?", "${$}": "$"}


class SingleValues(Protocol):
    """What a template needs from the request context: one value for a single-valued key."""

    def single(self, key: str) -> str | None:
        """The value of `key` (already lower-case) if present and single-valued, else None."""
        ...


@dataclass(frozen=True, slots=True)
class Literal:
    """Text that matches only itself, even `*` and `?` (escapes, defaults, variable values)."""

    text: str


@dataclass(frozen=True, slots=True)
class Variable:
    key: str
    """The context key, lower-cased (key names are case-insensitive)."""
    default: str | None = None


Part = str | Literal | Variable
"""A `str` part is policy text in which `*` and `?` keep their wildcard meaning."""


@dataclass(frozen=True, slots=True)
class Template:
    parts: tuple[Part, ...]

    @property
    def has_variables(self) -> bool:
        return any(isinstance(p, Variable) for p in self.parts)

    def resolve(self, keys: SingleValues) -> tuple[str | Literal, ...] | None:
        """Parts with every variable replaced by a `Literal`; None if a variable has no value."""
        out: list[str | Literal] = []
        for part in self.parts:
            if isinstance(part, Variable):
                value = keys.single(part.key)
                if value is None:
                    if part.default is None:
                        return None
                    value = part.default
                out.append(Literal(value))
            else:
                out.append(part)
        return tuple(out)

    def text(self, keys: SingleValues) -> str | None:
        """The resolved string with wildcards taken literally (for exact comparisons)."""
        resolved = self.resolve(keys)
        if resolved is None:
            return None
        return "".join(p.text if isinstance(p, Literal) else p for p in resolved)


def parse_template(text: str) -> Template:
    """Split `text` into literal text, escapes and variables; ValueError if a `${` is malformed."""
    parts: list[Part] = []
    plain: list[str] = []
    i = 0
    while True:
        start = text.find("${", i)
        if start < 0:
            plain.append(text[i:])
            break
        plain.append(text[i:start])
        escape = text[start : start + 4]
        if escape in _ESCAPES:
            _flush(plain, parts)
            parts.append(Literal(_ESCAPES[escape]))
            i = start + 4
            continue
        match = _VARIABLE.match(text, start)
        if match is None:
            raise ValueError(f"malformed policy variable at offset {start}: {text[start:]!r}")
        _flush(plain, parts)
        parts.append(Variable(match.group(1).lower(), match.group(2)))
        i = match.end()
    _flush(plain, parts)
    return Template(tuple(parts))


def literal_template(text: str) -> Template:
    """A template without variables (policies older than 2012-10-17)."""
    return Template((text,) if text else ())


def _flush(plain: list[str], parts: list[Part]) -> None:
    joined = "".join(plain)
    plain.clear()
    if joined:
        parts.append(joined)
