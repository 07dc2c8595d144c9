"""The events API Gateway sends to Lambda authorizers, and how it reads their answers.

Pure: no I/O. Shapes follow the Developer Guide pages `api-gateway-lambda-authorizer-input`,
`api-gateway-lambda-authorizer-output` and `http-api-lambda-authorizer`, as summarised in the
project's `authorizers.md` fact sheet (§2, §3). REQUEST events reuse the proxy events of
`integrations.lambda_events`, without the body, so both stay the same shape.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal, cast

from authgate.definition.model import PayloadVersion, Protocol
from authgate.integrations.lambda_events import (
    EventSource,
    http_v1_event,
    http_v2_event,
    rest_event,
)
from authgate.policy import Policy, PolicyError, PolicyKind, parse_policy

__all__ = [
    "MalformedAnswer",
    "PolicyAnswer",
    "SimpleAnswer",
    "parse_policy_answer",
    "parse_simple_answer",
    "request_event",
    "stringify",
    "token_event",
]

Event = dict[str, object]
Scalar = str | int | float | bool | None

_NO_BODY = ("body", "isBase64Encoded")


class MalformedAnswer(Exception):
    """The function answered, but not in a shape API Gateway accepts (→ 500)."""


@dataclass(frozen=True, slots=True)
class PolicyAnswer:
    """`{principalId, policyDocument, context?, usageIdentifierKey?}`."""

    principal_id: str
    policy: Policy
    context: Mapping[str, Scalar]
    usage_identifier_key: str | None = None


@dataclass(frozen=True, slots=True)
class SimpleAnswer:
    """HTTP APIs' simple response: `{isAuthorized, context?}`."""

    authorized: bool
    context: Mapping[str, object]


def token_event(token: str, method_arn: str) -> Event:
    """TOKEN: the identity-source header's whole value, and nothing else of the request."""
    return {"type": "TOKEN", "authorizationToken": token, "methodArn": method_arn}


def request_event(
    src: EventSource,
    protocol: Protocol,
    payload_version: PayloadVersion,
    method_arn: str,
    identity: Sequence[str],
) -> Event:
    """REQUEST: the request as the proxy event shows it, without its body.

    REST events carry `methodArn`; HTTP API format 1.0 adds `version`, `identitySource` and
    `authorizationToken` (both the values comma-joined); format 2.0 has `routeArn` and the
    values as a list.
    """
    if protocol is Protocol.REST:
        event = _without_body(rest_event(src))
        return {"type": "REQUEST", "methodArn": method_arn, **event}
    if payload_version == "1.0":
        event = _without_body(http_v1_event(src))
        context = event.get("requestContext")
        if isinstance(context, dict):
            context.pop("authorizer", None)
        joined = ",".join(identity)
        head: Event = {"version": "1.0", "type": "REQUEST", "methodArn": method_arn}
        return {**head, "identitySource": joined, "authorizationToken": joined, **event}
    event = _without_body(http_v2_event(src))
    head = {"version": "2.0", "type": "REQUEST", "routeArn": method_arn}
    return {**head, "identitySource": list(identity), **event}


def _without_body(event: Event) -> Event:
    for key in _NO_BODY:
        event.pop(key, None)
    return event


def parse_policy_answer(answer: object, *, name: str) -> PolicyAnswer:
    """Read a policy response strictly; MalformedAnswer names what is wrong (for logs only).

    `context` values must be strings, numbers or booleans (AWS refuses objects and arrays);
    the policy is an IAM policy document, compiled once here.
    """
    if not isinstance(answer, dict):
        raise MalformedAnswer(f"expected an object, got {_kind(answer)}")
    principal_id = answer.get("principalId")
    if not isinstance(principal_id, str):
        raise MalformedAnswer("principalId is missing or not a string")
    document = answer.get("policyDocument")
    if not isinstance(document, Mapping):
        raise MalformedAnswer("policyDocument is missing or not an object")
    try:
        policy = parse_policy(document, kind=PolicyKind.AUTHORIZER, name=name)
    except PolicyError as exc:
        raise MalformedAnswer(f"policyDocument: {exc}") from None
    context = cast("Mapping[str, Scalar]", _context(answer.get("context"), scalars_only=True))
    key = answer.get("usageIdentifierKey")
    if key is not None and not isinstance(key, str):
        raise MalformedAnswer("usageIdentifierKey is not a string")
    return PolicyAnswer(principal_id, policy, context, key)


def parse_simple_answer(answer: object) -> SimpleAnswer:
    """Read an HTTP API simple response; its context may hold any JSON value."""
    if not isinstance(answer, dict):
        raise MalformedAnswer(f"expected an object, got {_kind(answer)}")
    authorized = answer.get("isAuthorized")
    if not isinstance(authorized, bool):
        raise MalformedAnswer("isAuthorized is missing or not a boolean")
    return SimpleAnswer(authorized, _context(answer.get("context"), scalars_only=False))


def _context(raw: object, *, scalars_only: bool) -> Mapping[str, object]:
    if raw is None:
        return MappingProxyType({})
    if not isinstance(raw, dict):
        raise MalformedAnswer("context is not an object")
    for key, value in raw.items():
        if not isinstance(key, str):
            raise MalformedAnswer("context keys must be strings")
        if scalars_only and not isinstance(value, str | int | float | bool | None):
            raise MalformedAnswer(f"context value {key!r} is {_kind(value)}, not a scalar")
    return MappingProxyType(dict(raw))


def _kind(value: object) -> Literal["null", "an object", "an array", "a string", "a value"]:
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list | tuple):
        return "an array"
    if isinstance(value, str):
        return "a string"
    return "a value"


def stringify(value: Scalar) -> str | None:
    """A context value as REST proxy events and mapping expressions show it: `"3"`, `"true"`;
    null stays null."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
