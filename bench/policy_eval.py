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


def main(count: int) -> None:
    scope = ApiScope("us-east-1", ACCOUNT, "abc123")
    resource = parse_policy(RESOURCE_POLICY, kind=PolicyKind.RESOURCE, scope=scope, name="api")
    identity = parse_policy(IDENTITY_POLICY, name="alice-policy")
    setup = MethodPolicies(AuthorizationType.AWS_IAM, identity=(identity,), resource=resource)
    request = RequestContext(
        "execute-api:Invoke",
        build_method_arn(
            region="us-east-1",
            account=ACCOUNT,
            api_id="abc123",
            stage="prod",
            verb="GET",
            path="/pets/7",
        ),
        Principal.from_arn(f"arn:aws:iam::{ACCOUNT}:user/alice"),
        ContextKeys(
            {
                "aws:SourceIp": "203.0.113.9",
                "aws:SecureTransport": True,
                "aws:CurrentTime": "2026-11-22T10:00:00Z",
                "aws:EpochTime": 1795341600,
            }
        ),
    )
    decision = evaluate(request, setup)
    assert decision.allowed, decision.explain()
    for _ in range(min(count, 1000)):  # warm caches
        evaluate(request, setup)
    start = time.perf_counter_ns()
    for _ in range(count):
        evaluate(request, setup)
    elapsed = time.perf_counter_ns() - start
    print(f"policy evaluation: {elapsed / count / 1000:.2f} µs per decision ({count} decisions)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
