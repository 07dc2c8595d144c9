"""Lambda authorizer answers read strictly, and the events sent to the function."""

from __future__ import annotations

from typing import Any

import pytest

from authgate.authorizers.function_events import (
    MalformedAnswer,
    parse_policy_answer,
    parse_simple_answer,
    request_event,
    stringify,
    token_event,
)
from authgate.definition.model import Protocol
from authgate.integrations.lambda_events import EventSource
from authgate.policy import PolicyKind

ARN = "arn:aws:execute-api:us-east-1:123456789012:abc123/prod/GET/pets/7"
POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": ARN}],
}


def answer(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"principalId": "user-1", "policyDocument": POLICY}
    base.update(changes)
    return {key: value for key, value in base.items() if value is not ...}


def test_a_policy_answer_is_read_with_its_context_and_usage_key() -> None:
    read = parse_policy_answer(
        answer(context={"a": "x", "n": 3, "f": 1.5, "b": False, "z": None}, usageIdentifierKey="k"),
        name="policy returned by Auth",
    )
    assert read.principal_id == "user-1"
    assert read.policy.kind is PolicyKind.AUTHORIZER
    assert read.policy.name == "policy returned by Auth"
    assert dict(read.context) == {"a": "x", "n": 3, "f": 1.5, "b": False, "z": None}
    assert read.usage_identifier_key == "k"


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        ("Allow", "expected an object, got a string"),
        (None, "expected an object, got null"),
        ({"statusCode": 200, "body": "ok"}, "principalId is missing"),
        (answer(principalId=7), "principalId is missing or not a string"),
        (answer(policyDocument=...), "policyDocument is missing"),
        (answer(policyDocument="{}"), "policyDocument is missing or not an object"),
        (answer(policyDocument={"Statement": [{"Effect": "Maybe"}]}), "policyDocument:"),
        (answer(context=["a"]), "context is not an object"),
        (answer(context={"user": {"id": 7}}), "context value 'user' is an object"),
        (answer(context={"groups": ["a", "b"]}), "context value 'groups' is an array"),
        (answer(usageIdentifierKey=12), "usageIdentifierKey is not a string"),
    ],
)
def test_answers_api_gateway_refuses_are_malformed(raw: object, why: str) -> None:
    with pytest.raises(MalformedAnswer) as caught:
        parse_policy_answer(raw, name="p")
    assert why in str(caught.value)


def test_resource_strings_over_512_characters_are_refused() -> None:
    long = {**POLICY, "Statement": [{**POLICY["Statement"][0], "Resource": ARN + "x" * 512}]}  # type: ignore[dict-item]
    with pytest.raises(MalformedAnswer):
        parse_policy_answer(answer(policyDocument=long), name="p")


def test_simple_answers() -> None:
    read = parse_simple_answer({"isAuthorized": True, "context": {"groups": ["a"], "o": {"k": 1}}})
    assert read.authorized
    assert dict(read.context) == {"groups": ["a"], "o": {"k": 1}}
    assert not parse_simple_answer({"isAuthorized": False}).authorized
    for bad in ({"isAuthorized": "true"}, {}, [True], {"isAuthorized": True, "context": 1}):
        with pytest.raises(MalformedAnswer):
            parse_simple_answer(bad)


def test_context_values_reach_rest_backends_as_strings() -> None:
    assert [stringify(v) for v in ("x", 3, 1.5, True, False, None)] == [
        "x",
        "3",
        "1.5",
        "true",
        "false",
        None,
    ]


def test_token_event_carries_the_whole_header_value_and_nothing_else() -> None:
    assert token_event("Bearer abc.def", ARN) == {
        "type": "TOKEN",
        "authorizationToken": "Bearer abc.def",
        "methodArn": ARN,
    }


SOURCE = EventSource(
    method="GET",
    path="/pets/7",
    resource_path="/pets/{id}",
    route_key="GET /pets/{id}",
    headers=[("X-Token", "t"), ("Cookie", "a=1")],
    query="q=1&q=2",
    path_parameters={"id": "7"},
    stage_variables={"tier": "gold"},
    body=b"never sent",
    request_id="req-1",
    request_time_ms=1_700_000_000_000,
    source_ip="203.0.113.9",
    stage="prod",
    api_id="abc123",
    account_id="123456789012",
    domain_name="abc123.execute-api.us-east-1.amazonaws.com",
)


def test_rest_request_event_has_no_body_nor_http_api_members() -> None:
    event = request_event(SOURCE, Protocol.REST, "1.0", ARN, ("t", "2"))
    assert (event["type"], event["methodArn"]) == ("REQUEST", ARN)
    assert event["queryStringParameters"] == {"q": "2"}
    assert event["multiValueQueryStringParameters"] == {"q": ["1", "2"]}
    for absent in ("body", "isBase64Encoded", "version", "identitySource", "authorizationToken"):
        assert absent not in event


def test_http_api_request_events_in_both_formats() -> None:
    v1 = request_event(SOURCE, Protocol.HTTP, "1.0", ARN, ("t", "2"))
    assert (v1["version"], v1["methodArn"], v1["identitySource"]) == ("1.0", ARN, "t,2")
    assert v1["authorizationToken"] == "t,2"
    assert "authorizer" not in v1["requestContext"]  # type: ignore[operator]
    v2 = request_event(SOURCE, Protocol.HTTP, "2.0", ARN, ("t", "2"))
    assert (v2["version"], v2["routeArn"], v2["identitySource"]) == ("2.0", ARN, ["t", "2"])
    assert v2["cookies"] == ["a=1"]
    assert v2["queryStringParameters"] == {"q": "1,2"}
    assert "body" not in v2
    assert "methodArn" not in v2
