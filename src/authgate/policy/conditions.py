"""Condition blocks: operators, `...IfExists`, `ForAllValues:`/`ForAnyValue:`, and how values
and keys combine.

Each `{operator: {key: values}}` entry compiles to one `Condition`. Policy values are parsed
at compile time (numbers, dates, CIDRs, base64, wildcard patterns); request values are parsed
on use through small caches, because the same caller IP or timestamp recurs across statements
and requests.

Combination rules (IAM): operators AND, keys AND, values OR. A negated operator
(`StringNotEquals`, `NotIpAddress`, ...) holds when the request value matches none of the
values. A missing key makes positive operators false and negated ones true, `...IfExists`
true, `ForAllValues:` true and `ForAnyValue:` false. A plain operator given a multivalued key
behaves like `ForAnyValue:` (positive) or "no value matches" (negated).
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from functools import lru_cache
from typing import Protocol

from authgate.errors import Problem
from authgate.policy.arn import ArnPattern, compile_arn_pattern
from authgate.policy.context import ContextKeys
from authgate.policy.variables import Literal, Template, literal_template, parse_template
from authgate.policy.wildcard import RegexTemplate, compile_source, template_fragments

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


class Qualifier(StrEnum):
    NONE = ""
    FOR_ALL_VALUES = "ForAllValues"
    FOR_ANY_VALUE = "ForAnyValue"


class ValueTest(Protocol):
    def matches(self, value: str, keys: ContextKeys) -> bool:
        """Does one request value match at least one of the policy values?"""
        ...


@dataclass(frozen=True, slots=True)
class Condition:
    """One operator applied to one context key, with all its policy values."""

    operator: str
    """As written, e.g. `ForAnyValue:StringLikeIfExists`."""
    key: str
    """Lower-cased: key names are case-insensitive."""
    values: tuple[str, ...]
    negated: bool = False
    qualifier: Qualifier = Qualifier.NONE
    if_exists: bool = False
    test: ValueTest | None = field(default=None, repr=False, compare=False)
    """None only for `Null`, which looks at presence instead of values."""
    null_when: frozenset[bool] = field(default=frozenset(), repr=False)
    """For `Null`: the presence states (True = absent) that satisfy it."""

    def holds(self, keys: ContextKeys) -> bool:
        values = keys.lookup(self.key)
        test = self.test
        if test is None:
            return (values is None) in self.null_when
        if values is None:
            if self.if_exists or self.qualifier is Qualifier.FOR_ALL_VALUES:
                return True
            if self.qualifier is Qualifier.FOR_ANY_VALUE:
                return False
            return self.negated
        negated = self.negated
        if len(values) == 1:  # the common single-valued case, without generator overhead
            return test.matches(values[0], keys) != negated
        if self.qualifier is Qualifier.FOR_ANY_VALUE:
            return any(test.matches(v, keys) != negated for v in values)
        if negated or self.qualifier is Qualifier.FOR_ALL_VALUES:
            return all(test.matches(v, keys) != negated for v in values)
        return any(test.matches(v, keys) for v in values)


# --- value tests ---------------------------------------------------------------------------


class _ExactTest:
    """String(Not)Equals, ...IgnoreCase, and Bool (which compares case-insensitively)."""

    __slots__ = ("_dynamic", "_fold", "_static")

    def __init__(self, templates: tuple[Template, ...], fold: bool) -> None:
        self._fold = fold
        static = [t for t in templates if not t.has_variables]
        self._static = frozenset(self._norm(_static_text(t)) for t in static)
        self._dynamic = tuple(t for t in templates if t.has_variables)

    def _norm(self, text: str) -> str:
        return text.casefold() if self._fold else text

    def matches(self, value: str, keys: ContextKeys) -> bool:
        value = self._norm(value)
        if value in self._static:
            return True
        for template in self._dynamic:
            text = template.text(keys)
            if text is not None and self._norm(text) == value:
                return True
        return False


class _LikeTest:
    """String(Not)Like: `*` and `?` anywhere, case-sensitive."""

    __slots__ = ("_dynamic", "_static")

    def __init__(self, templates: tuple[Template, ...]) -> None:
        static = [_like_source(t) for t in templates if not t.has_variables]
        self._static = compile_source("|".join(f"(?:{s})" for s in static)) if static else None
        self._dynamic = tuple(
            RegexTemplate(template_fragments(t.parts)) for t in templates if t.has_variables
        )

    def matches(self, value: str, keys: ContextKeys) -> bool:
        if self._static is not None and self._static.fullmatch(value) is not None:
            return True
        for template in self._dynamic:
            regex = template.compiled(keys)
            if regex is not None and regex.fullmatch(value) is not None:
                return True
        return False


class _CompareTest:
    """Numeric and Date operators: request value `op` policy value, for any policy value."""

    __slots__ = ("_op", "_parse", "_values")

    def __init__(
        self,
        values: tuple[float, ...],
        op: Callable[[float, float], bool],
        parse: Callable[[str], float | None],
    ) -> None:
        self._values = values
        self._op = op
        self._parse = parse

    def matches(self, value: str, keys: ContextKeys) -> bool:
        number = self._parse(value)
        if number is None:
            return False
        op = self._op
        if len(self._values) == 1:
            return op(number, self._values[0])
        return any(op(number, v) for v in self._values)


class _IpTest:
    """Networks kept as (version, network bits, mask bits): membership is two int operations."""

    __slots__ = ("_networks",)

    def __init__(self, networks: tuple[IpNetwork, ...]) -> None:
        self._networks = tuple(
            (n.version, int(n.network_address), int(n.netmask)) for n in networks
        )

    def matches(self, value: str, keys: ContextKeys) -> bool:
        address = _parse_ip(value)
        if address is None:
            return False
        version, bits = address
        for net_version, network, mask in self._networks:
            if net_version == version and bits & mask == network:
                return True
        return False


class _ArnTest:
    __slots__ = ("_patterns",)

    def __init__(self, patterns: tuple[ArnPattern, ...]) -> None:
        self._patterns = patterns

    def matches(self, value: str, keys: ContextKeys) -> bool:
        return any(p.matches(value, keys) for p in self._patterns)


class _BinaryTest:
    __slots__ = ("_values",)

    def __init__(self, values: frozenset[bytes]) -> None:
        self._values = values

    def matches(self, value: str, keys: ContextKeys) -> bool:
        decoded = _parse_base64(value)
        return decoded is not None and decoded in self._values


# --- request-value parsing (cached: the same values recur) ---------------------------------


@lru_cache(maxsize=4096)
def parse_number(text: str) -> float | None:
    if _NUMBER.fullmatch(text.strip()) is None:
        return None
    return float(text)


@lru_cache(maxsize=4096)
def parse_date(text: str) -> float | None:
    """Seconds since the epoch from W3C ISO 8601 (naive = UTC) or from epoch seconds."""
    text = text.strip()
    if _NUMBER.fullmatch(text) is not None:
        return float(text)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


@lru_cache(maxsize=4096)
def _parse_ip(text: str) -> tuple[int, int] | None:
    """(IP version, address as an integer); IPv4-mapped IPv6 addresses count as IPv4."""
    try:
        address: IpAddress = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.version, int(address)


@lru_cache(maxsize=1024)
def _parse_base64(text: str) -> bytes | None:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


# --- compiling -----------------------------------------------------------------------------


Builder = Callable[[tuple[str, ...], bool], ValueTest]
"""Builds the test from the policy values (as text) and whether variables are enabled."""


@dataclass(frozen=True, slots=True)
class _Operator:
    family: str
    negated: bool
    build: Builder | None
    """None for `Null`."""


def _templates(values: tuple[str, ...], variables: bool) -> tuple[Template, ...]:
    return tuple(parse_template(v) if variables else literal_template(v) for v in values)


def _string(fold: bool) -> Builder:
    return lambda values, variables: _ExactTest(_templates(values, variables), fold)


def _like(values: tuple[str, ...], variables: bool) -> ValueTest:
    return _LikeTest(_templates(values, variables))


def _bool(values: tuple[str, ...], variables: bool) -> ValueTest:
    templates = _templates(values, variables)
    for template in templates:
        if not template.has_variables and _static_text(template).lower() not in ("true", "false"):
            raise ValueError(f"Bool value must be true or false, not {_static_text(template)!r}")
    return _ExactTest(templates, fold=True)


def _numeric(op: Callable[[float, float], bool]) -> Builder:
    def build(values: tuple[str, ...], variables: bool) -> ValueTest:
        numbers = []
        for value in values:
            number = parse_number(value)
            if number is None:
                raise ValueError(f"not a number: {value!r}")
            numbers.append(number)
        return _CompareTest(tuple(numbers), op, parse_number)

    return build


def _date(op: Callable[[float, float], bool]) -> Builder:
    def build(values: tuple[str, ...], variables: bool) -> ValueTest:
        moments = []
        for value in values:
            moment = parse_date(value)
            if moment is None:
                raise ValueError(f"not an ISO 8601 date or epoch seconds: {value!r}")
            moments.append(moment)
        return _CompareTest(tuple(moments), op, parse_date)

    return build


def _ip(values: tuple[str, ...], variables: bool) -> ValueTest:
    networks: list[IpNetwork] = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(value.strip(), strict=False))
        except ValueError:
            raise ValueError(f"not an IP address or CIDR block: {value!r}") from None
    return _IpTest(tuple(networks))


def _arn(values: tuple[str, ...], variables: bool) -> ValueTest:
    return _ArnTest(tuple(compile_arn_pattern(v, variables=variables) for v in values))


def _binary(values: tuple[str, ...], variables: bool) -> ValueTest:
    decoded = []
    for value in values:
        raw = _parse_base64(value)
        if raw is None:
            raise ValueError(f"not base64: {value!r}")
        decoded.append(raw)
    return _BinaryTest(frozenset(decoded))


def _eq(a: float, b: float) -> bool:
    return a == b


OPERATORS: Mapping[str, _Operator] = {
    "StringEquals": _Operator("String", False, _string(fold=False)),
    "StringNotEquals": _Operator("String", True, _string(fold=False)),
    "StringEqualsIgnoreCase": _Operator("String", False, _string(fold=True)),
    "StringNotEqualsIgnoreCase": _Operator("String", True, _string(fold=True)),
    "StringLike": _Operator("String", False, _like),
    "StringNotLike": _Operator("String", True, _like),
    "NumericEquals": _Operator("Numeric", False, _numeric(_eq)),
    "NumericNotEquals": _Operator("Numeric", True, _numeric(_eq)),
    "NumericLessThan": _Operator("Numeric", False, _numeric(operator.lt)),
    "NumericLessThanEquals": _Operator("Numeric", False, _numeric(operator.le)),
    "NumericGreaterThan": _Operator("Numeric", False, _numeric(operator.gt)),
    "NumericGreaterThanEquals": _Operator("Numeric", False, _numeric(operator.ge)),
    "DateEquals": _Operator("Date", False, _date(_eq)),
    "DateNotEquals": _Operator("Date", True, _date(_eq)),
    "DateLessThan": _Operator("Date", False, _date(operator.lt)),
    "DateLessThanEquals": _Operator("Date", False, _date(operator.le)),
    "DateGreaterThan": _Operator("Date", False, _date(operator.gt)),
    "DateGreaterThanEquals": _Operator("Date", False, _date(operator.ge)),
    "Bool": _Operator("Bool", False, _bool),
    "BinaryEquals": _Operator("Binary", False, _binary),
    "IpAddress": _Operator("IP", False, _ip),
    "NotIpAddress": _Operator("IP", True, _ip),
    "ArnEquals": _Operator("ARN", False, _arn),
    "ArnLike": _Operator("ARN", False, _arn),
    "ArnNotEquals": _Operator("ARN", True, _arn),
    "ArnNotLike": _Operator("ARN", True, _arn),
    "Null": _Operator("Null", False, None),
}

_VARIABLE_FAMILIES = frozenset({"String", "Bool", "ARN"})


def parse_operator(name: str) -> tuple[Qualifier, str, bool]:
    """Split `ForAnyValue:StringLikeIfExists` into qualifier, base operator and IfExists."""
    qualifier = Qualifier.NONE
    base = name
    for candidate in (Qualifier.FOR_ALL_VALUES, Qualifier.FOR_ANY_VALUE):
        prefix = candidate.value + ":"
        if name.startswith(prefix):
            qualifier, base = candidate, name[len(prefix) :]
    if_exists = base.endswith("IfExists")
    if if_exists:
        base = base[: -len("IfExists")]
    if base not in OPERATORS:
        raise ValueError(f"unknown condition operator {name!r}")
    if base == "Null" and (if_exists or qualifier is not Qualifier.NONE):
        raise ValueError("Null takes neither IfExists nor a ForAllValues/ForAnyValue qualifier")
    return qualifier, base, if_exists


def compile_conditions(
    block: object, location: str, *, variables: bool, problems: list[Problem]
) -> tuple[Condition, ...]:
    """Compile a `Condition` element; every problem found is appended to `problems`."""
    if not isinstance(block, Mapping):
        problems.append(Problem(location, "must be an object of operators"))
        return ()
    conditions: list[Condition] = []
    for name, keys in block.items():
        where = f"{location}.{name}"
        try:
            qualifier, base, if_exists = parse_operator(name)
        except ValueError as exc:
            problems.append(Problem(where, str(exc)))
            continue
        if not isinstance(keys, Mapping) or not keys:
            problems.append(Problem(where, "must be a non-empty object of condition keys"))
            continue
        spec = OPERATORS[base]
        for key, raw in keys.items():
            condition = _compile_one(
                name, spec, qualifier, if_exists, key, raw, f"{where}.{key}", variables, problems
            )
            if condition is not None:
                conditions.append(condition)
    return tuple(conditions)


def _compile_one(
    name: str,
    spec: _Operator,
    qualifier: Qualifier,
    if_exists: bool,
    key: str,
    raw: object,
    where: str,
    variables: bool,
    problems: list[Problem],
) -> Condition | None:
    if not key:
        problems.append(Problem(where, "condition key must not be empty"))
        return None
    values = _values(raw, where, problems)
    if values is None:
        return None
    if variables and spec.family not in _VARIABLE_FAMILIES:
        for i, value in enumerate(values):
            if "${" in value:
                problems.append(
                    Problem(
                        _at(where, raw, i),
                        f"policy variables are not allowed with {spec.family} operators",
                    )
                )
                return None
    if spec.build is None:
        wanted = set()
        for i, value in enumerate(values):
            if value.lower() not in ("true", "false"):
                problems.append(Problem(_at(where, raw, i), "Null value must be true or false"))
                return None
            wanted.add(value.lower() == "true")
        return Condition(name, key.lower(), values, null_when=frozenset(wanted))
    try:
        test = spec.build(values, variables)
    except ValueError as exc:
        problems.append(Problem(where, str(exc)))
        return None
    return Condition(name, key.lower(), values, spec.negated, qualifier, if_exists, test)


def _values(raw: object, where: str, problems: list[Problem]) -> tuple[str, ...] | None:
    items = raw if isinstance(raw, list) else [raw]
    if not items:
        problems.append(Problem(where, "must have at least one value"))
        return None
    out: list[str] = []
    for i, item in enumerate(items):
        if isinstance(item, bool):
            out.append("true" if item else "false")
        elif isinstance(item, str):
            out.append(item)
        elif isinstance(item, int | float):
            out.append(str(item))
        else:
            problems.append(Problem(_at(where, raw, i), "must be a string, number or boolean"))
            return None
    return tuple(out)


def _at(where: str, raw: object, index: int) -> str:
    return f"{where}[{index}]" if isinstance(raw, list) else where


def _static_text(template: Template) -> str:
    return "".join(p.text if isinstance(p, Literal) else str(p) for p in template.parts)


def _like_source(template: Template) -> str:
    return "".join(f for f in template_fragments(template.parts) if isinstance(f, str))
