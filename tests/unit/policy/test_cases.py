"""Evaluation cases built from the spec's tables and operator rules (arns-and-policies.md §1,
§7, §8), plus documents the parser must reject.

Each case gives the policies, the request, the expected effect and the deciding statement
(`policy/label`, or None for "no statement allowed it").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pytest

from authgate.policy import (
    ANONYMOUS,
    NO_STATEMENT,
    ApiScope,
    AuthorizationType,
    ContextKeys,
    ContextValue,
    MethodPolicies,
    Policy,
    PolicyError,
    PolicyKind,
    Principal,
    PrincipalType,
    RequestContext,
    evaluate,
    parse_policy,
)

ACCOUNT = "123456789012"
OTHER = "210987654321"
INVOKE = "execute-api:Invoke"
V12 = "2012-10-17"
V08 = "2008-10-17"


def method_arn(path: str = "pets/7", verb: str = "GET", stage: str = "prod") -> str:
    return f"arn:aws:execute-api:us-east-1:{ACCOUNT}:abc123/{stage}/{verb}/{path}"


PETS = method_arn()
ALICE = Principal.from_arn(f"arn:aws:iam::{ACCOUNT}:user/alice")
BOB = Principal.from_arn(f"arn:aws:iam::{ACCOUNT}:user/bob")
SESSION = Principal.from_arn(f"arn:aws:sts::{ACCOUNT}:assumed-role/deployer/build-42")
OTHER_SESSION = Principal.from_arn(f"arn:aws:sts::{ACCOUNT}:assumed-role/reader/r-1")
PARTNER = Principal.from_arn(f"arn:aws:iam::{OTHER}:user/partner")
SERVICE = Principal("apigateway.amazonaws.com", "", PrincipalType.SERVICE)
WEB_USER = Principal("cognito-identity.amazonaws.com", "", PrincipalType.WEB_IDENTITY)


def req(
    resource: str = PETS,
    action: str = INVOKE,
    principal: Principal = ANONYMOUS,
    keys: Mapping[str, ContextValue] | None = None,
) -> RequestContext:
    return RequestContext(action, resource, principal, ContextKeys(keys))


# --- policy builders ------------------------------------------------------------------------


def stmt(
    effect: str = "Allow",
    action: object = INVOKE,
    resource: object = "*",
    *,
    sid: str | None = None,
    condition: dict[str, object] | None = None,
    principal: object = None,
    not_principal: object = None,
    not_action: object = None,
    not_resource: object = None,
) -> dict[str, object]:
    out: dict[str, object] = {"Effect": effect}
    if sid is not None:
        out["Sid"] = sid
    if not_action is not None:
        out["NotAction"] = not_action
    else:
        out["Action"] = action
    if not_resource is not None:
        out["NotResource"] = not_resource
    else:
        out["Resource"] = resource
    if principal is not None:
        out["Principal"] = principal
    if not_principal is not None:
        out["NotPrincipal"] = not_principal
    if condition is not None:
        out["Condition"] = condition
    return out


def deny(*args: object, **kwargs: object) -> dict[str, object]:
    return stmt("Deny", *args, **kwargs)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Spec:
    kind: PolicyKind
    name: str
    document: dict[str, object]

    def build(self) -> Policy:
        scope = (
            ApiScope("us-east-1", ACCOUNT, "abc123") if self.kind is PolicyKind.RESOURCE else None
        )
        return parse_policy(self.document, kind=self.kind, name=self.name, scope=scope)


def doc(statements: tuple[dict[str, object], ...], version: str | None) -> dict[str, object]:
    out: dict[str, object] = {"Statement": list(statements)}
    if version is not None:
        out["Version"] = version
    return out


def identity(*statements: dict[str, object], version: str | None = V12) -> Spec:
    return Spec(PolicyKind.IDENTITY, "id", doc(statements, version))


def resource(*statements: dict[str, object]) -> Spec:
    with_principal = [
        s if "Principal" in s or "NotPrincipal" in s else {**s, "Principal": "*"}
        for s in statements
    ]
    return Spec(PolicyKind.RESOURCE, "rp", doc(tuple(with_principal), V12))


def authorizer(*statements: dict[str, object]) -> Spec:
    return Spec(PolicyKind.AUTHORIZER, "auth", doc(statements, V12))


@dataclass(frozen=True)
class Method:
    authorization: AuthorizationType
    identity: tuple[Spec, ...] = ()
    resource: Spec | None = None
    private_api: bool = False
    cognito_requires_resource_allow: bool = True
    resource_account: str | None = None

    def build(self) -> MethodPolicies:
        return MethodPolicies(
            self.authorization,
            tuple(s.build() for s in self.identity),
            None if self.resource is None else self.resource.build(),
            self.resource_account,
            self.private_api,
            self.cognito_requires_resource_allow,
        )


@dataclass(frozen=True)
class Case:
    id: str
    policies: tuple[Spec, ...] | Method
    request: RequestContext
    effect: str
    decider: str | None
    missing: PolicyKind | None = field(default=None)


CASES: list[Case] = []


def case(
    id: str,
    policies: Spec | tuple[Spec, ...] | Method,
    request: RequestContext,
    effect: str,
    decider: str | None = None,
    missing: PolicyKind | None = None,
) -> None:
    specs = (policies,) if isinstance(policies, Spec) else policies
    CASES.append(Case(id, specs, request, effect, decider, missing))


def allowed_if(
    id: str, condition: dict[str, object], keys: Mapping[str, ContextValue], holds: bool
) -> None:
    """A one-statement identity policy whose only question is the condition."""
    policy = identity(stmt(condition=condition))
    if holds:
        case(f"cond/{id}", policy, req(keys=keys), "Allow", "id/Statement[0]")
    else:
        case(f"cond/{id}", policy, req(keys=keys), "ImplicitDeny")


# --- §8 decision algorithm ------------------------------------------------------------------

case("algo/no-policies", (), req(), "ImplicitDeny")
case("algo/empty-statement-list", identity(), req(), "ImplicitDeny")
case("algo/single-allow", identity(stmt()), req(), "Allow", "id/Statement[0]")
case("algo/single-deny", identity(deny()), req(), "Deny", "id/Statement[0]")
case(
    "algo/statement-as-object",
    Spec(PolicyKind.IDENTITY, "id", {"Version": V12, "Statement": stmt(sid="One")}),
    req(),
    "Allow",
    "id/One",
)
case("algo/deny-beats-allow", identity(stmt(), deny(sid="D")), req(), "Deny", "id/D")
case("algo/deny-before-allow", identity(deny(sid="D"), stmt()), req(), "Deny", "id/D")
case(
    "algo/deny-in-second-policy",
    (identity(stmt(sid="A")), Spec(PolicyKind.IDENTITY, "second", doc((deny(sid="D"),), V12))),
    req(),
    "Deny",
    "second/D",
)
case(
    "algo/non-matching-deny-ignored",
    identity(stmt(sid="A"), deny(resource=method_arn("admin/*"))),
    req(),
    "Allow",
    "id/A",
)
case("algo/first-allow-decides", identity(stmt(sid="A1"), stmt(sid="A2")), req(), "Allow", "id/A1")
case(
    "algo/sid-else-index",
    identity(deny(resource="arn:aws:s3:::x"), stmt()),
    req(),
    "Allow",
    "id/Statement[1]",
)
case("algo/non-matching-allow", identity(stmt(resource=method_arn("admin"))), req(), "ImplicitDeny")
case(
    "algo/two-denies-first-decides",
    identity(deny(sid="D1"), deny(sid="D2")),
    req(),
    "Deny",
    "id/D1",
)

# --- §1 actions ------------------------------------------------------------------------------

case("action/exact", identity(stmt()), req(), "Allow", "id/Statement[0]")
case(
    "action/policy-case-insensitive",
    identity(stmt("Allow", "EXECUTE-API:invoke")),
    req(),
    "Allow",
    "id/Statement[0]",
)
case(
    "action/request-case-insensitive",
    identity(stmt()),
    req(action="Execute-Api:INVOKE"),
    "Allow",
    "id/Statement[0]",
)
case("action/star", identity(stmt("Allow", "*")), req(), "Allow", "id/Statement[0]")
case(
    "action/service-star",
    identity(stmt("Allow", "execute-api:*")),
    req(),
    "Allow",
    "id/Statement[0]",
)
case(
    "action/prefix-star",
    identity(stmt("Allow", "execute-api:Inv*")),
    req(),
    "Allow",
    "id/Statement[0]",
)
case(
    "action/question-mark",
    identity(stmt("Allow", "execute-api:Invok?")),
    req(),
    "Allow",
    "id/Statement[0]",
)
case(
    "action/question-mark-needs-one-char",
    identity(stmt("Allow", "execute-api:Invoke?")),
    req(),
    "ImplicitDeny",
)
case(
    "action/other-action",
    identity(stmt("Allow", "execute-api:ManageConnections")),
    req(),
    "ImplicitDeny",
)
case("action/other-service", identity(stmt("Allow", "apigateway:*")), req(), "ImplicitDeny")
case(
    "action/list-any",
    identity(stmt("Allow", ["iam:CreateUser", "execute-api:Invoke"])),
    req(),
    "Allow",
    "id/Statement[0]",
)
case(
    "action/invalidate-cache",
    identity(stmt("Allow", "execute-api:InvalidateCache")),
    req(action="execute-api:InvalidateCache"),
    "Allow",
    "id/Statement[0]",
)
case(
    "action/not-action-allows-the-rest",
    identity(stmt(not_action="iam:*")),
    req(),
    "Allow",
    "id/Statement[0]",
)
case(
    "action/not-action-excludes-listed",
    identity(stmt(not_action="iam:*")),
    req(action="iam:CreateUser"),
    "ImplicitDeny",
)
case(
    "action/not-action-deny-everything-else",
    identity(stmt("Allow", "*"), deny(not_action=INVOKE, sid="D")),
    req(action="iam:CreateUser"),
    "Deny",
    "id/D",
)
case(
    "action/not-action-deny-spares-listed",
    identity(stmt("Allow", "*", sid="A"), deny(not_action=INVOKE)),
    req(),
    "Allow",
    "id/A",
)
case(
    "action/not-action-list",
    identity(stmt(not_action=["iam:*", "sts:*"])),
    req(action="sts:AssumeRole"),
    "ImplicitDeny",
)
case(
    "action/management-iam",
    identity(stmt("Allow", "iam:Create*", "*")),
    req(resource=f"arn:aws:iam::{ACCOUNT}:user/carol", action="iam:CreateUser"),
    "Allow",
    "id/Statement[0]",
)
case(
    "action/management-apigateway",
    identity(stmt("Allow", "apigateway:POST", "arn:aws:apigateway:us-east-1::/apikeys")),
    req(resource="arn:aws:apigateway:us-east-1::/apikeys", action="apigateway:POST"),
    "Allow",
    "id/Statement[0]",
)
case(
    "action/management-verb-differs",
    identity(stmt("Allow", "apigateway:POST", "arn:aws:apigateway:us-east-1::/apikeys")),
    req(resource="arn:aws:apigateway:us-east-1::/apikeys", action="apigateway:DELETE"),
    "ImplicitDeny",
)

# --- §1 resources: the spec's wildcard table against .../abc123/prod/GET/pets/7 --------------

TABLE = [
    ("any-execute-api", "arn:aws:execute-api:*:*:*", True),
    ("whole-api", "arn:aws:execute-api:us-east-1:*:abc123/*", True),
    ("whole-stage", "arn:aws:execute-api:us-east-1:*:abc123/prod/*", True),
    ("exact-path-only", "arn:aws:execute-api:us-east-1:*:abc123/*/GET/pets", False),
    ("below-path", "arn:aws:execute-api:us-east-1:*:abc123/*/GET/pets/*", True),
    ("any-verb", "arn:aws:execute-api:us-east-1:*:abc123/*/*/pets/*", True),
    ("stage-verb", "arn:aws:execute-api:us-east-1:*:abc123/prod/GET/*", True),
]
for name, pattern, hit in TABLE:
    case(
        f"resource/table-{name}",
        identity(stmt(resource=pattern)),
        req(),
        "Allow" if hit else "ImplicitDeny",
        "id/Statement[0]" if hit else None,
    )
case(
    "resource/table-shorthand",
    resource(stmt(resource="execute-api:/*")),
    req(),
    "Allow",
    "rp/Statement[0]",
)
case(
    "resource/stage-verb-matches-root",
    identity(stmt(resource="arn:aws:execute-api:us-east-1:*:abc123/prod/GET/*")),
    req(method_arn("")),
    "Allow",
    "id/Statement[0]",
)
case(
    "resource/below-path-not-path-itself",
    identity(stmt(resource="arn:aws:execute-api:us-east-1:*:abc123/*/GET/pets/*")),
    req(method_arn("pets")),
    "ImplicitDeny",
)
case(
    "resource/root-exact",
    identity(stmt(resource=method_arn(""))),
    req(method_arn("")),
    "Allow",
    "id/Statement[0]",
)
case("resource/star", identity(stmt(resource="*")), req(), "Allow", "id/Statement[0]")
case(
    "resource/star-crosses-slashes",
    identity(stmt(resource="arn:aws:execute-api:us-east-1:*:abc123/*/7")),
    req(),
    "Allow",
    "id/Statement[0]",
)
case(
    "resource/region-wildcard",
    identity(stmt(resource=f"arn:aws:execute-api:*:{ACCOUNT}:abc123/*")),
    req(),
    "Allow",
    "id/Statement[0]",
)
case(
    "resource/other-api",
    identity(stmt(resource="arn:aws:execute-api:us-east-1:*:xyz789/*")),
    req(),
    "ImplicitDeny",
)
case(
    "resource/other-account",
    identity(stmt(resource=f"arn:aws:execute-api:us-east-1:{OTHER}:abc123/*")),
    req(),
    "ImplicitDeny",
)
case(
    "resource/case-sensitive-path",
    identity(stmt(resource=method_arn("Pets/*"))),
    req(),
    "ImplicitDeny",
)
case(
    "resource/case-sensitive-verb",
    identity(stmt(resource=method_arn("pets/7", verb="get"))),
    req(),
    "ImplicitDeny",
)
case(
    "resource/question-one-char",
    identity(stmt(resource=method_arn("pets/?"))),
    req(),
    "Allow",
    "id/Statement[0]",
)
case(
    "resource/question-not-two",
    identity(stmt(resource=method_arn("pets/?"))),
    req(method_arn("pets/77")),
    "ImplicitDeny",
)
case(
    "resource/literal-any-verb",
    identity(stmt(resource=method_arn("pets/7", verb="ANY"))),
    req(),
    "ImplicitDeny",
)
case(
    "resource/short-pattern-last-segment-absorbs",
    identity(stmt(resource="arn:aws:execute-api:*")),
    req(),
    "Allow",
    "id/Statement[0]",
)
case(
    "resource/wildcard-stays-in-segment",
    identity(stmt(resource="arn:aws:execute-api:*:abc123/*")),
    req(),
    "ImplicitDeny",
)
case(
    "resource/last-segment-holds-colons",
    identity(stmt(resource="arn:aws:execute-api:us-east-1:*:abc123/prod/GET/*")),
    req(method_arn("a:b")),
    "Allow",
    "id/Statement[0]",
)
case(
    "resource/list-any",
    identity(stmt(resource=[method_arn("admin/*"), method_arn("pets/*")])),
    req(),
    "Allow",
    "id/Statement[0]",
)
case(
    "resource/not-resource-allows-the-rest",
    identity(stmt(not_resource=method_arn("admin/*"))),
    req(),
    "Allow",
    "id/Statement[0]",
)
case(
    "resource/not-resource-excludes-listed",
    identity(stmt(not_resource=method_arn("admin/*"))),
    req(method_arn("admin/users")),
    "ImplicitDeny",
)
case(
    "resource/not-resource-deny",
    identity(stmt(sid="A"), deny(not_resource=method_arn("pets/*"), sid="D")),
    req(method_arn("admin")),
    "Deny",
    "id/D",
)
case(
    "resource/management-plane",
    identity(stmt("Allow", "apigateway:GET", "arn:aws:apigateway:us-east-1::/restapis/*")),
    req("arn:aws:apigateway:us-east-1::/restapis/abc123/stages", "apigateway:GET"),
    "Allow",
    "id/Statement[0]",
)
case(
    "resource/websocket-route",
    identity(stmt(resource="arn:aws:execute-api:us-east-1:*:abc123/prod/$connect")),
    req(f"arn:aws:execute-api:us-east-1:{ACCOUNT}:abc123/prod/$connect"),
    "Allow",
    "id/Statement[0]",
)
case(
    "resource/shorthand-stage-path",
    resource(stmt(resource="execute-api:/prod/GET/pets/*")),
    req(),
    "Allow",
    "rp/Statement[0]",
)
case(
    "resource/shorthand-other-stage",
    resource(stmt(resource="execute-api:/dev/*")),
    req(),
    "ImplicitDeny",
)

# --- §7 principals in resource policies ------------------------------------------------------

case("principal/star-anonymous", resource(stmt(principal="*")), req(), "Allow", "rp/Statement[0]")
case(
    "principal/aws-star-anonymous",
    resource(stmt(principal={"AWS": "*"})),
    req(),
    "Allow",
    "rp/Statement[0]",
)
case(
    "principal/account-not-anonymous",
    resource(stmt(principal={"AWS": ACCOUNT})),
    req(),
    "ImplicitDeny",
)
case(
    "principal/account-id",
    resource(stmt(principal={"AWS": ACCOUNT})),
    req(principal=ALICE),
    "Allow",
    "rp/Statement[0]",
)
case(
    "principal/account-root-arn",
    resource(stmt(principal={"AWS": f"arn:aws:iam::{ACCOUNT}:root"})),
    req(principal=SESSION),
    "Allow",
    "rp/Statement[0]",
)
case(
    "principal/account-other",
    resource(stmt(principal={"AWS": f"arn:aws:iam::{ACCOUNT}:root"})),
    req(principal=PARTNER),
    "ImplicitDeny",
)
case(
    "principal/user-arn",
    resource(stmt(principal={"AWS": ALICE.arn})),
    req(principal=ALICE),
    "Allow",
    "rp/Statement[0]",
)
case(
    "principal/user-arn-other-user",
    resource(stmt(principal={"AWS": ALICE.arn})),
    req(principal=BOB),
    "ImplicitDeny",
)
case(
    "principal/role-matches-session",
    resource(stmt(principal={"AWS": f"arn:aws:iam::{ACCOUNT}:role/deployer"})),
    req(principal=SESSION),
    "Allow",
    "rp/Statement[0]",
)
case(
    "principal/role-with-path",
    resource(stmt(principal={"AWS": f"arn:aws:iam::{ACCOUNT}:role/ci/deployer"})),
    req(principal=SESSION),
    "Allow",
    "rp/Statement[0]",
)
case(
    "principal/role-other-role",
    resource(stmt(principal={"AWS": f"arn:aws:iam::{ACCOUNT}:role/deployer"})),
    req(principal=OTHER_SESSION),
    "ImplicitDeny",
)
case(
    "principal/list-or",
    resource(stmt(principal={"AWS": [ALICE.arn, OTHER]})),
    req(principal=PARTNER),
    "Allow",
    "rp/Statement[0]",
)
case(
    "principal/not-principal-spares-listed",
    resource(stmt(sid="A"), deny(sid="D", not_principal={"AWS": ALICE.arn})),
    req(principal=ALICE),
    "Allow",
    "rp/A",
)
case(
    "principal/not-principal-denies-others",
    resource(stmt(sid="A"), deny(sid="D", not_principal={"AWS": ALICE.arn})),
    req(principal=BOB),
    "Deny",
    "rp/D",
)
case(
    "principal/not-principal-denies-anonymous",
    resource(stmt(sid="A"), deny(sid="D", not_principal={"AWS": ALICE.arn})),
    req(),
    "Deny",
    "rp/D",
)
case(
    "principal/service",
    resource(stmt(principal={"Service": "apigateway.amazonaws.com"})),
    req(principal=SERVICE),
    "Allow",
    "rp/Statement[0]",
)
case(
    "principal/service-not-anonymous",
    resource(stmt(principal={"Service": "apigateway.amazonaws.com"})),
    req(),
    "ImplicitDeny",
)
case(
    "principal/federated",
    resource(stmt(principal={"Federated": "cognito-identity.amazonaws.com"})),
    req(principal=WEB_USER),
    "Allow",
    "rp/Statement[0]",
)
case(
    "principal/aws-entry-not-service",
    resource(stmt(principal={"AWS": ACCOUNT})),
    req(principal=SERVICE),
    "ImplicitDeny",
)
case(
    "principal/identity-policy-ignores-principal",
    identity(stmt()),
    req(principal=PARTNER),
    "Allow",
    "id/Statement[0]",
)

# --- §8 condition operators ------------------------------------------------------------------

U = "aws:username"
allowed_if("StringEquals/match", {"StringEquals": {U: "alice"}}, {U: "alice"}, True)
allowed_if("StringEquals/case-sensitive", {"StringEquals": {U: "Alice"}}, {U: "alice"}, False)
allowed_if("StringEquals/values-or", {"StringEquals": {U: ["bob", "alice"]}}, {U: "alice"}, True)
allowed_if("StringEquals/missing-key", {"StringEquals": {U: "alice"}}, {}, False)
allowed_if("StringEquals/star-is-literal", {"StringEquals": {U: "*"}}, {U: "alice"}, False)
allowed_if(
    "StringEquals/number-value", {"StringEquals": {"tenant:level": 3}}, {"tenant:level": "3"}, True
)
allowed_if("StringNotEquals/differs", {"StringNotEquals": {U: "bob"}}, {U: "alice"}, True)
allowed_if("StringNotEquals/same", {"StringNotEquals": {U: "alice"}}, {U: "alice"}, False)
allowed_if(
    "StringNotEquals/values-and", {"StringNotEquals": {U: ["bob", "alice"]}}, {U: "alice"}, False
)
allowed_if(
    "StringNotEquals/none-of-values", {"StringNotEquals": {U: ["bob", "carol"]}}, {U: "alice"}, True
)
allowed_if("StringNotEquals/missing-key", {"StringNotEquals": {U: "alice"}}, {}, True)
allowed_if(
    "StringEqualsIgnoreCase/match", {"StringEqualsIgnoreCase": {U: "ALICE"}}, {U: "alice"}, True
)
allowed_if(
    "StringNotEqualsIgnoreCase/same",
    {"StringNotEqualsIgnoreCase": {U: "ALICE"}},
    {U: "alice"},
    False,
)
allowed_if("StringLike/star", {"StringLike": {U: "ali*"}}, {U: "alice"}, True)
allowed_if("StringLike/question", {"StringLike": {U: "al?ce"}}, {U: "alice"}, True)
allowed_if("StringLike/question-one-char", {"StringLike": {U: "al?e"}}, {U: "alice"}, False)
allowed_if("StringLike/case-sensitive", {"StringLike": {U: "ALI*"}}, {U: "alice"}, False)
allowed_if(
    "StringLike/star-crosses-everything",
    {"StringLike": {"aws:PrincipalArn": "arn:*:user/*"}},
    {"aws:PrincipalArn": "arn:aws:iam::1:user/a/b"},
    True,
)
allowed_if("StringLike/missing-key", {"StringLike": {U: "*"}}, {}, False)
allowed_if("StringNotLike/no-match", {"StringNotLike": {U: "bob*"}}, {U: "alice"}, True)
allowed_if("StringNotLike/match", {"StringNotLike": {U: "ali*"}}, {U: "alice"}, False)
allowed_if("StringNotLike/missing-key", {"StringNotLike": {U: "ali*"}}, {}, True)
allowed_if("key-name/policy-case", {"StringEquals": {"AWS:USERNAME": "alice"}}, {U: "alice"}, True)
allowed_if("key-name/request-case", {"StringEquals": {U: "alice"}}, {"AWS:UserName": "alice"}, True)

N = "custom:count"
allowed_if("NumericEquals/int", {"NumericEquals": {N: 3}}, {N: "3"}, True)
allowed_if("NumericEquals/float-text", {"NumericEquals": {N: "3"}}, {N: "3.0"}, True)
allowed_if("NumericEquals/values-or", {"NumericEquals": {N: [1, 2]}}, {N: 2}, True)
allowed_if("NumericNotEquals/differs", {"NumericNotEquals": {N: 3}}, {N: 4}, True)
allowed_if("NumericNotEquals/same", {"NumericNotEquals": {N: 3}}, {N: 3}, False)
allowed_if("NumericNotEquals/missing-key", {"NumericNotEquals": {N: 3}}, {}, True)
allowed_if("NumericLessThan/below", {"NumericLessThan": {N: 10}}, {N: 9}, True)
allowed_if("NumericLessThan/equal", {"NumericLessThan": {N: 10}}, {N: 10}, False)
allowed_if("NumericLessThanEquals/equal", {"NumericLessThanEquals": {N: 10}}, {N: 10}, True)
allowed_if("NumericGreaterThan/above", {"NumericGreaterThan": {N: 10}}, {N: 10.5}, True)
allowed_if("NumericGreaterThan/equal", {"NumericGreaterThan": {N: 10}}, {N: 10}, False)
allowed_if("NumericGreaterThanEquals/equal", {"NumericGreaterThanEquals": {N: "10"}}, {N: 10}, True)
allowed_if("Numeric/not-a-number", {"NumericLessThan": {N: 10}}, {N: "abc"}, False)
allowed_if("Numeric/missing-key", {"NumericLessThan": {N: 10}}, {}, False)

T = "aws:CurrentTime"
NOW = "2026-11-22T10:00:00Z"
allowed_if("DateLessThan/before", {"DateLessThan": {T: "2030-01-01T00:00:00Z"}}, {T: NOW}, True)
allowed_if(
    "DateGreaterThan/not-after", {"DateGreaterThan": {T: "2030-01-01T00:00:00Z"}}, {T: NOW}, False
)
allowed_if(
    "DateEquals/epoch-vs-iso", {"DateEquals": {T: "1700000000"}}, {T: "2023-11-14T22:13:20Z"}, True
)
allowed_if("DateEquals/offset", {"DateEquals": {T: "2026-11-22T11:00:00+01:00"}}, {T: NOW}, True)
allowed_if("DateLessThanEquals/same-instant", {"DateLessThanEquals": {T: NOW}}, {T: NOW}, True)
allowed_if(
    "DateGreaterThanEquals/epoch-key",
    {"DateGreaterThanEquals": {"aws:EpochTime": "2020-01-01T00:00:00Z"}},
    {"aws:EpochTime": 1795341600},
    True,
)
allowed_if("DateNotEquals/differs", {"DateNotEquals": {T: "2020-01-01T00:00:00Z"}}, {T: NOW}, True)
allowed_if("DateNotEquals/same", {"DateNotEquals": {T: NOW}}, {T: NOW}, False)
allowed_if("DateGreaterThan/date-only", {"DateGreaterThan": {T: "2026-11-22"}}, {T: NOW}, True)
allowed_if(
    "Date/unparsable-request", {"DateLessThan": {T: "2030-01-01T00:00:00Z"}}, {T: "soon"}, False
)
allowed_if("Date/missing-key", {"DateLessThan": {T: "2030-01-01T00:00:00Z"}}, {}, False)

S = "aws:SecureTransport"
allowed_if("Bool/true", {"Bool": {S: "true"}}, {S: True}, True)
allowed_if("Bool/false-vs-true", {"Bool": {S: "false"}}, {S: True}, False)
allowed_if("Bool/json-bool", {"Bool": {S: False}}, {S: False}, True)
allowed_if("Bool/case", {"Bool": {S: "TRUE"}}, {S: "True"}, True)
allowed_if("Bool/missing-key", {"Bool": {S: "true"}}, {}, False)
allowed_if(
    "Bool/variable", {"Bool": {S: "${custom:want-tls}"}}, {S: True, "custom:want-tls": "true"}, True
)

B = "custom:blob"
allowed_if(
    "BinaryEquals/match", {"BinaryEquals": {B: "QmluYXJ5VmFsdWU="}}, {B: "QmluYXJ5VmFsdWU="}, True
)
allowed_if(
    "BinaryEquals/differs", {"BinaryEquals": {B: "QmluYXJ5VmFsdWU="}}, {B: "T3RoZXI="}, False
)

IP = "aws:SourceIp"
allowed_if("IpAddress/in-cidr", {"IpAddress": {IP: "203.0.113.0/24"}}, {IP: "203.0.113.9"}, True)
allowed_if("IpAddress/outside", {"IpAddress": {IP: "203.0.113.0/24"}}, {IP: "198.51.100.9"}, False)
allowed_if("IpAddress/bare-ip-is-32", {"IpAddress": {IP: "203.0.113.9"}}, {IP: "203.0.113.9"}, True)
allowed_if(
    "IpAddress/bare-ip-exact", {"IpAddress": {IP: "203.0.113.9"}}, {IP: "203.0.113.10"}, False
)
allowed_if("IpAddress/ipv6", {"IpAddress": {IP: "2001:DB8::/32"}}, {IP: "2001:db8::1"}, True)
allowed_if(
    "IpAddress/ipv6-outside", {"IpAddress": {IP: "2001:DB8::/32"}}, {IP: "2001:db9::1"}, False
)
allowed_if(
    "IpAddress/v4-cidr-v6-caller", {"IpAddress": {IP: "0.0.0.0/0"}}, {IP: "2001:db8::1"}, False
)
allowed_if(
    "IpAddress/v4-mapped-v6",
    {"IpAddress": {IP: "203.0.113.0/24"}},
    {IP: "::ffff:203.0.113.9"},
    True,
)
allowed_if(
    "IpAddress/values-or",
    {"IpAddress": {IP: ["10.0.0.0/8", "203.0.113.0/24"]}},
    {IP: "203.0.113.9"},
    True,
)
allowed_if("IpAddress/missing-key", {"IpAddress": {IP: "0.0.0.0/0"}}, {}, False)
allowed_if("IpAddress/garbage-caller", {"IpAddress": {IP: "0.0.0.0/0"}}, {IP: "not-an-ip"}, False)
allowed_if(
    "NotIpAddress/outside", {"NotIpAddress": {IP: "203.0.113.0/24"}}, {IP: "198.51.100.9"}, True
)
allowed_if(
    "NotIpAddress/inside", {"NotIpAddress": {IP: "203.0.113.0/24"}}, {IP: "203.0.113.9"}, False
)
allowed_if(
    "NotIpAddress/values-and",
    {"NotIpAddress": {IP: ["203.0.113.0/24", "198.51.100.0/24"]}},
    {IP: "198.51.100.7"},
    False,
)
allowed_if("NotIpAddress/missing-key", {"NotIpAddress": {IP: "203.0.113.0/24"}}, {}, True)

A = "aws:SourceArn"
SRC = f"arn:aws:execute-api:us-east-1:{ACCOUNT}:abc123/prod/GET/pets"
allowed_if("ArnEquals/exact", {"ArnEquals": {A: SRC}}, {A: SRC}, True)
allowed_if(
    "ArnEquals/wildcards-like-ArnLike",
    {"ArnEquals": {A: "arn:aws:execute-api:*:*:abc123/*"}},
    {A: SRC},
    True,
)
allowed_if(
    "ArnLike/account-wildcard",
    {"ArnLike": {A: "arn:aws:execute-api:us-east-1:*:abc123/*"}},
    {A: SRC},
    True,
)
allowed_if(
    "ArnLike/segment-wildcard",
    {"ArnLike": {A: "arn:aws:sns:us-*:123456789012:topic"}},
    {A: "arn:aws:sns:us-east-1:123456789012:topic"},
    True,
)
allowed_if(
    "ArnLike/wildcard-stays-in-segment",
    {"ArnLike": {A: "arn:aws:sns:*:topic"}},
    {A: "arn:aws:sns:us-east-1:123456789012:topic"},
    False,
)
allowed_if(
    "ArnLike/case-sensitive",
    {"ArnLike": {A: "arn:aws:SNS:*:*:topic"}},
    {A: "arn:aws:sns:us-east-1:123456789012:topic"},
    False,
)
allowed_if("ArnNotEquals/differs", {"ArnNotEquals": {A: "arn:aws:sns:*:*:other"}}, {A: SRC}, True)
allowed_if("ArnNotLike/matches", {"ArnNotLike": {A: "arn:aws:execute-api:*:*:*"}}, {A: SRC}, False)
allowed_if("ArnNotLike/missing-key", {"ArnNotLike": {A: "arn:aws:execute-api:*:*:*"}}, {}, True)
allowed_if("ArnLike/missing-key", {"ArnLike": {A: "arn:aws:execute-api:*:*:*"}}, {}, False)

allowed_if("Null/true-absent", {"Null": {"aws:TokenIssueTime": "true"}}, {}, True)
allowed_if(
    "Null/true-present",
    {"Null": {"aws:TokenIssueTime": "true"}},
    {"aws:TokenIssueTime": NOW},
    False,
)
allowed_if(
    "Null/false-present",
    {"Null": {"aws:TokenIssueTime": "false"}},
    {"aws:TokenIssueTime": NOW},
    True,
)
allowed_if("Null/false-absent", {"Null": {"aws:TokenIssueTime": "false"}}, {}, False)
allowed_if(
    "Null/none-is-absent",
    {"Null": {"aws:TokenIssueTime": True}},
    {"aws:TokenIssueTime": None},
    True,
)

allowed_if("IfExists/missing", {"StringEqualsIfExists": {U: "alice"}}, {}, True)
allowed_if("IfExists/present-match", {"StringEqualsIfExists": {U: "alice"}}, {U: "alice"}, True)
allowed_if("IfExists/present-mismatch", {"StringEqualsIfExists": {U: "alice"}}, {U: "bob"}, False)
allowed_if("IfExists/ip-missing", {"IpAddressIfExists": {IP: "203.0.113.0/24"}}, {}, True)
allowed_if("IfExists/numeric-present", {"NumericLessThanIfExists": {N: 10}}, {N: 5}, True)
allowed_if(
    "IfExists/negated-present-equal", {"StringNotEqualsIfExists": {U: "alice"}}, {U: "alice"}, False
)

G = "custom:groups"
allowed_if(
    "ForAllValues/subset",
    {"ForAllValues:StringEquals": {G: ["a", "b", "c"]}},
    {G: ["a", "b"]},
    True,
)
allowed_if(
    "ForAllValues/one-outside",
    {"ForAllValues:StringEquals": {G: ["a", "b"]}},
    {G: ["a", "x"]},
    False,
)
allowed_if("ForAllValues/missing-key", {"ForAllValues:StringEquals": {G: ["a"]}}, {}, True)
allowed_if("ForAllValues/empty-set", {"ForAllValues:StringEquals": {G: ["a"]}}, {G: []}, True)
allowed_if(
    "ForAllValues/not-equals", {"ForAllValues:StringNotEquals": {G: ["a"]}}, {G: ["x", "y"]}, True
)
allowed_if(
    "ForAllValues/not-equals-one-hit",
    {"ForAllValues:StringNotEquals": {G: ["a"]}},
    {G: ["a", "y"]},
    False,
)
allowed_if(
    "ForAnyValue/one-inside", {"ForAnyValue:StringEquals": {G: ["a", "b"]}}, {G: ["x", "b"]}, True
)
allowed_if(
    "ForAnyValue/none-inside", {"ForAnyValue:StringEquals": {G: ["a", "b"]}}, {G: ["x", "y"]}, False
)
allowed_if("ForAnyValue/missing-key", {"ForAnyValue:StringEquals": {G: ["a"]}}, {}, False)
allowed_if(
    "ForAnyValue/like", {"ForAnyValue:StringLike": {G: "adm*"}}, {G: ["dev", "admins"]}, True
)
allowed_if(
    "ForAnyValue/not-equals", {"ForAnyValue:StringNotEquals": {G: ["a"]}}, {G: ["a", "y"]}, True
)
allowed_if(
    "ForAnyValue/if-exists-missing", {"ForAnyValue:StringEqualsIfExists": {G: ["a"]}}, {}, True
)
allowed_if("plain-on-multivalued/any-match", {"StringEquals": {G: "b"}}, {G: ["a", "b"]}, True)
allowed_if(
    "plain-on-multivalued/negated-none-match", {"StringNotEquals": {G: "b"}}, {G: ["a", "b"]}, False
)

allowed_if(
    "and/keys-all-hold",
    {"StringEquals": {U: "alice", "custom:team": "red"}},
    {U: "alice", "custom:team": "red"},
    True,
)
allowed_if(
    "and/keys-one-fails",
    {"StringEquals": {U: "alice", "custom:team": "red"}},
    {U: "alice", "custom:team": "blue"},
    False,
)
allowed_if(
    "and/operators-all-hold",
    {"StringEquals": {U: "alice"}, "IpAddress": {IP: "203.0.113.0/24"}},
    {U: "alice", IP: "203.0.113.1"},
    True,
)
allowed_if(
    "and/operators-one-fails",
    {"StringEquals": {U: "alice"}, "IpAddress": {IP: "203.0.113.0/24"}},
    {U: "alice", IP: "10.0.0.1"},
    False,
)
allowed_if(
    "and/range-inside", {"NumericGreaterThan": {N: 1}, "NumericLessThan": {N: 10}}, {N: 5}, True
)
allowed_if(
    "and/range-outside", {"NumericGreaterThan": {N: 1}, "NumericLessThan": {N: 10}}, {N: 11}, False
)

# --- §8 policy variables ---------------------------------------------------------------------

OWN = "arn:aws:execute-api:us-east-1:*:abc123/*/*/users/${aws:username}/*"
case(
    "var/username-own-prefix",
    identity(stmt(resource=OWN)),
    req(method_arn("users/alice/x"), principal=ALICE),
    "Allow",
    "id/Statement[0]",
)
case(
    "var/username-other-prefix",
    identity(stmt(resource=OWN)),
    req(method_arn("users/bob/x"), principal=ALICE),
    "ImplicitDeny",
)
case(
    "var/no-value-matches-nothing",
    identity(stmt(resource=OWN)),
    req(method_arn("users/alice/x"), principal=SESSION),
    "ImplicitDeny",
)
case(
    "var/key-case-insensitive",
    identity(stmt(resource=OWN.replace("aws:username", "AWS:UserName"))),
    req(method_arn("users/alice/x"), principal=ALICE),
    "Allow",
    "id/Statement[0]",
)
TEAM = "arn:aws:execute-api:us-east-1:*:abc123/*/*/teams/${aws:PrincipalTag/team, 'shared'}/*"
case(
    "var/default",
    identity(stmt(resource=TEAM)),
    req(method_arn("teams/shared/x"), principal=ALICE),
    "Allow",
    "id/Statement[0]",
)
case(
    "var/default-not-used-when-present",
    identity(stmt(resource=TEAM)),
    req(method_arn("teams/shared/x"), principal=ALICE, keys={"aws:PrincipalTag/team": "red"}),
    "ImplicitDeny",
)
case(
    "var/escape-star-literal",
    identity(stmt(resource=method_arn("files/${*}"))),
    req(method_arn("files/*")),
    "Allow",
    "id/Statement[0]",
)
case(
    "var/escape-star-not-wildcard",
    identity(stmt(resource=method_arn("files/${*}"))),
    req(method_arn("files/x")),
    "ImplicitDeny",
)
case(
    "var/escape-dollar",
    identity(stmt(resource=method_arn("files/${$}{x}"))),
    req(method_arn("files/${x}")),
    "Allow",
    "id/Statement[0]",
)
case(
    "var/value-taken-literally",
    identity(stmt(resource=method_arn("q/${custom:name}"))),
    req(method_arn("q/abc"), keys={"custom:name": "a?c"}),
    "ImplicitDeny",
)
case(
    "var/multivalued-key-is-no-variable",
    identity(stmt(resource=method_arn("g/${custom:groups}"))),
    req(method_arn("g/a"), keys={"custom:groups": ["a"]}),
    "ImplicitDeny",
)
case(
    "var/2008-literal",
    identity(stmt(resource=OWN), version=V08),
    req(method_arn("users/alice/x"), principal=ALICE),
    "ImplicitDeny",
)
case(
    "var/2008-literal-text-matches",
    identity(stmt(resource=OWN), version=V08),
    req(method_arn("users/${aws:username}/x"), principal=ALICE),
    "Allow",
    "id/Statement[0]",
)
case(
    "var/no-version-is-2008",
    identity(stmt(resource=OWN), version=None),
    req(method_arn("users/${aws:username}/x"), principal=ALICE),
    "Allow",
    "id/Statement[0]",
)
allowed_if(
    "var/StringEquals",
    {"StringEquals": {"custom:owner": "${aws:username}"}},
    {"custom:owner": "alice", U: "alice"},
    True,
)
allowed_if(
    "var/StringEquals-differs",
    {"StringEquals": {"custom:owner": "${aws:username}"}},
    {"custom:owner": "bob", U: "alice"},
    False,
)
allowed_if(
    "var/StringEquals-unresolved",
    {"StringEquals": {"custom:owner": "${aws:username}"}},
    {"custom:owner": "alice"},
    False,
)
allowed_if(
    "var/StringNotEquals-unresolved",
    {"StringNotEquals": {"custom:owner": "${aws:username}"}},
    {"custom:owner": "alice"},
    True,
)
allowed_if(
    "var/StringLike-value-literal",
    {"StringLike": {"custom:path": "${custom:prefix}/*"}},
    {"custom:path": "xyz/1", "custom:prefix": "x*"},
    False,
)
allowed_if(
    "var/StringLike-prefix",
    {"StringLike": {"custom:path": "${custom:prefix}/*"}},
    {"custom:path": "x*/1", "custom:prefix": "x*"},
    True,
)
allowed_if(
    "var/ArnLike",
    {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:user/${aws:username}"}},
    {"aws:PrincipalArn": ALICE.arn, U: "alice"},
    True,
)
case(
    "var/principal-keys-derived",
    identity(
        stmt(
            condition={
                "StringEquals": {"aws:PrincipalAccount": ACCOUNT, "aws:PrincipalType": "User"}
            }
        )
    ),
    req(principal=ALICE),
    "Allow",
    "id/Statement[0]",
)
case(
    "var/no-principal-keys-for-anonymous",
    identity(stmt(condition={"Null": {"aws:PrincipalArn": "false"}})),
    req(),
    "ImplicitDeny",
)

# --- authorizer policies ---------------------------------------------------------------------

case(
    "authorizer/allow-stage",
    authorizer(stmt(resource=f"arn:aws:execute-api:us-east-1:{ACCOUNT}:abc123/prod/*")),
    req(),
    "Allow",
    "auth/Statement[0]",
)
case(
    "authorizer/first-arn-only",
    authorizer(stmt(resource=method_arn("pets/1"))),
    req(),
    "ImplicitDeny",
)
case("authorizer/lowercase-effect", authorizer(stmt("allow")), req(), "Allow", "auth/Statement[0]")
case(
    "authorizer/deny",
    authorizer(stmt("Deny", resource=method_arn("*"))),
    req(),
    "Deny",
    "auth/Statement[0]",
)
case(
    "authorizer/source-ip-condition",
    authorizer(stmt(condition={"IpAddress": {IP: "203.0.113.0/24"}})),
    req(keys={IP: "203.0.113.4"}),
    "Allow",
    "auth/Statement[0]",
)

# --- §7 combination by authorization type -----------------------------------------------------

ID_ALLOW = identity(stmt(sid="IA"))
ID_SILENT = identity(stmt(sid="IS", resource=method_arn("admin/*")))
ID_DENY = identity(deny(sid="ID"))
RP_ALLOW = resource(stmt(sid="RA", principal={"AWS": [ACCOUNT, OTHER]}))
RP_SILENT = resource(stmt(sid="RS", resource="execute-api:/dev/*"))
RP_DENY = resource(deny(sid="RD"))
SIDES = {
    "allow": (ID_ALLOW, RP_ALLOW),
    "silent": (ID_SILENT, RP_SILENT),
    "deny": (ID_DENY, RP_DENY),
}
IAM = AuthorizationType.AWS_IAM

# Table A (same account): identity side x resource side.
TABLE_A = {
    ("allow", "allow"): ("Allow", "id/IA"),
    ("allow", "silent"): ("Allow", "id/IA"),
    ("allow", "deny"): ("Deny", "rp/RD"),
    ("silent", "allow"): ("Allow", "rp/RA"),
    ("silent", "silent"): ("ImplicitDeny", None),
    ("silent", "deny"): ("Deny", "rp/RD"),
    ("deny", "allow"): ("Deny", "id/ID"),
    ("deny", "silent"): ("Deny", "id/ID"),
    ("deny", "deny"): ("Deny", "rp/RD"),
}
for (i, r), (effect, decider) in TABLE_A.items():
    missing = PolicyKind.IDENTITY if effect == "ImplicitDeny" else None
    setup = Method(IAM, (SIDES[i][0],), SIDES[r][1])
    case(f"tableA/iam-{i}-{r}", setup, req(principal=ALICE), effect, decider, missing)

# Table B (cross account): both must allow.
TABLE_B = {
    ("allow", "allow"): ("Allow", "id/IA", None),
    ("allow", "silent"): ("ImplicitDeny", None, PolicyKind.RESOURCE),
    ("allow", "deny"): ("Deny", "rp/RD", None),
    ("silent", "allow"): ("ImplicitDeny", None, PolicyKind.IDENTITY),
    ("silent", "silent"): ("ImplicitDeny", None, PolicyKind.IDENTITY),
    ("silent", "deny"): ("Deny", "rp/RD", None),
    ("deny", "allow"): ("Deny", "id/ID", None),
    ("deny", "silent"): ("Deny", "id/ID", None),
    ("deny", "deny"): ("Deny", "rp/RD", None),
}
for (i, r), (effect, decider, missing) in TABLE_B.items():
    setup = Method(IAM, (SIDES[i][0],), SIDES[r][1])
    case(f"tableB/iam-{i}-{r}", setup, req(principal=PARTNER), effect, decider, missing)

case(
    "iam/same-account-no-resource-policy",
    Method(IAM, (ID_ALLOW,)),
    req(principal=ALICE),
    "Allow",
    "id/IA",
)
case(
    "iam/same-account-no-policies",
    Method(IAM),
    req(principal=ALICE),
    "ImplicitDeny",
    None,
    PolicyKind.IDENTITY,
)
case(
    "iam/cross-account-needs-resource-policy",
    Method(IAM, (ID_ALLOW,)),
    req(principal=PARTNER),
    "ImplicitDeny",
    None,
    PolicyKind.RESOURCE,
)
case(
    "iam/explicit-resource-account",
    Method(IAM, (ID_ALLOW,), RP_SILENT, resource_account=OTHER),
    req(principal=ALICE),
    "ImplicitDeny",
    None,
    PolicyKind.RESOURCE,
)
case(
    "iam/session-same-account", Method(IAM, (), RP_ALLOW), req(principal=SESSION), "Allow", "rp/RA"
)

CUSTOM = AuthorizationType.CUSTOM
AUTH_ALLOW = authorizer(stmt(sid="AA"))
AUTH_SILENT = authorizer(stmt(sid="AS", resource=method_arn("admin/*")))
AUTH_DENY = authorizer(deny(sid="AD"))
RP_EVERYONE = resource(stmt(sid="RE"))
case("custom/allow-silent", Method(CUSTOM, (AUTH_ALLOW,), RP_SILENT), req(), "Allow", "auth/AA")
case("custom/silent-allow", Method(CUSTOM, (AUTH_SILENT,), RP_EVERYONE), req(), "Allow", "rp/RE")
case("custom/allow-deny", Method(CUSTOM, (AUTH_ALLOW,), RP_DENY), req(), "Deny", "rp/RD")
case("custom/deny-allow", Method(CUSTOM, (AUTH_DENY,), RP_EVERYONE), req(), "Deny", "auth/AD")
case(
    "custom/silent-silent",
    Method(CUSTOM, (AUTH_SILENT,), RP_SILENT),
    req(),
    "ImplicitDeny",
    None,
    PolicyKind.AUTHORIZER,
)
case(
    "custom/aws-principal-never-matches",
    Method(CUSTOM, (AUTH_SILENT,), RP_ALLOW),
    req(),
    "ImplicitDeny",
    None,
    PolicyKind.AUTHORIZER,
)
case("custom/no-resource-policy-allow", Method(CUSTOM, (AUTH_ALLOW,)), req(), "Allow", "auth/AA")
case("custom/no-resource-policy-deny", Method(CUSTOM, (AUTH_DENY,)), req(), "Deny", "auth/AD")
case("custom/no-policy-at-all", Method(CUSTOM), req(), "ImplicitDeny", None, PolicyKind.AUTHORIZER)

NONE = AuthorizationType.NONE
case("none/resource-allow", Method(NONE, (), RP_EVERYONE), req(), "Allow", "rp/RE")
case(
    "none/resource-silent",
    Method(NONE, (), RP_SILENT),
    req(),
    "ImplicitDeny",
    None,
    PolicyKind.RESOURCE,
)
case("none/resource-deny", Method(NONE, (), RP_DENY), req(), "Deny", "rp/RD")
case(
    "none/aws-principal-never-matches",
    Method(NONE, (), RP_ALLOW),
    req(),
    "ImplicitDeny",
    None,
    PolicyKind.RESOURCE,
)
case("none/no-resource-policy", Method(NONE), req(), "Allow")
case(
    "none/private-api-without-policy",
    Method(NONE, private_api=True),
    req(),
    "ImplicitDeny",
    None,
    PolicyKind.RESOURCE,
)
case(
    "none/private-api-with-policy",
    Method(NONE, (), RP_EVERYONE, private_api=True),
    req(),
    "Allow",
    "rp/RE",
)

COGNITO = AuthorizationType.COGNITO_USER_POOLS
case("cognito/resource-allow", Method(COGNITO, (), RP_EVERYONE), req(), "Allow", "rp/RE")
case(
    "cognito/resource-silent",
    Method(COGNITO, (), RP_SILENT),
    req(),
    "ImplicitDeny",
    None,
    PolicyKind.RESOURCE,
)
case("cognito/resource-deny", Method(COGNITO, (), RP_DENY), req(), "Deny", "rp/RD")
case("cognito/no-resource-policy", Method(COGNITO), req(), "Allow")
case(
    "cognito/table-a-silent",
    Method(COGNITO, (), RP_SILENT, cognito_requires_resource_allow=False),
    req(),
    "Allow",
)
case(
    "cognito/table-a-deny",
    Method(COGNITO, (), RP_DENY, cognito_requires_resource_allow=False),
    req(),
    "Deny",
    "rp/RD",
)


@pytest.mark.parametrize("c", CASES, ids=[c.id for c in CASES])
def test_evaluation(c: Case) -> None:
    if isinstance(c.policies, Method):
        decision = evaluate(c.request, c.policies.build())
    else:
        decision = evaluate(c.request, [spec.build() for spec in c.policies])
    assert decision.effect == c.effect, decision.explain()
    assert decision.allowed is (c.effect == "Allow")
    got = (
        None
        if decision.deciding is None
        else f"{decision.deciding.policy}/{decision.deciding.label}"
    )
    assert got == c.decider, decision.explain()
    if c.effect == "ImplicitDeny":
        assert decision.reason == NO_STATEMENT
    if isinstance(c.policies, Method) and c.effect == "ImplicitDeny":
        assert decision.missing_allow is c.missing


def test_case_table_is_large_and_unique() -> None:
    assert len(CASES) >= 150
    assert len({c.id for c in CASES}) == len(CASES)


def test_matched_lists_every_applicable_statement_in_order() -> None:
    policy = identity(stmt(sid="A1"), deny(sid="D1", resource=method_arn("x")), stmt(sid="A2"))
    decision = evaluate(req(), [policy.build()])
    assert [ref.label for ref in decision.matched] == ["A1", "A2"]
    assert "matched: Allow by id A2" in decision.explain()


def test_explicit_deny_reason_names_statement() -> None:
    decision = evaluate(req(), [identity(deny(sid="Nope")).build()])
    assert decision.reason == "Deny by id Nope"


def test_policy_is_reusable_across_requests() -> None:
    policy = identity(stmt(resource=OWN)).build()
    alice = req(method_arn("users/alice/1"), principal=ALICE)
    bob = req(method_arn("users/alice/1"), principal=BOB)
    assert [evaluate(r, [policy]).effect for r in (alice, bob, alice)] == [
        "Allow",
        "ImplicitDeny",
        "Allow",
    ]


def test_shorthand_is_expanded_in_the_stored_document() -> None:
    policy = resource(stmt(resource=["execute-api:/prod/*", "execute-api:/dev/GET/"])).build()
    stored = policy.document["Statement"]
    assert isinstance(stored, list)
    assert stored[0]["Resource"] == [
        f"arn:aws:execute-api:us-east-1:{ACCOUNT}:abc123/prod/*",
        f"arn:aws:execute-api:us-east-1:{ACCOUNT}:abc123/dev/GET/",
    ]
    assert parse_policy(policy.to_json(), kind=PolicyKind.RESOURCE).statements[0].resources == (
        f"arn:aws:execute-api:us-east-1:{ACCOUNT}:abc123/prod/*",
        f"arn:aws:execute-api:us-east-1:{ACCOUNT}:abc123/dev/GET/",
    )


# --- documents the parser rejects -------------------------------------------------------------


def _statement(**fields: object) -> dict[str, object]:
    base: dict[str, object] = {"Effect": "Allow", "Action": INVOKE, "Resource": "*"}
    base.update(fields)
    return {k: v for k, v in base.items() if v is not None}


def _doc(*statements: object, version: object = V12) -> dict[str, object]:
    return {"Version": version, "Statement": list(statements)}


ERRORS: list[tuple[str, object, PolicyKind, str, str]] = [
    ("not-json", '{"Statement": [', PolicyKind.IDENTITY, "$", "not valid JSON"),
    ("not-an-object", "[1, 2]", PolicyKind.IDENTITY, "$", "JSON object"),
    ("missing-statement", {"Version": V12}, PolicyKind.IDENTITY, "Statement", "required"),
    (
        "statement-wrong-type",
        {"Version": V12, "Statement": "x"},
        PolicyKind.IDENTITY,
        "Statement",
        "object or a list",
    ),
    (
        "statement-item-not-object",
        _doc(_statement(), 3),
        PolicyKind.IDENTITY,
        "Statement[1]",
        "must be an object",
    ),
    (
        "bad-version",
        _doc(_statement(), version="2020-01-01"),
        PolicyKind.IDENTITY,
        "Version",
        "2012-10-17",
    ),
    (
        "unknown-top-level",
        {**_doc(_statement()), "Foo": 1},
        PolicyKind.IDENTITY,
        "Foo",
        "unknown policy element",
    ),
    ("id-not-string", {**_doc(_statement()), "Id": 5}, PolicyKind.IDENTITY, "Id", "string"),
    (
        "unknown-statement-element",
        _doc(_statement(Extra=1)),
        PolicyKind.IDENTITY,
        "Statement[0].Extra",
        "unknown",
    ),
    (
        "effect-missing",
        _doc(_statement(Effect=None)),
        PolicyKind.IDENTITY,
        "Statement[0].Effect",
        "required",
    ),
    (
        "effect-lowercase-in-identity",
        _doc(_statement(Effect="allow")),
        PolicyKind.IDENTITY,
        "Statement[0].Effect",
        "Allow",
    ),
    (
        "effect-other",
        _doc(_statement(Effect="Maybe")),
        PolicyKind.AUTHORIZER,
        "Statement[0].Effect",
        "Allow",
    ),
    ("sid-not-string", _doc(_statement(Sid=7)), PolicyKind.IDENTITY, "Statement[0].Sid", "string"),
    (
        "duplicate-sid",
        _doc(_statement(Sid="S"), _statement(Sid="S")),
        PolicyKind.IDENTITY,
        "Statement[1].Sid",
        "duplicate Sid",
    ),
    (
        "no-action",
        _doc(_statement(Action=None)),
        PolicyKind.IDENTITY,
        "Statement[0].Action",
        "Action or NotAction",
    ),
    (
        "action-and-not-action",
        _doc(_statement(NotAction="iam:*")),
        PolicyKind.IDENTITY,
        "Statement[0].NotAction",
        "cannot be combined",
    ),
    (
        "action-without-service",
        _doc(_statement(Action="Invoke")),
        PolicyKind.IDENTITY,
        "Statement[0].Action",
        "service:action",
    ),
    (
        "action-wildcard-service",
        _doc(_statement(Action="*:Invoke")),
        PolicyKind.IDENTITY,
        "Statement[0].Action",
        "service:action",
    ),
    (
        "action-empty-list",
        _doc(_statement(Action=[])),
        PolicyKind.IDENTITY,
        "Statement[0].Action",
        "non-empty list",
    ),
    (
        "action-item-not-string",
        _doc(_statement(Action=[INVOKE, 3])),
        PolicyKind.IDENTITY,
        "Statement[0].Action[1]",
        "string",
    ),
    (
        "no-resource",
        _doc(_statement(Resource=None)),
        PolicyKind.IDENTITY,
        "Statement[0].Resource",
        "Resource or NotResource",
    ),
    (
        "resource-not-arn",
        _doc(_statement(Resource="pets/*")),
        PolicyKind.IDENTITY,
        "Statement[0].Resource",
        "ARN",
    ),
    (
        "shorthand-outside-resource-policy",
        _doc(_statement(Resource="execute-api:/*")),
        PolicyKind.IDENTITY,
        "Statement[0].Resource",
        "shorthand",
    ),
    (
        "variable-before-fifth-colon",
        _doc(_statement(Resource="arn:aws:execute-api:${aws:username}:*:*")),
        PolicyKind.IDENTITY,
        "Statement[0].Resource",
        "fifth",
    ),
    (
        "malformed-variable",
        _doc(_statement(Resource="arn:aws:execute-api:*:*:a/${aws:username")),
        PolicyKind.IDENTITY,
        "Statement[0].Resource",
        "malformed policy variable",
    ),
    (
        "authorizer-resource-too-long",
        _doc(_statement(Resource="arn:aws:execute-api:*:*:" + "a" * 500)),
        PolicyKind.AUTHORIZER,
        "Statement[0].Resource",
        "512",
    ),
    (
        "principal-in-identity-policy",
        _doc(_statement(Principal="*")),
        PolicyKind.IDENTITY,
        "Statement[0].Principal",
        "not allowed",
    ),
    (
        "principal-in-authorizer-policy",
        _doc(_statement(Principal="*")),
        PolicyKind.AUTHORIZER,
        "Statement[0].Principal",
        "not allowed",
    ),
    (
        "resource-policy-needs-principal",
        _doc(_statement()),
        PolicyKind.RESOURCE,
        "Statement[0].Principal",
        "needs Principal",
    ),
    (
        "principal-partial-wildcard",
        _doc(_statement(Principal={"AWS": "arn:aws:iam::123456789012:user/*"})),
        PolicyKind.RESOURCE,
        "Statement[0].Principal.AWS",
        "wildcards",
    ),
    (
        "principal-unknown-type",
        _doc(_statement(Principal={"CanonicalUser": "abc"})),
        PolicyKind.RESOURCE,
        "Statement[0].Principal.CanonicalUser",
        "unsupported",
    ),
    (
        "principal-bad-account",
        _doc(_statement(Principal={"AWS": ["123"]})),
        PolicyKind.RESOURCE,
        "Statement[0].Principal.AWS[0]",
        "account id",
    ),
    (
        "principal-string-not-star",
        _doc(_statement(Principal="everyone")),
        PolicyKind.RESOURCE,
        "Statement[0].Principal",
        '"*"',
    ),
    (
        "condition-not-object",
        _doc(_statement(Condition=["x"])),
        PolicyKind.IDENTITY,
        "Statement[0].Condition",
        "object",
    ),
    (
        "unknown-operator",
        _doc(_statement(Condition={"StringSorta": {"k": "v"}})),
        PolicyKind.IDENTITY,
        "Statement[0].Condition.StringSorta",
        "unknown condition operator",
    ),
    (
        "operator-body-empty",
        _doc(_statement(Condition={"StringEquals": {}})),
        PolicyKind.IDENTITY,
        "Statement[0].Condition.StringEquals",
        "non-empty",
    ),
    (
        "null-if-exists",
        _doc(_statement(Condition={"NullIfExists": {"k": "true"}})),
        PolicyKind.IDENTITY,
        "Statement[0].Condition.NullIfExists",
        "Null",
    ),
    (
        "null-bad-value",
        _doc(_statement(Condition={"Null": {"k": "maybe"}})),
        PolicyKind.IDENTITY,
        "Statement[0].Condition.Null.k",
        "true or false",
    ),
    (
        "numeric-bad-value",
        _doc(_statement(Condition={"NumericLessThan": {"k": "ten"}})),
        PolicyKind.IDENTITY,
        "Statement[0].Condition.NumericLessThan.k",
        "not a number",
    ),
    (
        "numeric-variable",
        _doc(_statement(Condition={"NumericEquals": {"k": "${aws:username}"}})),
        PolicyKind.IDENTITY,
        "Statement[0].Condition.NumericEquals.k",
        "not allowed with Numeric",
    ),
    (
        "date-bad-value",
        _doc(_statement(Condition={"DateLessThan": {"k": "tomorrow"}})),
        PolicyKind.IDENTITY,
        "Statement[0].Condition.DateLessThan.k",
        "ISO 8601",
    ),
    (
        "ip-bad-value",
        _doc(_statement(Condition={"IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "10.0.0/33"]}})),
        PolicyKind.IDENTITY,
        "Statement[0].Condition.IpAddress.aws:SourceIp",
        "CIDR",
    ),
    (
        "ip-variable",
        _doc(_statement(Condition={"IpAddress": {"aws:SourceIp": "${aws:SourceIp}"}})),
        PolicyKind.IDENTITY,
        "Statement[0].Condition.IpAddress.aws:SourceIp",
        "not allowed with IP",
    ),
    (
        "binary-bad-value",
        _doc(_statement(Condition={"BinaryEquals": {"k": "%%%"}})),
        PolicyKind.IDENTITY,
        "Statement[0].Condition.BinaryEquals.k",
        "base64",
    ),
    (
        "bool-bad-value",
        _doc(_statement(Condition={"Bool": {"k": "yes"}})),
        PolicyKind.IDENTITY,
        "Statement[0].Condition.Bool.k",
        "true or false",
    ),
    (
        "condition-value-object",
        _doc(_statement(Condition={"StringEquals": {"k": [{"a": 1}]}})),
        PolicyKind.IDENTITY,
        "Statement[0].Condition.StringEquals.k[0]",
        "string, number or boolean",
    ),
    (
        "condition-value-empty-list",
        _doc(_statement(Condition={"StringEquals": {"k": []}})),
        PolicyKind.IDENTITY,
        "Statement[0].Condition.StringEquals.k",
        "at least one",
    ),
    (
        "duplicate-json-key",
        '{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Effect": "Deny", '
        '"Action": "*", "Resource": "*"}}',
        PolicyKind.IDENTITY,
        "Statement.Effect",
        "more than once",
    ),
    (
        "resource-policy-too-large",
        _doc(
            *[
                _statement(
                    Sid=f"S{i}", Principal="*", Resource="execute-api:/prod/GET/" + "x" * 100
                )
                for i in range(60)
            ]
        ),
        PolicyKind.RESOURCE,
        "$",
        "8192",
    ),
]


@pytest.mark.parametrize(
    ("document", "kind", "location", "message"),
    [pytest.param(d, k, loc, m, id=name) for name, d, k, loc, m in ERRORS],
)
def test_rejected(document: object, kind: PolicyKind, location: str, message: str) -> None:
    scope = ApiScope("us-east-1", ACCOUNT, "abc123")
    with pytest.raises(PolicyError) as raised:
        parse_policy(document, kind=kind, scope=scope)  # type: ignore[arg-type]
    found = [(p.location, p.message) for p in raised.value.problems]
    assert any(loc == location and message in msg for loc, msg in found), found


def test_every_problem_is_reported_at_once() -> None:
    document = _doc(
        _statement(Effect="Perhaps"),
        _statement(Action="nope", Resource="nope"),
        _statement(Condition={"NumericEquals": {"k": "x"}}),
    )
    with pytest.raises(PolicyError) as raised:
        parse_policy(document)
    locations = {p.location for p in raised.value.problems}
    assert locations == {
        "Statement[0].Effect",
        "Statement[1].Action",
        "Statement[1].Resource",
        "Statement[2].Condition.NumericEquals.k",
    }
    assert "Statement[0].Effect" in str(raised.value)


def test_resource_policy_limit_can_be_raised_and_identity_limit_set() -> None:
    big = ERRORS[-1][1]
    assert isinstance(big, dict)
    scope = ApiScope("us-east-1", ACCOUNT, "abc123")
    parse_policy(big, kind=PolicyKind.RESOURCE, scope=scope, max_chars=100_000)
    with pytest.raises(PolicyError):
        parse_policy(_doc(_statement()), max_chars=10)


def test_string_documents_are_measured_as_given() -> None:
    text = '{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}'
    parse_policy(text, max_chars=len(text))
    with pytest.raises(PolicyError):
        parse_policy(text, max_chars=len(text) - 1)
