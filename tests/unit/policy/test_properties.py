"""Invariants of policy evaluation, checked on generated policies and requests."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from authgate.policy import (
    ANONYMOUS,
    AuthorizationType,
    ContextKeys,
    ContextValue,
    Decision,
    MethodPolicies,
    Policy,
    PolicyKind,
    Principal,
    RequestContext,
    evaluate,
    parse_policy,
)
from authgate.policy.arn import compile_arn_pattern

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

ACCOUNT = "123456789012"
BASE = f"arn:aws:execute-api:us-east-1:{ACCOUNT}:abc123"

REQUEST_ACTIONS = [
    "execute-api:Invoke",
    "execute-api:InvalidateCache",
    "execute-api:ManageConnections",
    "iam:CreateUser",
    "apigateway:POST",
]
ACTION_PATTERNS = [
    "*",
    "execute-api:*",
    "execute-api:Invoke",
    "execute-api:Inv*",
    "EXECUTE-API:invoke",
    "iam:*",
    "iam:Create?ser",
    "apigateway:POST",
]
REQUEST_RESOURCES = [
    f"{BASE}/prod/GET/pets/7",
    f"{BASE}/prod/GET/pets",
    f"{BASE}/prod/GET/",
    f"{BASE}/dev/POST/users/alice/files",
    f"{BASE}/prod/DELETE/admin/users",
    f"arn:aws:iam::{ACCOUNT}:user/carol",
    "arn:aws:apigateway:us-east-1::/apikeys",
]
RESOURCE_PATTERNS = [
    "*",
    "arn:aws:execute-api:*:*:*",
    f"{BASE}/*",
    f"{BASE}/prod/*",
    "arn:aws:execute-api:us-east-1:*:abc123/*/GET/pets/*",
    "arn:aws:execute-api:us-east-1:*:abc123/*/*/users/${aws:username}/*",
    f"{BASE}/*/DELETE/*",
    "arn:aws:iam::*:user/*",
    "arn:aws:apigateway:*::/apikeys",
]
CONDITIONS: list[dict[str, object] | None] = [
    None,
    {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}},
    {"NotIpAddress": {"aws:SourceIp": ["203.0.113.0/24", "2001:db8::/32"]}},
    {"StringEquals": {"aws:username": ["alice", "bob"]}},
    {"StringLike": {"aws:username": "a*"}},
    {"Bool": {"aws:SecureTransport": "true"}},
    {"StringEqualsIfExists": {"aws:username": "alice"}},
    {"Null": {"aws:username": "true"}},
    {"DateLessThan": {"aws:CurrentTime": "2026-06-01T00:00:00Z"}},
]
SOURCE_IPS = ["203.0.113.7", "198.51.100.1", "2001:db8::5", "10.1.2.3"]
PRINCIPALS = [
    None,
    Principal.from_arn(f"arn:aws:iam::{ACCOUNT}:user/alice"),
    Principal.from_arn(f"arn:aws:iam::{ACCOUNT}:user/bob"),
    Principal.from_arn(f"arn:aws:sts::{ACCOUNT}:assumed-role/ops/s1"),
]


@st.composite
def statements(draw: st.DrawFn, effect: str | None = None) -> dict[str, object]:
    out: dict[str, object] = {"Effect": effect or draw(st.sampled_from(["Allow", "Deny"]))}
    actions = draw(st.lists(st.sampled_from(ACTION_PATTERNS), min_size=1, max_size=3))
    resources = draw(st.lists(st.sampled_from(RESOURCE_PATTERNS), min_size=1, max_size=2))
    out["NotAction" if draw(st.booleans()) and draw(st.booleans()) else "Action"] = actions
    out["NotResource" if draw(st.booleans()) and draw(st.booleans()) else "Resource"] = resources
    condition = draw(st.sampled_from(CONDITIONS))
    if condition is not None:
        out["Condition"] = condition
    return out


@st.composite
def requests(draw: st.DrawFn) -> RequestContext:
    keys: dict[str, ContextValue] = {
        "aws:SecureTransport": draw(st.booleans()),
        "aws:CurrentTime": draw(st.sampled_from(["2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z"])),
    }
    ip = draw(st.sampled_from([None, *SOURCE_IPS]))
    if ip is not None:
        keys["aws:SourceIp"] = ip
    principal = draw(st.sampled_from(PRINCIPALS)) or ANONYMOUS
    return RequestContext(
        draw(st.sampled_from(REQUEST_ACTIONS)),
        draw(st.sampled_from(REQUEST_RESOURCES)),
        principal,
        ContextKeys(keys),
    )


def policy(stmts: list[dict[str, object]], name: str = "p") -> Policy:
    return parse_policy({"Version": "2012-10-17", "Statement": stmts}, name=name)


def decide(request: RequestContext, *groups: list[dict[str, object]]) -> Decision:
    return evaluate(request, [policy(g, f"p{i}") for i, g in enumerate(groups)])


def matches(statement: dict[str, object], request: RequestContext) -> bool:
    return policy([statement]).statements[0].matches(request)


# --- the decision rule ------------------------------------------------------------------------


@st.composite
def denies_matching(draw: st.DrawFn, request: RequestContext) -> dict[str, object]:
    """A Deny statement built to apply to `request` (by action, resource and condition)."""
    service = request.action.split(":")[0]
    action = draw(st.sampled_from(["*", request.action, f"{service}:*", request.action.upper()]))
    head = request.resource.rsplit("/", 1)[0] if "/" in request.resource else request.resource
    resource = draw(st.sampled_from(["*", request.resource, f"{head}*"]))
    out: dict[str, object] = {"Effect": "Deny", "Action": action, "Resource": resource}
    secure = request.keys["aws:SecureTransport"][0]
    now = request.keys["aws:CurrentTime"][0]
    condition = draw(
        st.sampled_from(
            [
                None,
                {"Bool": {"aws:SecureTransport": secure}},
                {"DateLessThanEquals": {"aws:CurrentTime": now}},
                {"StringNotEquals": {"aws:username": "nobody"}},
            ]
        )
    )
    if condition is not None:
        out["Condition"] = condition
    return out


@FAST
@given(st.lists(statements(), max_size=5), requests(), st.data())
def test_a_matching_deny_is_never_outvoted(
    others: list[dict[str, object]], request: RequestContext, data: st.DataObject
) -> None:
    deny = data.draw(denies_matching(request))
    assert matches(deny, request)
    allows = [{**s, "Effect": "Allow"} for s in others]
    position = data.draw(st.integers(0, len(allows)))
    stmts = [*allows[:position], deny, *allows[position:]]
    assert decide(request, stmts).effect == "Deny"
    assert decide(request, allows, [deny]).effect == "Deny"


@FAST
@given(st.lists(statements(), max_size=5), statements(effect="Allow"), requests())
def test_adding_an_allow_never_takes_access_away(
    stmts: list[dict[str, object]], extra: dict[str, object], request: RequestContext
) -> None:
    before = decide(request, stmts).effect
    after = decide(request, [*stmts, extra]).effect
    if before == "Allow":
        assert after == "Allow"
    if before == "Deny":
        assert after == "Deny"
    if after == "Allow":
        assert before in ("Allow", "ImplicitDeny")


@FAST
@given(st.lists(statements(), max_size=6), requests())
def test_without_allow_statements_nothing_is_allowed(
    stmts: list[dict[str, object]], request: RequestContext
) -> None:
    denies = [s for s in stmts if s["Effect"] == "Deny"]
    decision = decide(request, denies)
    assert not decision.allowed
    assert decision.effect == ("Deny" if decision.matched else "ImplicitDeny")


@FAST
@given(st.lists(statements(), min_size=1, max_size=6), requests(), st.data())
def test_statement_order_and_grouping_do_not_matter(
    stmts: list[dict[str, object]], request: RequestContext, data: st.DataObject
) -> None:
    expected = decide(request, stmts).effect
    shuffled = data.draw(st.permutations(stmts))
    cut = data.draw(st.integers(0, len(stmts)))
    assert decide(request, shuffled).effect == expected
    assert decide(request, shuffled[:cut], shuffled[cut:]).effect == expected


@FAST
@given(st.lists(statements(), max_size=5), requests())
def test_matched_statements_explain_the_effect(
    stmts: list[dict[str, object]], request: RequestContext
) -> None:
    decision = decide(request, stmts)
    effects = {ref.effect for ref in decision.matched}
    if "Deny" in effects:
        assert decision.effect == "Deny"
    elif "Allow" in effects:
        assert decision.effect == "Allow"
    else:
        assert decision.effect == "ImplicitDeny"
        assert decision.deciding is None
    assert decision.deciding is None or decision.deciding in decision.matched


@FAST
@given(st.lists(statements(), min_size=1, max_size=5), requests())
def test_policies_survive_a_json_round_trip(
    stmts: list[dict[str, object]], request: RequestContext
) -> None:
    original = policy(stmts)
    reparsed = parse_policy(original.to_json(), name="p")
    assert evaluate(request, [reparsed]) == evaluate(request, [original])


# --- Not* elements are exact complements -------------------------------------------------------

ARBITRARY = st.text(alphabet="abcdeIimnvko:-/*?$ ", max_size=30)


@FAST
@given(
    st.lists(st.sampled_from(ACTION_PATTERNS), min_size=1, max_size=3),
    st.one_of(st.sampled_from(REQUEST_ACTIONS), ARBITRARY),
)
def test_not_action_is_the_complement_of_action(patterns: list[str], action: str) -> None:
    positive, negative = policy(
        [
            {"Effect": "Allow", "Action": patterns, "Resource": "*"},
            {"Effect": "Allow", "NotAction": patterns, "Resource": "*"},
        ]
    ).statements
    assert positive.matches_action(action) != negative.matches_action(action)


@FAST
@given(
    st.lists(st.sampled_from(RESOURCE_PATTERNS), min_size=1, max_size=3),
    st.one_of(st.sampled_from(REQUEST_RESOURCES), ARBITRARY),
    requests(),
)
def test_not_resource_is_the_complement_of_resource(
    patterns: list[str], resource: str, request: RequestContext
) -> None:
    positive, negative = policy(
        [
            {"Effect": "Allow", "Action": "*", "Resource": patterns},
            {"Effect": "Allow", "Action": "*", "NotResource": patterns},
        ]
    ).statements
    probe = RequestContext(request.action, resource, request.principal, request.keys)
    assert positive.matches_resource(probe) != negative.matches_resource(probe)


@FAST
@given(ARBITRARY, ARBITRARY)
def test_star_matches_every_action_and_resource(action: str, resource: str) -> None:
    everything = policy([{"Effect": "Allow", "Action": "*", "Resource": "*"}])
    assert evaluate(RequestContext(action, resource), [everything]).allowed


# --- wildcards against a reference definition ---------------------------------------------------


def glob(pattern: str, text: str) -> bool:
    """Reference: `*` any run, `?` exactly one character, everything else itself."""

    @cache
    def at(i: int, j: int) -> bool:
        if i == len(pattern):
            return j == len(text)
        if pattern[i] == "*":
            return at(i + 1, j) or (j < len(text) and at(i, j + 1))
        if j == len(text):
            return False
        return pattern[i] in ("?", text[j]) and at(i + 1, j + 1)

    return at(0, 0)


def arn_glob(pattern: str, value: str) -> bool:
    """Reference: segment by segment on the first five colons; the last segment takes the rest."""
    wanted = pattern.split(":", 5)
    got = value.split(":", len(wanted) - 1)
    return len(got) == len(wanted) and all(glob(p, v) for p, v in zip(wanted, got, strict=True))


PATTERN_TEXT = st.text(alphabet="ab:/*?", max_size=10)
VALUE_TEXT = st.text(alphabet="ab:/", max_size=10)


@settings(max_examples=100, deadline=None)
@given(PATTERN_TEXT, VALUE_TEXT)
def test_string_like_agrees_with_the_reference(pattern: str, value: str) -> None:
    statement = policy(
        [
            {
                "Effect": "Allow",
                "Action": "*",
                "Resource": "*",
                "Condition": {"StringLike": {"k": pattern}},
            }
        ]
    ).statements[0]
    request = RequestContext("s:a", "r", keys=ContextKeys({"k": value}))
    assert statement.matches(request) == glob(pattern, value)


@settings(max_examples=100, deadline=None)
@given(PATTERN_TEXT, VALUE_TEXT)
def test_arn_patterns_agree_with_the_reference(pattern: str, value: str) -> None:
    compiled = compile_arn_pattern(pattern, variables=True)
    assert compiled.matches(value, ContextKeys()) == arn_glob(pattern, value)


# --- condition operators -----------------------------------------------------------------------

NEGATIONS = [
    ("StringEquals", "StringNotEquals", st.sampled_from(["alice", "Alice", "bob", ""])),
    ("StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase", st.sampled_from(["alice", "ALICE"])),
    ("StringLike", "StringNotLike", st.sampled_from(["a*", "*e", "?lice", "bob"])),
    ("NumericEquals", "NumericNotEquals", st.integers(-3, 3).map(str)),
    ("DateEquals", "DateNotEquals", st.sampled_from(["2026-01-01T00:00:00Z", "1767225600"])),
    ("IpAddress", "NotIpAddress", st.sampled_from(["10.0.0.0/8", "10.1.2.3", "2001:db8::/32"])),
    ("ArnLike", "ArnNotLike", st.sampled_from(["arn:aws:s3:::*", "arn:aws:iam::*:user/a*"])),
]
REQUEST_VALUES = st.sampled_from(
    [
        "alice",
        "ALICE",
        "bob",
        "0",
        "2",
        "-3",
        "2026-01-01T00:00:00Z",
        "10.1.2.3",
        "2001:db8::9",
        "arn:aws:s3:::bucket",
        "arn:aws:iam::1:user/ann",
    ]
)


def holds(condition: Mapping[str, object], keys: Mapping[str, ContextValue]) -> bool:
    statement = policy(
        [{"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": condition}]
    ).statements[0]
    return statement.conditions_hold(RequestContext("s:a", "r", keys=ContextKeys(keys)))


@FAST
@given(st.data(), REQUEST_VALUES)
def test_negated_operators_are_complements_on_present_keys(data: st.DataObject, value: str) -> None:
    positive, negative, values = data.draw(st.sampled_from(NEGATIONS))
    policy_values = data.draw(st.lists(values, min_size=1, max_size=3))
    keys = {"k": value}
    assert holds({positive: {"k": policy_values}}, keys) != holds(
        {negative: {"k": policy_values}}, keys
    )
    # ... while on a missing key both the positive form fails and the negated one holds.
    assert not holds({positive: {"k": policy_values}}, {})
    assert holds({negative: {"k": policy_values}}, {})


@FAST
@given(st.data(), REQUEST_VALUES, st.booleans())
def test_if_exists_is_true_when_absent_and_plain_otherwise(
    data: st.DataObject, value: str, present: bool
) -> None:
    positive, negative, values = data.draw(st.sampled_from(NEGATIONS))
    operator = data.draw(st.sampled_from([positive, negative]))
    policy_values = data.draw(st.lists(values, min_size=1, max_size=2))
    keys = {"k": value} if present else {}
    with_suffix = holds({operator + "IfExists": {"k": policy_values}}, keys)
    if present:
        assert with_suffix == holds({operator: {"k": policy_values}}, keys)
    else:
        assert with_suffix


@FAST
@given(
    st.lists(st.sampled_from("abcd"), max_size=4),
    st.lists(st.sampled_from("abcd"), min_size=1, max_size=3),
)
def test_set_qualifiers_are_subset_and_intersection(
    request_set: list[str], allowed: list[str]
) -> None:
    keys = {"k": request_set}
    subset = set(request_set) <= set(allowed)
    overlap = bool(set(request_set) & set(allowed))
    assert holds({"ForAllValues:StringEquals": {"k": allowed}}, keys) == subset
    assert holds({"ForAnyValue:StringEquals": {"k": allowed}}, keys) == overlap


@FAST
@given(
    st.sampled_from(["aws:SourceIp", "AWS:SOURCEIP", "aws:sourceip"]), st.sampled_from(SOURCE_IPS)
)
def test_condition_key_names_are_case_insensitive(name: str, ip: str) -> None:
    expected = holds({"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}, {"aws:SourceIp": ip})
    assert holds({"IpAddress": {name: "203.0.113.0/24"}}, {"aws:SourceIp": ip}) == expected
    assert holds({"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}, {name: ip}) == expected


# --- API Gateway's combination -----------------------------------------------------------------


def side(kind: PolicyKind, effect: str | None) -> tuple[Policy, ...]:
    """A policy that allows, denies, or is silent about the test request."""
    if effect is None:
        stmt = {"Effect": "Allow", "Action": "*", "Resource": "arn:aws:s3:::elsewhere"}
    else:
        stmt = {"Effect": effect, "Action": "*", "Resource": "*"}
    if kind is PolicyKind.RESOURCE:
        stmt["Principal"] = "*"
    return (parse_policy({"Version": "2012-10-17", "Statement": [stmt]}, kind=kind),)


EFFECTS = st.sampled_from(["Allow", "Deny", None])


@FAST
@given(EFFECTS, EFFECTS, st.booleans())
def test_iam_combination_follows_tables_a_and_b(
    identity: str | None, resource: str | None, cross_account: bool
) -> None:
    caller = "210987654321" if cross_account else ACCOUNT
    request = RequestContext(
        "execute-api:Invoke",
        f"{BASE}/prod/GET/pets",
        Principal.from_arn(f"arn:aws:iam::{caller}:user/u"),
    )
    setup = MethodPolicies(
        AuthorizationType.AWS_IAM,
        side(PolicyKind.IDENTITY, identity),
        side(PolicyKind.RESOURCE, resource)[0],
    )
    effect = evaluate(request, setup).effect
    if "Deny" in (identity, resource):
        assert effect == "Deny"
    elif cross_account:
        assert effect == ("Allow" if identity == resource == "Allow" else "ImplicitDeny")
    else:
        assert effect == ("Allow" if "Allow" in (identity, resource) else "ImplicitDeny")
