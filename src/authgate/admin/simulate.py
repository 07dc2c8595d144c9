"""SimulatePrincipalPolicy: what a user's or role's identity policies decide, without a call.

Evaluated by the same policy engine as every request, so a simulation cannot disagree with
what the gateway would do with that principal's identity policies.
"""

from __future__ import annotations

from authgate.admin.context import AdminContext, Operation, Params
from authgate.iam.errors import InvalidInput
from authgate.iam.model import Caller
from authgate.iam.service import IamService, assumed_role_caller
from authgate.policy import (
    ContextKeys,
    ContextValue,
    Policy,
    PolicyError,
    PolicyKind,
    Principal,
    RequestContext,
    evaluate_policies,
    parse_policy,
)
from authgate.wire.query import member_list, member_structs
from authgate.wire.xml import Result, XmlValue

_DECISION = {"Allow": "allowed", "Deny": "explicitDeny", "ImplicitDeny": "implicitDeny"}


async def caller_for_arn(iam: IamService, arn: str) -> Caller:
    """The caller a user, role or role-session ARN names, as a simulation runs it: a role is
    simulated as a session of it. Shared with `POST /_authgate/simulate`."""
    kind, _, name = arn.split(":", 5)[-1].partition("/")
    if kind == "assumed-role":
        role_name, _, session = name.partition("/")
        role = await iam.get_role(role_name)
        return assumed_role_caller(role, session or "simulation", iam.account_id)
    name = name.rsplit("/", 1)[-1]
    if kind == "user":
        return await iam.caller_for_user(name)
    if kind == "role":
        role = await iam.get_role(name)
        return assumed_role_caller(role, "simulation", iam.account_id)
    raise InvalidInput(f"PolicySourceArn must name a user or a role: {arn}")


def _context(params: Params) -> dict[str, ContextValue]:
    keys: dict[str, ContextValue] = {}
    for entry in member_structs(params, "ContextEntries"):
        name = entry.get("ContextKeyName")
        if not name:
            raise InvalidInput("ContextEntries need a ContextKeyName")
        values = [v for k, v in sorted(entry.items()) if k.startswith("ContextKeyValues.member.")]
        keys[name] = values[0] if len(values) == 1 else values
    return keys


async def simulate(ctx: AdminContext, params: Params) -> Result:
    source = params.get("PolicySourceArn")
    actions = member_list(params, "ActionNames")
    if not source or not actions:
        raise InvalidInput("PolicySourceArn and ActionNames are required")
    caller = await caller_for_arn(ctx.iam, source)
    policies: list[Policy] = []
    for name, document in await ctx.iam.identity_policies(caller):
        try:
            policies.append(parse_policy(document, kind=PolicyKind.IDENTITY, name=name))
        except PolicyError:
            continue
    principal = Principal.from_arn(caller.arn)
    keys = ContextKeys(_context(params))
    results: list[XmlValue] = []
    for action in actions:
        for resource in member_list(params, "ResourceArns") or ["*"]:
            decision = evaluate_policies(
                RequestContext(action, resource, principal, keys), policies
            )
            results.append(
                {
                    "EvalActionName": action,
                    "EvalResourceName": resource,
                    "EvalDecision": _DECISION[decision.effect],
                    "MatchedStatements": [
                        {"SourcePolicyId": ref.policy, "SourcePolicyType": "IAM Policy"}
                        for ref in decision.matched
                    ],
                    "MissingContextValues": [],
                }
            )
    return {"EvaluationResults": results, "IsTruncated": False}


async def _resource(ctx: AdminContext, params: Params) -> str | None:
    return params.get("PolicySourceArn") or "*"


simulate_operation = Operation(simulate, "iam:SimulatePrincipalPolicy", _resource)
