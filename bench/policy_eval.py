"""Microseconds per policy decision: a typical resource policy plus an identity policy.

Run: `.venv/bin/python bench/policy_eval.py [count]`.
"""

from __future__ import annotations

import sys
import time

from authgate.policy import (
    ApiScope,
    AuthorizationType,
    ContextKeys,
    MethodPolicies,
    PolicyKind,
    Principal,
    RequestContext,
    build_method_arn,
    evaluate,
    parse_policy,
)

ACCOUNT = "123456789012"

RESOURCE_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "AllowAccount",
            "Effect": "Allow",
            "Principal": {"AWS": [ACCOUNT, "arn:aws:iam::210987654321:role/partner"]},
            "Action": "execute-api:Invoke",
            "Resource": "execute-api:/*",
        },
        {
            "Sid": "DenyOutsideOffice",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "execute-api:Invoke",
            "Resource": "execute-api:/*",
            "Condition": {"NotIpAddress": {"aws:SourceIp": ["203.0.113.0/24", "2001:db8::/32"]}},
        },
        {
            "Sid": "DenyAdminAfterHours",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "execute-api:Invoke",
            "Resource": "execute-api:/*/*/admin/*",
            "Condition": {"DateGreaterThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}},
        },
    ],
}

IDENTITY_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "InvokeOwnPrefix",
            "Effect": "Allow",
            "Action": ["execute-api:Invoke", "execute-api:InvalidateCache"],
            "Resource": "arn:aws:execute-api:us-east-1:*:abc123/*/*/users/${aws:username}/*",
        },
        {
            "Sid": "ReadPets",
            "Effect": "Allow",
            "Action": "execute-api:Invoke",
            "Resource": "arn:aws:execute-api:us-east-1:*:abc123/prod/GET/pets/*",
            "Condition": {"Bool": {"aws:SecureTransport": "true"}},
        },
    ],
}


SMALL_POLICY = {
    "Version": "2012-10-17",
    "Statement": {
        "Effect": "Allow",
        "Principal": "*",
        "Action": "execute-api:Invoke",
        "Resource": "execute-api:/prod/*",
    },
}


def per_decision_us(request: RequestContext, setup: MethodPolicies, count: int) -> float:
    """Mean wall time of one `evaluate` call, after warming the parse caches."""
    for _ in range(min(count, 1000)):
        evaluate(request, setup)
    start = time.perf_counter_ns()
    for _ in range(count):
        evaluate(request, setup)
    return (time.perf_counter_ns() - start) / count / 1000


def main(count: int) -> None:
    scope = ApiScope("us-east-1", ACCOUNT, "abc123")
    resource = parse_policy(RESOURCE_POLICY, kind=PolicyKind.RESOURCE, scope=scope, name="api")
    identity = parse_policy(IDENTITY_POLICY, name="alice-policy")
    small = parse_policy(SMALL_POLICY, kind=PolicyKind.RESOURCE, scope=scope, name="small")
    arn = build_method_arn(
        region="us-east-1", account=ACCOUNT, api_id="abc123", stage="prod", verb="GET",
        path="/pets/7",
    )  # fmt: skip
    keys = ContextKeys(
        {
            "aws:SourceIp": "203.0.113.9",
            "aws:SecureTransport": True,
            "aws:CurrentTime": "2026-11-22T10:00:00Z",
            "aws:EpochTime": 1795341600,
        }
    )
    alice = RequestContext(
        "execute-api:Invoke", arn, Principal.from_arn(f"arn:aws:iam::{ACCOUNT}:user/alice"), keys
    )
    anonymous = RequestContext("execute-api:Invoke", arn, keys=keys)
    scenarios = [
        (
            "AWS_IAM: 3-statement resource policy + 2-statement identity policy",
            alice,
            MethodPolicies(AuthorizationType.AWS_IAM, identity=(identity,), resource=resource),
        ),
        (
            "NONE: 1-statement resource policy",
            anonymous,
            MethodPolicies(AuthorizationType.NONE, resource=small),
        ),
    ]
    for label, request, setup in scenarios:
        decision = evaluate(request, setup)
        assert decision.allowed, decision.explain()
        micros = per_decision_us(request, setup, count)
        print(f"{label}: {micros:.2f} µs per decision ({count} decisions)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
