"""Policy documents: parse, validate and compile JSON into frozen, reusable `Policy` objects.

Validation reports every problem at once, each with its JSON location
(`Statement[1].Effect`), because a policy author fixes them in one pass. Each statement is
compiled once: its actions become one case-insensitive expression, its resources one
case-sensitive, segment-aware expression (or per-request patterns when they use policy
variables), its conditions `Condition` objects.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

from authgate.errors import AuthgateError, Problem
from authgate.policy.arn import SHORTHAND_PREFIX, ArnPattern, compile_arn_pattern, expand_shorthand
from authgate.policy.conditions import Condition, compile_conditions
from authgate.policy.context import ContextKeys, RequestContext
from authgate.policy.principals import PrincipalSpec, parse_principal
from authgate.policy.wildcard import compile_globs, compile_source

Effect = Literal["Allow", "Deny"]

VERSION_2012 = "2012-10-17"
VERSION_2008 = "2008-10-17"
VERSIONS = (VERSION_2012, VERSION_2008)

MAX_RESOURCE_POLICY_CHARS = 8192
"""A REST API's resource policy, as stored (stringified JSON)."""
MAX_AUTHORIZER_RESOURCE_CHARS = 512
"""One `Resource` string in a policy returned by a Lambda authorizer."""

_ACTION = re.compile(r"[A-Za-z0-9-]+:[^\s:]+")
_TOP_LEVEL = frozenset({"Version", "Id", "Statement"})
_STATEMENT_KEYS = frozenset(
    {
        "Sid",
        "Effect",
        "Action",
        "NotAction",
        "Resource",
        "NotResource",
        "Principal",
        "NotPrincipal",
        "Condition",
    }
)


class PolicyKind(StrEnum):
    """Where a policy comes from, which decides what it may contain."""

    IDENTITY = "identity"
    """Attached to a user or role; must not name a Principal."""
    RESOURCE = "resource"
    """Attached to an API; every statement names a Principal or NotPrincipal."""
    AUTHORIZER = "authorizer"
    """Returned by a Lambda authorizer; no Principal; Resource strings up to 512 chars."""


class PolicyError(AuthgateError):
    """The document is not a valid policy; `problems` lists all of what is wrong."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


@dataclass(frozen=True, slots=True)
class ApiScope:
    """The API owning a resource policy: expands the `execute-api:/...` shorthand."""

    region: str
    account: str
    api_id: str
    partition: str | None = None


@dataclass(frozen=True, slots=True)
class StatementRef:
    """Names one statement for decisions and explanations."""

    policy: str
    kind: PolicyKind
    index: int
    sid: str | None
    effect: Effect
    text: str = field(init=False, repr=False, compare=False)
    """`str(ref)`, made once: decisions name their statement on every request."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "text", f"{self.effect} by {self.policy} {self.label}")

    @property
    def label(self) -> str:
        return self.sid if self.sid is not None else f"Statement[{self.index}]"

    def __str__(self) -> str:
        return self.text


class _ResourceMatcher:
    """All Resource (or NotResource) patterns of a statement, matched in one go."""

    __slots__ = ("_dynamic", "_static")

    def __init__(self, patterns: tuple[ArnPattern, ...]) -> None:
        static = [p.regex.pattern for p in patterns if p.regex is not None]
        joined = "|".join(f"(?:{s})" for s in static)
        self._static = compile_source(joined) if static else None
        self._dynamic = tuple(p.template for p in patterns if p.has_variables)

    def matches(self, resource: str, keys: ContextKeys) -> bool:
        if self._static is not None and self._static.fullmatch(resource) is not None:
            return True
        for template in self._dynamic:
            regex = template.compiled(keys)
            if regex is not None and regex.fullmatch(resource) is not None:
                return True
        return False


@dataclass(frozen=True, slots=True)
class Statement:
    ref: StatementRef
    actions: tuple[str, ...]
    not_action: bool
    resources: tuple[str, ...]
    """After shorthand expansion."""
    not_resource: bool
    conditions: tuple[Condition, ...]
    principal: PrincipalSpec | None
    """None when the policy kind has no Principal element (identity, authorizer)."""
    not_principal: bool
    action_regex: re.Pattern[str] = field(repr=False, compare=False)
    resource_matcher: _ResourceMatcher = field(repr=False, compare=False)

    @property
    def effect(self) -> Effect:
        return self.ref.effect

    @property
    def sid(self) -> str | None:
        return self.ref.sid

    def matches_action(self, action: str) -> bool:
        return (self.action_regex.fullmatch(action) is not None) != self.not_action

    def matches_resource(self, request: RequestContext) -> bool:
        return self.resource_matcher.matches(request.resource, request.keys) != self.not_resource

    def conditions_hold(self, request: RequestContext) -> bool:
        keys = request.keys
        return all(condition.holds(keys) for condition in self.conditions)

    def matches(self, request: RequestContext) -> bool:
        """Does this statement apply to the request (its effect aside)?

        The same checks as the `matches_*` methods, inlined: this runs for every statement
        of every policy on every request.
        """
        if (self.action_regex.fullmatch(request.action) is None) != self.not_action:
            return False
        keys = request.keys
        if self.resource_matcher.matches(request.resource, keys) == self.not_resource:
            return False
        principal = self.principal
        if principal is not None and principal.matches(request.principal) == self.not_principal:
            return False
        for condition in self.conditions:  # noqa: SIM110 - a loop is cheaper than all(genexpr)
            if not condition.holds(keys):
                return False
        return True


@dataclass(frozen=True, slots=True)
class Policy:
    """A compiled policy: parse once, evaluate for as many requests as needed."""

    name: str
    kind: PolicyKind
    version: str
    statements: tuple[Statement, ...]
    id: str | None = None
    document: Mapping[str, object] = field(default_factory=dict, repr=False, compare=False)
    """The JSON as parsed, with resource-policy shorthand expanded."""

    def to_json(self) -> str:
        return json.dumps(self.document, separators=(",", ":"))

    @property
    def conditional(self) -> bool:
        """Whether a decision can depend on the request's context keys, not just on who,
        what action and which resource."""
        return any(statement.conditions for statement in self.statements)


def parse_policy(
    document: str | Mapping[str, object],
    *,
    kind: PolicyKind = PolicyKind.IDENTITY,
    name: str | None = None,
    scope: ApiScope | None = None,
    max_chars: int | None = None,
) -> Policy:
    """Parse and compile a policy; PolicyError lists every problem.

    `name` identifies the policy in decisions (default: its `Id`, else the kind). `max_chars`
    caps the document size (default: 8192 for resource policies, none otherwise). `scope`
    lets a resource policy use the `execute-api:/...` shorthand.
    """
    problems: list[Problem] = []
    limit = max_chars if max_chars is not None else _default_limit(kind)
    if isinstance(document, str):
        size = len(document)
        try:
            raw: object = json.loads(document, object_pairs_hook=_JsonObject.from_pairs)
        except ValueError as exc:
            raise PolicyError([Problem("$", f"not valid JSON: {exc}")]) from None
    else:
        raw = _plain(document)
        try:
            size = len(json.dumps(raw, separators=(",", ":"), ensure_ascii=False))
        except (TypeError, ValueError) as exc:
            raise PolicyError([Problem("$", f"not JSON data: {exc}")]) from None
    if limit is not None and size > limit:
        problems.append(Problem("$", f"policy is {size} characters, the limit is {limit}"))
    if not isinstance(raw, Mapping):
        raise PolicyError([*problems, Problem("$", "a policy must be a JSON object")])
    _report_duplicates(raw, "", problems)
    policy = _Parser(kind, scope, problems).policy(raw, name)
    if problems:
        raise PolicyError(problems)
    return policy


def _plain(node: object) -> object:
    """Plain dicts and lists, so that any Mapping/Sequence input measures and prints as JSON."""
    if isinstance(node, Mapping):
        return {key: _plain(value) for key, value in node.items()}
    if isinstance(node, list | tuple):
        return [_plain(value) for value in node]
    return node


def _default_limit(kind: PolicyKind) -> int | None:
    return MAX_RESOURCE_POLICY_CHARS if kind is PolicyKind.RESOURCE else None


class _JsonObject(dict[str, object]):
    """A JSON object that remembers keys given twice (json keeps only the last one)."""

    duplicates: tuple[str, ...] = ()

    @classmethod
    def from_pairs(cls, pairs: list[tuple[str, object]]) -> _JsonObject:
        obj = cls()
        seen: list[str] = []
        for key, value in pairs:
            if key in obj:
                seen.append(key)
            obj[key] = value
        if seen:
            obj.duplicates = tuple(seen)
        return obj


def _report_duplicates(node: object, where: str, problems: list[Problem]) -> None:
    if isinstance(node, Mapping):
        for key in getattr(node, "duplicates", ()):
            problems.append(Problem(_join(where, key), "key given more than once"))
        for key, value in node.items():
            _report_duplicates(value, _join(where, str(key)), problems)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            _report_duplicates(value, f"{where}[{i}]", problems)


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


class _Parser:
    def __init__(self, kind: PolicyKind, scope: ApiScope | None, problems: list[Problem]) -> None:
        self.kind = kind
        self.scope = scope
        self.problems = problems
        self.variables = False
        self.expanded: dict[str, object] = {}

    def problem(self, where: str, message: str) -> None:
        self.problems.append(Problem(where, message))

    def policy(self, raw: Mapping[str, object], name: str | None) -> Policy:
        for key in raw:
            if key not in _TOP_LEVEL:
                self.problem(key, "unknown policy element")
        version = raw.get("Version", VERSION_2008)
        if version not in VERSIONS:
            self.problem("Version", f"must be {VERSION_2012!r} or {VERSION_2008!r}")
            version = VERSION_2012
        self.variables = version == VERSION_2012
        policy_id = raw.get("Id")
        if policy_id is not None and not isinstance(policy_id, str):
            self.problem("Id", "must be a string")
            policy_id = None
        statements: list[Statement] = []
        documents: list[object] = []
        policy_name = name or policy_id or self.kind.value
        body = raw.get("Statement")
        if body is None:
            self.problem("Statement", "is required")
        elif isinstance(body, list):
            for i, item in enumerate(body):
                self._statement(item, f"Statement[{i}]", i, policy_name, statements, documents)
        elif isinstance(body, Mapping):
            self._statement(body, "Statement", 0, policy_name, statements, documents)
        else:
            self.problem("Statement", "must be an object or a list of objects")
        self._check_sids(statements, isinstance(body, list))
        document = dict(raw)
        if isinstance(body, list):
            document["Statement"] = documents
        elif documents:
            document["Statement"] = documents[0]
        return Policy(policy_name, self.kind, str(version), tuple(statements), policy_id, document)

    def _check_sids(self, statements: list[Statement], listed: bool) -> None:
        if self.kind is PolicyKind.AUTHORIZER:
            return
        seen: set[str] = set()
        for st in statements:
            sid = st.sid
            if sid is None:
                continue
            if sid in seen:
                where = f"Statement[{st.ref.index}].Sid" if listed else "Statement.Sid"
                self.problem(where, f"duplicate Sid {sid!r}")
            seen.add(sid)

    def _statement(
        self,
        raw: object,
        where: str,
        index: int,
        policy_name: str,
        out: list[Statement],
        documents: list[object],
    ) -> None:
        if not isinstance(raw, Mapping):
            self.problem(where, "must be an object")
            return
        before = len(self.problems)
        for key in raw:
            if key not in _STATEMENT_KEYS:
                self.problem(f"{where}.{key}", "unknown statement element")
        sid = raw.get("Sid")
        if sid is not None and not isinstance(sid, str):
            self.problem(f"{where}.Sid", "must be a string")
            sid = None
        effect = self._effect(raw.get("Effect"), f"{where}.Effect")
        actions, not_action = self._actions(raw, where)
        resources, not_resource, patterns = self._resources(raw, where)
        principal, not_principal = self._principal(raw, where)
        conditions: tuple[Condition, ...] = ()
        if "Condition" in raw:
            conditions = compile_conditions(
                raw["Condition"],
                f"{where}.Condition",
                variables=self.variables,
                problems=self.problems,
            )
        document = dict(raw)
        if resources:
            key = "NotResource" if not_resource else "Resource"
            original = raw.get(key)
            document[key] = list(resources) if isinstance(original, list) else resources[0]
        documents.append(document)
        if len(self.problems) > before or effect is None:
            return
        ref = StatementRef(policy_name, self.kind, index, sid, effect)
        out.append(
            Statement(
                ref,
                actions,
                not_action,
                resources,
                not_resource,
                conditions,
                principal,
                not_principal,
                compile_globs(actions, ignore_case=True),
                _ResourceMatcher(patterns),
            )
        )

    def _effect(self, raw: object, where: str) -> Effect | None:
        if raw is None:
            self.problem(where, "is required")
            return None
        if raw in ("Allow", "Deny"):
            return "Allow" if raw == "Allow" else "Deny"
        if self.kind is PolicyKind.AUTHORIZER and isinstance(raw, str):
            # Authorizer outputs are read leniently: "allow"/"deny" are common in the wild.
            if raw.lower() == "allow":
                return "Allow"
            if raw.lower() == "deny":
                return "Deny"
        self.problem(where, 'must be "Allow" or "Deny"')
        return None

    def _pick(self, raw: Mapping[str, object], where: str, name: str) -> tuple[str, bool] | None:
        """Exactly one of `name` / `Not{name}`: which one was given and whether negated."""
        positive, negative = name, f"Not{name}"
        if positive in raw and negative in raw:
            self.problem(f"{where}.{negative}", f"cannot be combined with {positive}")
            return None
        if positive in raw:
            return positive, False
        if negative in raw:
            return negative, True
        return None

    def _strings(self, raw: object, where: str) -> list[tuple[str, str]]:
        """A string or non-empty list of strings, each with its location."""
        if isinstance(raw, str):
            return [(raw, where)]
        if isinstance(raw, list) and raw:
            out = []
            for i, item in enumerate(raw):
                if isinstance(item, str):
                    out.append((item, f"{where}[{i}]"))
                else:
                    self.problem(f"{where}[{i}]", "must be a string")
            return out
        self.problem(where, "must be a string or a non-empty list of strings")
        return []

    def _actions(self, raw: Mapping[str, object], where: str) -> tuple[tuple[str, ...], bool]:
        picked = self._pick(raw, where, "Action")
        if picked is None:
            if "Action" not in raw or "NotAction" not in raw:
                self.problem(f"{where}.Action", "a statement needs Action or NotAction")
            return (), False
        key, negated = picked
        actions = []
        for action, at in self._strings(raw[key], f"{where}.{key}"):
            if action != "*" and _ACTION.fullmatch(action) is None:
                self.problem(at, "must be \"*\" or 'service:action' (wildcards only in the action)")
                continue
            actions.append(action)
        return tuple(actions), negated

    def _resources(
        self, raw: Mapping[str, object], where: str
    ) -> tuple[tuple[str, ...], bool, tuple[ArnPattern, ...]]:
        picked = self._pick(raw, where, "Resource")
        if picked is None:
            if "Resource" not in raw or "NotResource" not in raw:
                self.problem(f"{where}.Resource", "a statement needs Resource or NotResource")
            return (), False, ()
        key, negated = picked
        resources: list[str] = []
        patterns: list[ArnPattern] = []
        for resource, at in self._strings(raw[key], f"{where}.{key}"):
            compiled = self._resource(resource, at)
            if compiled is not None:
                resources.append(compiled.text)
                patterns.append(compiled)
        return tuple(resources), negated, tuple(patterns)

    def _resource(self, resource: str, where: str) -> ArnPattern | None:
        if self.kind is PolicyKind.AUTHORIZER and len(resource) > MAX_AUTHORIZER_RESOURCE_CHARS:
            self.problem(where, f"longer than {MAX_AUTHORIZER_RESOURCE_CHARS} characters")
            return None
        if resource.startswith(SHORTHAND_PREFIX):
            if self.kind is not PolicyKind.RESOURCE or self.scope is None:
                self.problem(where, "the execute-api:/ shorthand needs the owning API")
                return None
            scope = self.scope
            resource = expand_shorthand(
                resource,
                region=scope.region,
                account=scope.account,
                api_id=scope.api_id,
                partition=scope.partition,
            )
        if resource != "*" and not resource.startswith("arn:"):
            self.problem(where, 'must be "*" or an ARN')
            return None
        try:
            pattern = compile_arn_pattern(resource, variables=self.variables)
        except ValueError as exc:
            self.problem(where, str(exc))
            return None
        if any(i != 5 for i in pattern.variable_segments()):
            self.problem(where, "policy variables are allowed only after the fifth ':'")
            return None
        return pattern

    def _principal(
        self, raw: Mapping[str, object], where: str
    ) -> tuple[PrincipalSpec | None, bool]:
        picked = self._pick(raw, where, "Principal")
        if self.kind is not PolicyKind.RESOURCE:
            for key in ("Principal", "NotPrincipal"):
                if key in raw:
                    self.problem(f"{where}.{key}", f"not allowed in {self.kind.value} policies")
            return None, False
        if picked is None:
            if "Principal" not in raw or "NotPrincipal" not in raw:
                self.problem(f"{where}.Principal", "a resource policy statement needs Principal")
            return None, False
        key, negated = picked
        return parse_principal(raw[key], f"{where}.{key}", self.problems), negated
