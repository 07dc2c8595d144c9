"""IAM wildcards (`*` any run, `?` one character) as anchored regular expressions.

Policies are matched against every request, so each pattern becomes one regular expression
compiled once (and cached by source) instead of being interpreted character by character.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from authgate.policy.variables import Literal, Part, SingleValues, Variable

ANY = "."
"""A wildcard may cover any character (actions, string conditions, the last ARN segment)."""
NOT_COLON = "[^:]"
"""A wildcard stays inside one ARN segment (every segment but the last)."""
_TEMPLATE_CACHE_SIZE = 1024


def glob_source(pattern: str, any_char: str = ANY) -> str:
    """Regex source for `pattern`: `*`/`?` become wildcards over `any_char`, all else literal.

    Runs of `*` collapse into one so that a pattern like `a**b` cannot cause extra backtracking.
    """
    out: list[str] = []
    previous_star = False
    for ch in pattern:
        if ch == "*":
            if not previous_star:
                out.append(any_char + "*")
            previous_star = True
            continue
        previous_star = False
        out.append(any_char if ch == "?" else re.escape(ch))
    return "".join(out)


@lru_cache(maxsize=8192)
def compile_source(source: str, ignore_case: bool = False) -> re.Pattern[str]:
    """Compile once per distinct source; patterns resolved from policy variables repeat a lot."""
    flags = re.DOTALL | (re.IGNORECASE if ignore_case else 0)
    return re.compile(source, flags)


def compile_globs(patterns: tuple[str, ...], ignore_case: bool = False) -> re.Pattern[str]:
    """One expression matching (with `fullmatch`) any of `patterns`."""
    return compile_source("|".join(f"(?:{glob_source(p)})" for p in patterns), ignore_case)


@dataclass(frozen=True, slots=True)
class Slot:
    """Where a policy variable's value goes in a regex template; the value is taken literally."""

    variable: Variable
    forbid: str | None = None
    """A character the value must not contain (a colon inside a non-final ARN segment)."""


class RegexTemplate:
    """Regex source with holes for policy variables, so that per request only the values are
    escaped and joined; the assembled expression is compiled once per distinct source."""

    __slots__ = ("_cache", "_fragments", "_slots", "_static")

    def __init__(self, fragments: Iterable[str | Slot]) -> None:
        merged: list[str | Slot] = []
        for fragment in fragments:
            if isinstance(fragment, str) and merged and isinstance(merged[-1], str):
                merged[-1] += fragment
            elif fragment != "":
                merged.append(fragment)
        self._fragments = tuple(merged)
        self._slots = tuple(f for f in merged if isinstance(f, Slot))
        self._cache: dict[tuple[str | None, ...], re.Pattern[str] | None] = {}
        self._static: re.Pattern[str] | None = None
        if not any(isinstance(f, Slot) for f in merged):
            self._static = compile_source("".join(f for f in merged if isinstance(f, str)))

    @property
    def static(self) -> re.Pattern[str] | None:
        """The expression, when there are no variables."""
        return self._static

    def compiled(self, keys: SingleValues) -> re.Pattern[str] | None:
        """The expression for this request; None when a variable has no usable value.

        Results are memoised per combination of variable values (bounded), since the same
        users and tags come back request after request.
        """
        if self._static is not None:
            return self._static
        slots = self._slots
        if len(slots) == 1:
            values: tuple[str | None, ...] = (keys.single(slots[0].variable.key),)
        else:
            values = tuple(keys.single(slot.variable.key) for slot in slots)
        try:
            return self._cache[values]
        except KeyError:
            pass
        regex = self._assemble(values)
        if len(self._cache) >= _TEMPLATE_CACHE_SIZE:
            self._cache.clear()
        self._cache[values] = regex
        return regex

    def _assemble(self, values: tuple[str | None, ...]) -> re.Pattern[str] | None:
        out: list[str] = []
        given = iter(values)
        for fragment in self._fragments:
            if isinstance(fragment, str):
                out.append(fragment)
                continue
            value = next(given)
            if value is None:
                value = fragment.variable.default
                if value is None:
                    return None
            if fragment.forbid is not None and fragment.forbid in value:
                return None
            out.append(re.escape(value))
        return compile_source("".join(out))


def template_fragments(parts: Iterable[Part], any_char: str = ANY) -> list[str | Slot]:
    """Regex fragments for template parts: wildcards in policy text, literals escaped."""
    out: list[str | Slot] = []
    for part in parts:
        if isinstance(part, str):
            out.append(glob_source(part, any_char))
        elif isinstance(part, Literal):
            out.append(re.escape(part.text))
        else:
            out.append(Slot(part, ":" if any_char == NOT_COLON else None))
    return out
