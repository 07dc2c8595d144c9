"""Query-protocol decoding, fed with bodies serialized by botocore itself from the IAM model."""

from __future__ import annotations

import json
from typing import Any

import botocore.session
import pytest
from botocore.awsrequest import create_request_object, prepare_request_dict
from botocore.serialize import create_serializer

from authgate.wire.query import (
    QueryError,
    QueryLimits,
    is_form,
    member_list,
    member_pairs,
    member_structs,
    parse_query,
)

FORM = "application/x-www-form-urlencoded; charset=utf-8"
_SESSION = botocore.session.get_session()


def boto_body(service: str, operation: str, params: dict[str, Any]) -> bytes:
    """The exact body botocore puts on the wire for this call."""
    model = _SESSION.get_service_model(service).operation_model(operation)
    request = create_serializer("query").serialize_to_request(params, model)
    prepare_request_dict(request, endpoint_url="http://127.0.0.1:1")
    body = create_request_object(request).prepare().body
    assert isinstance(body, str | bytes)
    return body.encode() if isinstance(body, str) else body


def test_create_user_with_tags_as_boto3_sends_it() -> None:
    body = boto_body(
        "iam",
        "CreateUser",
        {"UserName": "alice", "Path": "/", "Tags": [{"Key": "k", "Value": "v w"}]},
    )
    parsed = parse_query("", body, FORM)
    assert parsed.action == "CreateUser"
    assert parsed.version == "2010-05-08"
    assert parsed.params["UserName"] == "alice"
    assert parsed.params["Path"] == "/"
    assert member_pairs(parsed.params, "Tags") == [("k", "v w")]


def test_policy_document_survives_form_encoding() -> None:
    document = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "execute-api:Invoke",
                    "Resource": "arn:aws:execute-api:us-east-1:123456789012:a1b2c3/prod/GET/*",
                    "Sid": "a+b & c=d é",
                }
            ],
        }
    )
    body = boto_body(
        "iam",
        "PutUserPolicy",
        {"UserName": "alice", "PolicyName": "invoke", "PolicyDocument": document},
    )
    assert b"%2A" in body  # '*' is percent-encoded
    assert b"+" in body  # and spaces are '+'
    assert parse_query("", body, FORM).params["PolicyDocument"] == document


def test_plus_is_space_and_percent_2b_is_plus() -> None:
    parsed = parse_query("", b"Action=X&A=a+b&B=a%2Bb&C=%20", FORM)
    assert dict(parsed.params) == {"A": "a b", "B": "a+b", "C": " "}


def test_scalar_lists_in_index_order() -> None:
    params = {"X.member.2": "b", "X.member.10": "c", "X.member.1": "a", "Y.member.1": "z"}
    assert member_list(params, "X") == ["a", "b", "c"]
    assert member_list(params, "Missing") == []


def test_structure_lists_collect_fields_per_index() -> None:
    body = boto_body(
        "sts",
        "AssumeRole",
        {
            "RoleArn": "arn:aws:iam::123456789012:role/r",
            "RoleSessionName": "sess",
            "PolicyArns": [
                {"arn": "arn:aws:iam::123456789012:policy/a"},
                {"arn": "arn:aws:iam::123456789012:policy/b"},
            ],
            "Tags": [{"Key": "k1", "Value": "v1"}, {"Key": "k2", "Value": ""}],
        },
    )
    params = parse_query("", body, FORM).params
    assert member_structs(params, "PolicyArns") == [
        {"arn": "arn:aws:iam::123456789012:policy/a"},
        {"arn": "arn:aws:iam::123456789012:policy/b"},
    ]
    assert member_pairs(params, "Tags") == [("k1", "v1"), ("k2", "")]


def test_half_a_pair_is_reported_as_none() -> None:
    assert member_pairs({"Tags.member.1.Key": "k"}, "Tags") == [("k", None)]


def test_empty_list_as_boto3_sends_it() -> None:
    body = boto_body("iam", "CreateUser", {"UserName": "alice", "Tags": []})
    params = parse_query("", body, FORM).params
    assert member_pairs(params, "Tags") == []


def test_get_caller_identity_body() -> None:
    parsed = parse_query("", boto_body("sts", "GetCallerIdentity", {}), FORM)
    assert (parsed.action, parsed.version, dict(parsed.params)) == (
        "GetCallerIdentity",
        "2011-06-15",
        {},
    )


def test_url_query_and_body_are_merged() -> None:
    parsed = parse_query("Action=ListUsers&Version=2010-05-08", b"PathPrefix=%2Fa%2F", FORM)
    assert parsed.action == "ListUsers"
    assert dict(parsed.params) == {"PathPrefix": "/a/"}


@pytest.mark.parametrize(
    ("query", "body"),
    [("", b"Action=A&UserName=a&UserName=b"), ("UserName=a", b"Action=A&UserName=b")],
)
def test_a_parameter_given_twice_is_refused(query: str, body: bytes) -> None:
    with pytest.raises(QueryError) as caught:
        parse_query(query, body, FORM)
    assert caught.value.code == "MalformedQueryString"
    assert caught.value.status == 400


def test_missing_action_and_version_are_none() -> None:
    parsed = parse_query("", b"UserName=a", FORM)
    assert parsed.action is None
    assert parsed.version is None


def test_empty_pairs_are_skipped_and_bare_names_are_empty() -> None:
    parsed = parse_query("", b"&&Action=A&&Flag&", FORM)
    assert dict(parsed.params) == {"Flag": ""}


def test_body_of_another_type_carries_no_parameters() -> None:
    parsed = parse_query("", b'{"Action": "CreateUser"}', "application/json")
    assert parsed.action is None
    assert not is_form("application/json")
    assert is_form(None)
    assert is_form("Application/X-WWW-Form-Urlencoded")


def test_body_over_the_limit_is_413() -> None:
    with pytest.raises(QueryError) as caught:
        parse_query("", b"Action=A&X=" + b"a" * 100, FORM, QueryLimits(max_body_bytes=64))
    assert (caught.value.code, caught.value.status) == ("RequestEntityTooLarge", 413)


def test_parameter_count_is_bounded() -> None:
    limits = QueryLimits(max_params=10)
    ok = "&".join(f"P{i}=v" for i in range(10)).encode()
    assert len(parse_query("", ok, FORM, limits).params) == 10
    with pytest.raises(QueryError, match="at most 10"):
        parse_query("", ok + b"&P10=v", FORM, limits)
    with pytest.raises(QueryError, match="at most 10"):
        parse_query("Q=1", ok, FORM, limits)


def test_parameter_name_length_is_bounded() -> None:
    limits = QueryLimits(max_name_length=8)
    assert parse_query("", b"ABCDEFGH=1", FORM, limits).params == {"ABCDEFGH": "1"}
    for body in (b"ABCDEFGHI=1", b"%41" * 30 + b"=1"):
        with pytest.raises(QueryError, match="too long"):
            parse_query("", body, FORM, limits)


@pytest.mark.parametrize("body", [b"A=%FF", b"A=\xff", b"%C3=1"])
def test_invalid_utf8_is_malformed(body: bytes) -> None:
    with pytest.raises(QueryError) as caught:
        parse_query("", body, FORM)
    assert caught.value.code == "MalformedQueryString"


def test_a_parameter_needs_a_name() -> None:
    with pytest.raises(QueryError, match="no name"):
        parse_query("", b"=value", FORM)


@pytest.mark.parametrize(
    "key",
    ["X.member.0", "X.member.01", "X.member.1001", "X.member.x", "X.member.", "X.member.\u0661"],
)
def test_bad_member_indexes_are_refused(key: str) -> None:
    with pytest.raises(QueryError, match="index"):
        member_list({key: "v"}, "X")


def test_structure_members_need_a_field() -> None:
    with pytest.raises(QueryError, match="field"):
        member_structs({"Tags.member.1": "v"}, "Tags")
    with pytest.raises(QueryError, match="field"):
        member_structs({"Tags.member.1.": "v"}, "Tags")
