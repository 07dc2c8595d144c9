"""Role trust policies: how they parse, and whether a caller may assume the role.

Pure. A trust policy is a resource policy without a Resource element (AWS refuses one), so it
is parsed as a resource policy whose statements all apply to the role's own ARN.

Who may assume a role, within one account (the only kind authgate has):

* any explicit Deny — in the trust policy, the caller's identity policies or its session
  policy — refuses;
* a trust statement that names the caller itself (its user ARN, its session ARN, its role
  ARN, or `*`) grants on its own, as a resource policy does in the same account;
* a trust statement that names only the account delegates to IAM: the caller's identity
  policies must then allow `sts:AssumeRole` on the role too;
* a session policy limits every grant except one naming the session's own ARN.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from authgate.errors import Problem
from authgate.policy import (
    Policy,
    PolicyError,
    PolicyKind,
    Principal,
    RequestContext,
    evaluate_policies,
    parse_policy,
)
from authgate.strict_json import no_duplicate_members

ASSUME_ROLE = "sts:AssumeRole"


def parse_trust_policy(document: str, role_arn: str) -> Policy:
    """The trust policy of `role_arn`, compiled; PolicyError lists what is wrong."""
    try:
        raw = json.loads(document, object_pairs_hook=no_duplicate_members)
    except ValueError as exc:
        raise PolicyError([Problem("$", f"not valid JSON: {exc}")]) from None
    if not isinstance(raw, dict):
        raise PolicyError([Problem("$", "a policy must be a JSON object")])
    body = raw.get("Statement")
    statements = body if isinstance(body, list) else [body]
    problems: list[Problem] = []
    for i, statement in enumerate(statements):
        if not isinstance(statement, dict):
            continue
        where = f"Statement[{i}]" if isinstance(body, list) else "Statement"
        for key in ("Resource", "NotResource"):
            if key in statement:
                problems.append(Problem(f"{where}.{key}", "not allowed in a trust policy"))
        statement["Resource"] = role_arn
    if problems:
        raise PolicyError(problems)
    return parse_policy(raw, kind=PolicyKind.RESOURCE, name=f"trust policy of {role_arn}")


def may_assume(
    trust: Policy,
    identity: Sequence[Policy],
    session: Policy | None,
    request: RequestContext,
) -> bool:
    """May `request.principal` perform `request.action` on the role (see the module doc)?"""
    decisions = [evaluate_policies(request, [trust]), evaluate_policies(request, identity)]
    session_decision = None if session is None else evaluate_policies(request, [session])
    if session_decision is not None:
        decisions.append(session_decision)
    if any(d.effect == "Deny" for d in decisions) or not decisions[0].allowed:
        return False
    session_allows = session_decision is None or session_decision.allowed
    grant = _direct_grant(trust, request)
    if grant == "session":
        return True
    if grant == "principal":
        return session_allows
    return decisions[1].allowed and session_allows


def _direct_grant(trust: Policy, request: RequestContext) -> str | None:
    """ "session" if an Allow names the session's ARN, "principal" if it names the caller
    otherwise (user, role or everyone), None if allows come only through the account."""
    principal: Principal = request.principal
    found: str | None = None
    for statement in trust.statements:
        spec = statement.principal
        if statement.effect != "Allow" or statement.not_principal or spec is None:
            continue
        if not statement.matches(request):
            continue
        if principal.arn in spec.arns:
            return "session" if principal.role_name is not None else "principal"
        role = principal.role_name
        if spec.everyone or (role is not None and (principal.account, role) in spec.roles):
            found = "principal"
    return found
