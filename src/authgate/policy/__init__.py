"""The IAM policy engine: pure functions and frozen objects, no I/O.

Parse a document once with `parse_policy`, then `evaluate` it against as many
`RequestContext`s as needed.
"""

from __future__ import annotations

from authgate.policy.arn import (
    MAX_METHOD_ARN_BYTES,
    Arn,
    MethodArn,
    build_method_arn,
    build_route_arn,
    expand_shorthand,
    mask_account,
    method_arn_too_long,
)
from authgate.policy.context import (
    ANONYMOUS,
    ContextKeys,
    ContextValue,
    Principal,
    PrincipalType,
    RequestContext,
)
from authgate.policy.document import (
    ApiScope,
    Policy,
    PolicyError,
    PolicyKind,
    Statement,
    StatementRef,
    parse_policy,
)
from authgate.policy.evaluate import (
    NO_STATEMENT,
    AuthorizationType,
    Decision,
    MethodPolicies,
    evaluate,
    evaluate_policies,
)

__all__ = [
    "ANONYMOUS",
    "MAX_METHOD_ARN_BYTES",
    "NO_STATEMENT",
    "ApiScope",
    "Arn",
    "AuthorizationType",
    "ContextKeys",
    "ContextValue",
    "Decision",
    "MethodArn",
    "MethodPolicies",
    "Policy",
    "PolicyError",
    "PolicyKind",
    "Principal",
    "PrincipalType",
    "RequestContext",
    "Statement",
    "StatementRef",
    "build_method_arn",
    "build_route_arn",
    "evaluate",
    "evaluate_policies",
    "expand_shorthand",
    "mask_account",
    "method_arn_too_long",
    "parse_policy",
]
