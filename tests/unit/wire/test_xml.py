"""XML rendering, read back by botocore's own query-protocol parser against the real models."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import botocore.session
from botocore.parsers import create_parser
from hypothesis import given, settings
from hypothesis import strategies as st

from authgate.wire.xml import (
    IAM_NAMESPACE,
    STS_NAMESPACE,
    XmlValue,
    escape,
    iso8601,
    render_error,
    render_result,
    timestamp,
)

_SESSION = botocore.session.get_session()
CREATED = datetime(2026, 11, 22, 2, 41, 48, tzinfo=UTC)


def boto_parse(service: str, operation: str, body: bytes, status: int = 200) -> dict[str, Any]:
    model = _SESSION.get_service_model(service).operation_model(operation)
    shape = model.output_shape if status < 300 else None
    response = {"body": body, "headers": {}, "status_code": status}
    parsed: dict[str, Any] = create_parser("query").parse(response, shape)
    return parsed


def test_create_user_result_is_parsed_by_botocore() -> None:
    user = {
        "Path": "/",
        "UserName": "alice",
        "UserId": "AIDAABCDEFGHIJKLMNOPQ",
        "Arn": "arn:aws:iam::123456789012:user/alice",
        "CreateDate": CREATED,
        "Tags": [{"Key": "k", "Value": "v"}],
    }
    body = render_result("CreateUser", IAM_NAMESPACE, {"User": user}, "req-1")
    assert body.startswith(
        b'<CreateUserResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">'
    )
    assert b"<CreateDate>2026-11-22T02:41:48Z</CreateDate>" in body
    parsed = boto_parse("iam", "CreateUser", body)
    assert parsed["User"] == {**user, "CreateDate": CREATED}
    assert parsed["ResponseMetadata"]["RequestId"] == "req-1"


def test_lists_booleans_and_none_follow_the_output_shape() -> None:
    result = {
        "Users": [
            {
                "Path": "/",
                "UserName": name,
                "UserId": "AIDAABCDEFGHIJKLMNOPQ",
                "Arn": f"arn:aws:iam::123456789012:user/{name}",
                "CreateDate": CREATED,
                "Tags": None,
            }
            for name in ("a", "b")
        ],
        "IsTruncated": True,
        "Marker": "bmV4dA==",
    }
    parsed = boto_parse("iam", "ListUsers", render_result("ListUsers", IAM_NAMESPACE, result, "r"))
    assert [u["UserName"] for u in parsed["Users"]] == ["a", "b"]
    assert "Tags" not in parsed["Users"][0]
    assert parsed["IsTruncated"] is True
    assert parsed["Marker"] == "bmV4dA=="
    body = render_result("ListUsers", IAM_NAMESPACE, {"Users": [], "IsTruncated": False}, "r")
    parsed = boto_parse("iam", "ListUsers", body)
    assert parsed["Users"] == []
    assert parsed["IsTruncated"] is False
    assert "Marker" not in parsed


def test_list_of_strings_and_integers() -> None:
    body = render_result(
        "ListUserPolicies", IAM_NAMESPACE, {"PolicyNames": ["p1", "p2"], "IsTruncated": False}, "r"
    )
    assert b"<PolicyNames><member>p1</member><member>p2</member></PolicyNames>" in body
    assert boto_parse("iam", "ListUserPolicies", body)["PolicyNames"] == ["p1", "p2"]
    role = {
        "Path": "/",
        "RoleName": "r",
        "RoleId": "AROAABCDEFGHIJKLMNOPQ",
        "Arn": "arn:aws:iam::123456789012:role/r",
        "CreateDate": CREATED,
        "MaxSessionDuration": 7200,
    }
    body = render_result("GetRole", IAM_NAMESPACE, {"Role": role}, "r")
    assert boto_parse("iam", "GetRole", body)["Role"]["MaxSessionDuration"] == 7200


def test_operation_without_output_has_no_result_element() -> None:
    body = render_result("PutUserPolicy", IAM_NAMESPACE, None, "req-2")
    assert body == (
        b'<PutUserPolicyResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">'
        b"<ResponseMetadata><RequestId>req-2</RequestId></ResponseMetadata>"
        b"</PutUserPolicyResponse>"
    )
    assert boto_parse("iam", "PutUserPolicy", body)["ResponseMetadata"]["RequestId"] == "req-2"


def test_sts_namespace_and_credentials() -> None:
    expiration = CREATED + timedelta(hours=1)
    result: dict[str, XmlValue] = {
        "Credentials": {
            "AccessKeyId": "ASIAABCDEFGHIJKLMNOP",
            "SecretAccessKey": "s" * 40,
            "SessionToken": "IQoJb3JpZ2luX2Vj" + "x" * 100,
            "Expiration": expiration,
        },
        "AssumedRoleUser": {
            "AssumedRoleId": "AROAABCDEFGHIJKLMNOPQ:sess",
            "Arn": "arn:aws:sts::123456789012:assumed-role/r/sess",
        },
    }
    body = render_result("AssumeRole", STS_NAMESPACE, result, "r")
    assert body.startswith(
        b'<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
    )
    parsed = boto_parse("sts", "AssumeRole", body)
    assert parsed["Credentials"]["Expiration"] == expiration
    assert parsed["AssumedRoleUser"] == result["AssumedRoleUser"]


def test_error_envelope_is_parsed_by_botocore() -> None:
    body = render_error("NoSuchEntity", "The user with name bob cannot be found.", "req-3")
    assert body == (
        b'<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error>'
        b"<Type>Sender</Type><Code>NoSuchEntity</Code>"
        b"<Message>The user with name bob cannot be found.</Message></Error>"
        b"<RequestId>req-3</RequestId></ErrorResponse>"
    )
    parsed = boto_parse("iam", "GetUser", body, status=404)
    assert parsed["Error"] == {
        "Type": "Sender",
        "Code": "NoSuchEntity",
        "Message": "The user with name bob cannot be found.",
    }
    assert parsed["ResponseMetadata"]["RequestId"] == "req-3"


def test_receiver_errors_and_sts_namespace() -> None:
    body = render_error("InternalFailure", "x", "r", sender=False, namespace=STS_NAMESPACE)
    assert b"<Type>Receiver</Type>" in body
    assert b'xmlns="https://sts.amazonaws.com/doc/2011-06-15/"' in body
    assert boto_parse("sts", "GetCallerIdentity", body, status=500)["Error"]["Type"] == "Receiver"


def test_text_is_escaped_and_survives_a_round_trip() -> None:
    nasty = "a<b>&c \"q\" 'a' ]]> </Message><Code>Evil</Code>\r\n\tz"
    body = render_error("ValidationError", nasty, "r")
    assert b"<Code>Evil</Code>" not in body
    assert boto_parse("iam", "GetUser", body, status=400)["Error"]["Message"] == nasty


def test_characters_xml_cannot_carry_are_replaced() -> None:
    assert escape("a\x00b\x1fc\ud800d") == "a\ufffdb\ufffdc\ufffdd"
    body = render_error("ValidationError", "x\x07y", "r")
    assert boto_parse("iam", "GetUser", body, status=400)["Error"]["Message"] == "x\ufffdy"


def test_timestamps_as_iam_writes_them() -> None:
    assert iso8601(CREATED) == "2026-11-22T02:41:48Z"
    assert timestamp(CREATED.timestamp() + 0.9) == CREATED
    plus_two = datetime(2026, 11, 22, 4, 41, 48, tzinfo=timezone(timedelta(hours=2)))
    assert iso8601(plus_two) == "2026-11-22T02:41:48Z"


_XML_TEXT = st.text(
    alphabet=st.characters(
        exclude_categories=["Cs"],
        exclude_characters="\x00\x01\x02\x03\x04\x05\x06\x07\x08\x0b\x0c\x0e\x0f"
        "\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f\ufffe\uffff",
    ),
    max_size=200,
)


@settings(max_examples=200, deadline=None)
@given(_XML_TEXT)
def test_any_xml_text_round_trips(text: str) -> None:
    body = render_result("GetUser", IAM_NAMESPACE, {"Text": text}, "r")
    root = ET.fromstring(body)  # noqa: S314 - our own output
    element = root.find(f"{{{IAM_NAMESPACE}}}GetUserResult/{{{IAM_NAMESPACE}}}Text")
    assert element is not None
    assert (element.text or "") == text
