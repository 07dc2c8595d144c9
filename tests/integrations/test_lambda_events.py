"""Lambda proxy events and responses, rule by rule of the `lambda-proxy-events.md` fact sheet."""

from __future__ import annotations

import base64
import dataclasses
from typing import Any

import pytest
from aws_lambda_powertools.utilities.data_classes import (
    APIGatewayProxyEvent,
    APIGatewayProxyEventV2,
)

from authgate.definition.model import Protocol
from authgate.integrations.lambda_events import (
    EventSource,
    body_is_binary,
    build_event,
    http_v1_event,
    http_v2_event,
    media_type_matches,
    parse_query,
    request_time,
    rest_event,
)
from authgate.integrations.lambda_responses import (
    MalformedResponse,
    parse_response_v1,
    parse_response_v2,
)

BASE = EventSource(
    method="POST",
    path="/items/a%2Bb/",
    resource_path="/{proxy+}",
    route_key="POST /{proxy+}",
    headers=[],
    query="",
    request_id="c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
    request_time_ms=1583349317135,
    source_ip="203.0.113.1",
    user_agent="curl/8.0",
    stage="prod",
    api_id="abc123",
    account_id="123456789012",
    domain_name="abc123.execute-api.us-east-1.amazonaws.com",
    resource_id="res123",
    deployment_id="dep123",
    extended_request_id="N7SnfFYZjoEEolg=",
)


def source(**changes: Any) -> EventSource:
    return dataclasses.replace(BASE, **changes)


# --- REST (format 1.0) ---------------------------------------------------------------------


def test_rest_event_has_every_documented_member() -> None:
    event = rest_event(source(path_parameters={"proxy": "items/a%2Bb"}))
    assert set(event) == {
        "resource", "path", "httpMethod", "headers", "multiValueHeaders",
        "queryStringParameters", "multiValueQueryStringParameters", "pathParameters",
        "stageVariables", "requestContext", "body", "isBase64Encoded",
    }  # fmt: skip
    assert event["resource"] == "/{proxy+}"
    assert event["path"] == "/items/a%2Bb/"
    assert event["httpMethod"] == "POST"
    assert event["pathParameters"] == {"proxy": "items/a%2Bb"}
    assert event["requestContext"] == {
        "resourceId": "res123",
        "resourcePath": "/{proxy+}",
        "httpMethod": "POST",
        "extendedRequestId": "N7SnfFYZjoEEolg=",
        "requestTime": "04/Mar/2020:19:15:17 +0000",
        "path": "/prod/items/a%2Bb/",
        "accountId": "123456789012",
        "protocol": "HTTP/1.1",
        "stage": "prod",
        "domainPrefix": "abc123",
        "requestTimeEpoch": 1583349317135,
        "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
        "identity": {
            "cognitoIdentityPoolId": None,
            "accountId": None,
            "cognitoIdentityId": None,
            "caller": None,
            "sourceIp": "203.0.113.1",
            "principalOrgId": None,
            "accessKey": None,
            "cognitoAuthenticationType": None,
            "cognitoAuthenticationProvider": None,
            "userArn": None,
            "userAgent": "curl/8.0",
            "user": None,
        },
        "domainName": "abc123.execute-api.us-east-1.amazonaws.com",
        "deploymentId": "dep123",
        "apiId": "abc123",
    }


def test_rest_empty_collections_are_null() -> None:
    event = rest_event(source())
    for key in (
        "headers", "multiValueHeaders", "queryStringParameters",
        "multiValueQueryStringParameters", "pathParameters", "stageVariables", "body",
    ):  # fmt: skip
        assert event[key] is None, key
    assert event["isBase64Encoded"] is False
    assert "authorizer" not in event["requestContext"]  # type: ignore[operator]


def test_rest_headers_keep_casing_last_value_wins_all_values_kept() -> None:
    headers = [("Content-Type", "application/json"), ("X-Thing", "first"), ("x-thing", "last")]
    event = rest_event(source(headers=headers))
    assert event["headers"] == {"Content-Type": "application/json", "X-Thing": "last"}
    assert event["multiValueHeaders"] == {
        "Content-Type": ["application/json"],
        "X-Thing": ["first", "last"],
    }


def test_rest_query_last_value_wins_all_values_kept_and_decoded() -> None:
    event = rest_event(source(query="price=10&price=20&price=30&q=a+b%2Bc"))
    assert event["queryStringParameters"] == {"price": "30", "q": "a b+c"}
    assert event["multiValueQueryStringParameters"] == {
        "price": ["10", "20", "30"],
        "q": ["a b+c"],
    }


@pytest.mark.parametrize(
    ("raw", "rest", "pairs"),
    [
        ("", True, []),
        ("a=1", True, [("a", "1")]),
        ("a=1&a=2", False, [("a", "1"), ("a", "2")]),
        ("q=a+b", True, [("q", "a b")]),
        ("q=a%2Bb", True, [("q", "a+b")]),
        ("q=%E2%9C%93", True, [("q", "\u2713")]),
        ("flag", True, [("flag", "")]),
        ("a=1&&b=", True, [("a", "1"), ("b", "")]),
        ("=orphan", True, []),
        ("a=x=y", True, [("a", "x=y")]),
        ("a%20b=1", True, [("a b", "1")]),
        ("a=1;b=2", True, [("a", "1"), ("b", "2")]),
        ("a=1;b=2", False, [("a", "1;b=2")]),
        ("bad=%ZZ", True, [("bad", "%ZZ")]),
    ],
)
def test_query_decoding(raw: str, rest: bool, pairs: list[tuple[str, str]]) -> None:
    assert parse_query(raw, rest=rest) == pairs


def test_path_is_not_decoded_and_double_slashes_stay() -> None:
    event = rest_event(source(path="//a%2Fb/c+d"))
    assert event["path"] == "//a%2Fb/c+d"
    assert event["requestContext"]["path"] == "/prod//a%2Fb/c+d"  # type: ignore[index]


def test_stage_variables_and_authorizer_and_identity_extras() -> None:
    authorizer = {"principalId": "alice", "integrationLatency": 12, "tenant": "acme"}
    event = rest_event(
        source(
            stage_variables={"env": "prod"},
            authorizer=authorizer,
            identity={"apiKey": "k123", "apiKeyId": "kid"},
        )
    )
    assert event["stageVariables"] == {"env": "prod"}
    context: dict[str, Any] = event["requestContext"]  # type: ignore[assignment]
    assert context["authorizer"] == authorizer
    assert context["identity"]["apiKey"] == "k123"
    assert context["identity"]["apiKeyId"] == "kid"
    assert context["identity"]["sourceIp"] == "203.0.113.1"


@pytest.mark.parametrize(
    ("body", "binary", "expected", "encoded"),
    [
        (b"", False, None, False),
        (b"", True, None, False),
        (b'{"a":1}', False, '{"a":1}', False),
        (b"\x89PNG\x00", True, base64.b64encode(b"\x89PNG\x00").decode(), True),
        ("caf\u00e9".encode(), False, "caf\u00e9", False),
    ],
)
def test_body_text_or_base64(
    body: bytes, binary: bool, expected: str | None, encoded: bool
) -> None:
    for build in (rest_event, http_v1_event):
        event = build(source(body=body, is_binary=binary))
        assert event["body"] == expected
        assert event["isBase64Encoded"] is encoded
    v2 = http_v2_event(source(body=body, is_binary=binary))
    assert v2.get("body") == expected
    assert v2["isBase64Encoded"] is encoded


@pytest.mark.parametrize(
    ("epoch_ms", "text"),
    [
        (1583349317135, "04/Mar/2020:19:15:17 +0000"),
        (1583348638390, "04/Mar/2020:19:03:58 +0000"),
        (0, "01/Jan/1970:00:00:00 +0000"),
        (1703980799999, "30/Dec/2023:23:59:59 +0000"),
    ],
)
def test_request_time_format(epoch_ms: int, text: str) -> None:
    assert request_time(epoch_ms / 1000) == text


# --- Binary media types ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content_type", "patterns", "matches"),
    [
        ("image/png", ["image/png"], True),
        ("IMAGE/PNG; q=1", ["image/png"], True),
        ("image/jpeg", ["image/*"], True),
        ("text/plain", ["*/*"], True),
        ("application/octet-stream", ["image/*", "application/octet-stream"], True),
        ("application/json; charset=utf-8", ["application/octet-stream"], False),
        ("image/png", ["image/jpeg"], False),
        ("image/png", [], False),
        (None, ["*/*"], False),
        ("", ["*/*"], False),
    ],
)
def test_media_type_matches(content_type: str | None, patterns: list[str], matches: bool) -> None:
    assert media_type_matches(content_type, patterns) is matches


@pytest.mark.parametrize(
    ("protocol", "content_type", "patterns", "binary"),
    [
        (Protocol.REST, "image/png", ("image/*",), True),
        (Protocol.REST, "application/json", ("image/*",), False),
        (Protocol.REST, "application/octet-stream", (), False),
        (Protocol.REST, None, ("*/*",), True),  # no Content-Type counts as application/json
        (Protocol.REST, None, ("image/*",), False),
        (Protocol.HTTP, "text/plain", (), False),
        (Protocol.HTTP, "text/html; charset=utf-8", (), False),
        (Protocol.HTTP, "application/json", (), False),
        (Protocol.HTTP, "application/xml", (), False),
        (Protocol.HTTP, "application/javascript", (), False),
        (Protocol.HTTP, "application/octet-stream", (), True),
        (Protocol.HTTP, "application/x-www-form-urlencoded", (), True),
        (Protocol.HTTP, "multipart/form-data; boundary=x", (), True),
        (Protocol.HTTP, "image/png", (), True),
        (Protocol.HTTP, None, (), True),
        (Protocol.HTTP, "application/json", ("application/json",), False),  # list is REST-only
    ],
)
def test_body_is_binary(
    protocol: Protocol, content_type: str | None, patterns: tuple[str, ...], binary: bool
) -> None:
    assert body_is_binary(protocol, content_type, patterns) is binary


# --- HTTP API format 1.0 -------------------------------------------------------------------


def test_http_v1_event_is_rest_shape_with_version_and_lowercase_headers() -> None:
    headers = [("X-Thing", "first"), ("X-Thing", "last"), ("Content-Type", "text/plain")]
    event = http_v1_event(source(headers=headers, query="a=1&a=2", resource_path="/items/{id}"))
    assert event["version"] == "1.0"
    assert event["headers"] == {"x-thing": "last", "content-type": "text/plain"}
    assert event["multiValueHeaders"] == {
        "x-thing": ["first", "last"],
        "content-type": ["text/plain"],
    }
    assert event["queryStringParameters"] == {"a": "2"}
    assert event["multiValueQueryStringParameters"] == {"a": ["1", "2"]}
    assert event["resource"] == "/items/{id}"
    assert event["path"] == "/prod/items/a%2Bb/"
    context: dict[str, Any] = event["requestContext"]  # type: ignore[assignment]
    assert context["path"] == "/prod/items/a%2Bb/"
    assert context["authorizer"] == {"claims": None, "scopes": None}
    assert context["resourcePath"] == "/items/{id}"


def test_http_v1_default_stage_and_route() -> None:
    event = http_v1_event(source(stage="$default", path="/my/path", resource_path="/$default"))
    assert event["path"] == "/my/path"
    assert event["resource"] == "$default"
    assert event["pathParameters"] is None
    assert event["stageVariables"] is None


# --- HTTP API format 2.0 -------------------------------------------------------------------


def test_http_v2_event_shape() -> None:
    event = http_v2_event(
        source(
            method="GET",
            path="/items/7",
            route_key="GET /items/{id}",
            headers=[
                ("X-Thing", "first"),
                ("Cookie", "c1=v1; c2=v2"),
                ("x-thing", "last"),
                ("cookie", "c3=v3"),
                ("User-Agent", "curl/8.0"),
            ],
            query="a=1&a=2&b=x+y",
            path_parameters={"id": "7"},
            stage_variables={"env": "prod"},
        )
    )
    assert event == {
        "version": "2.0",
        "routeKey": "GET /items/{id}",
        "rawPath": "/prod/items/7",
        "rawQueryString": "a=1&a=2&b=x+y",
        "cookies": ["c1=v1", "c2=v2", "c3=v3"],
        "headers": {"x-thing": "first,last", "user-agent": "curl/8.0"},
        "queryStringParameters": {"a": "1,2", "b": "x y"},
        "pathParameters": {"id": "7"},
        "stageVariables": {"env": "prod"},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc123",
            "domainName": "abc123.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "abc123",
            "http": {
                "method": "GET",
                "path": "/prod/items/7",
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.1",
                "userAgent": "curl/8.0",
            },
            "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
            "routeKey": "GET /items/{id}",
            "stage": "prod",
            "time": "04/Mar/2020:19:15:17 +0000",
            "timeEpoch": 1583349317135,
        },
        "isBase64Encoded": False,
    }


def test_http_v2_omits_empty_members_and_default_stage_has_no_prefix() -> None:
    event = http_v2_event(source(stage="$default", path="/my/path", route_key="$default"))
    for key in ("cookies", "queryStringParameters", "pathParameters", "stageVariables", "body"):
        assert key not in event, key
    assert "multiValueHeaders" not in event
    assert "multiValueQueryStringParameters" not in event
    assert event["rawPath"] == "/my/path"
    assert event["routeKey"] == "$default"
    assert event["requestContext"]["http"]["path"] == "/my/path"  # type: ignore[index]


def test_http_v2_authorizer_passes_through() -> None:
    jwt = {"jwt": {"claims": {"sub": "u1", "exp": "1675021635"}, "scopes": None}}
    assert http_v2_event(source(authorizer=jwt))["requestContext"]["authorizer"] == jwt  # type: ignore[index]
    assert "authorizer" not in http_v2_event(source())["requestContext"]  # type: ignore[operator]


@pytest.mark.parametrize(
    ("protocol", "version", "marker"),
    [
        (Protocol.REST, "1.0", None),
        (Protocol.REST, "2.0", None),  # REST APIs know only format 1.0
        (Protocol.HTTP, "1.0", "1.0"),
        (Protocol.HTTP, "2.0", "2.0"),
    ],
)
def test_build_event_picks_the_format(protocol: Protocol, version: str, marker: str | None) -> None:
    assert build_event(source(), protocol, version).get("version") == marker


# --- Powertools reads our events as it reads AWS's ---------------------------------------------


def test_powertools_parses_rest_event() -> None:
    event = APIGatewayProxyEvent(
        rest_event(
            source(
                headers=[("X-Api-Key", "k123"), ("Content-Type", "application/json")],
                query="q=hello+world&tag=a&tag=b",
                path_parameters={"proxy": "items/a%2Bb"},
                body=b'{"n": 1}',
                authorizer={"claims": {"sub": "u1"}, "scopes": None},
                identity={"apiKey": "k123"},
            )
        )
    )
    assert event.http_method == "POST"
    assert event.path == "/items/a%2Bb/"
    assert event.resource == "/{proxy+}"
    assert event.headers.get("x-api-key") == "k123"
    assert event.get_query_string_value("q") == "hello world"
    assert event.get_multi_value_query_string_values("tag") == ["a", "b"]
    assert event.path_parameters == {"proxy": "items/a%2Bb"}
    assert event.json_body == {"n": 1}
    assert event.request_context.stage == "prod"
    assert event.request_context.path == "/prod/items/a%2Bb/"
    assert event.request_context.identity.source_ip == "203.0.113.1"
    assert event.request_context.identity.api_key == "k123"
    assert event.request_context.authorizer.claims == {"sub": "u1"}
    assert event.request_context.request_time_epoch == 1583349317135


def test_powertools_parses_v2_event() -> None:
    event = APIGatewayProxyEventV2(
        http_v2_event(
            source(
                path="/orders/9",
                route_key="POST /orders/{id}",
                headers=[("Cookie", "a=1; b=2"), ("Content-Type", "application/octet-stream")],
                query="x=1&x=2",
                path_parameters={"id": "9"},
                body=b"\x00\x01binary",
                is_binary=True,
                authorizer={"jwt": {"claims": {"sub": "u1"}, "scopes": ["read"]}},
            )
        )
    )
    assert event.raw_path == "/prod/orders/9"
    assert event.path == "/orders/9"
    assert event.route_key == "POST /orders/{id}"
    assert event.cookies == ["a=1", "b=2"]
    assert event.http_method == "POST"
    assert event.query_string_parameters == {"x": "1,2"}
    assert event.path_parameters == {"id": "9"}
    assert event.is_base64_encoded is True
    assert base64.b64decode(event.body or "") == b"\x00\x01binary"
    assert event.request_context.authorizer.jwt_claim == {"sub": "u1"}
    assert event.request_context.authorizer.jwt_scopes == ["read"]
    assert event.request_context.stage == "prod"


# --- Responses, format 1.0 (REST) ------------------------------------------------------------

JSON = ("Content-Type", "application/json")


@pytest.mark.parametrize(
    ("result", "status", "headers", "body"),
    [
        ({"statusCode": 200}, 200, [JSON], b""),
        (
            {"statusCode": 200, "headers": {"h": "v", "b": True, "n": 1.5}},
            200,
            [("h", "v"), ("b", "true"), ("n", "1.5"), JSON],
            b"",
        ),
        ({"statusCode": 200, "headers": None}, 200, [JSON], b""),
        ({"headers": {"h": "v"}}, 200, [("h", "v"), JSON], b""),
        ({"statusCode": "201"}, 201, [JSON], b""),
        ({"statusCode": 404.0, "body": "nope"}, 404, [JSON], b"nope"),
        (
            {"statusCode": 200, "headers": {"content-type": "text/plain"}, "body": "hi"},
            200,
            [("content-type", "text/plain")],
            b"hi",
        ),
        (
            {"multiValueHeaders": {"test-multi": ["m"]}, "headers": {"test-multi": "s"}},
            200,
            [("test-multi", "m"), ("test-multi", "s"), JSON],
            b"",
        ),
        (
            {"multiValueHeaders": {"tesT-Multi": ["m"]}, "headers": {"test-multi": "s"}},
            200,
            [("tesT-Multi", "m"), ("tesT-Multi", "s"), JSON],
            b"",
        ),
        (
            {"multiValueHeaders": {"X": ["a", "b"]}, "headers": {"x": "a"}},  # same pair once
            200,
            [("X", "a"), ("X", "b"), JSON],
            b"",
        ),
        (
            {"multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]}},
            200,
            [("Set-Cookie", "a=1"), ("Set-Cookie", "b=2"), JSON],
            b"",
        ),
        ({"statusCode": 200, "headers": {"gone": None}}, 200, [JSON], b""),
        (  # header fields carry bytes: a non-ASCII value goes out as UTF-8
            {"statusCode": 200, "headers": {"x": "caf\u00e9"}},
            200,
            [("x", "caf\u00c3\u00a9"), JSON],
            b"",
        ),
        ({"statusCode": 200, "body": "caf\u00e9"}, 200, [JSON], "caf\u00e9".encode()),
        ({"statusCode": 200, "body": None, "isBase64Encoded": None}, 200, [JSON], b""),
        (
            {"statusCode": 200, "body": "aGk=", "isBase64Encoded": True},
            200,
            [JSON],
            b"aGk=",  # no binary media type matches: the base64 text is the body
        ),
    ],
)
def test_parse_response_v1(
    result: object, status: int, headers: list[tuple[str, str]], body: bytes
) -> None:
    assert parse_response_v1(result) == (status, headers, body)


@pytest.mark.parametrize(
    "result",
    [
        {"statusCode": "test"},
        {"statusCode": 200, "wrongValue": "x"},
        None,
        "justAString",
        ["statusCode", 200],
        42,
        {"statusCode": 200, "multiValueHeaders": {"h": "not-a-list"}},
        {"statusCode": 200, "multiValueHeaders": ["h"]},
        {"statusCode": 200, "body": {"message": "x"}},
        {"statusCode": 200, "body": 5},
        {"statusCode": True},
        {"statusCode": 99},
        {"statusCode": 600},
        {"statusCode": 200.5},
        {"statusCode": " 200"},
        {"statusCode": 200, "headers": ["a", "b"]},
        {"statusCode": 200, "headers": {"bad name": "v"}},
        {"statusCode": 200, "headers": {"x": "a\r\nSet-Cookie: evil=1"}},
        {"statusCode": 200, "headers": {"x": object()}},
        {"statusCode": 200, "isBase64Encoded": "true"},
        {"statusCode": 200, "cookies": ["a=1"]},  # a 2.0 member, unknown to format 1.0
    ],
)
def test_parse_response_v1_malformed(result: object) -> None:
    with pytest.raises(MalformedResponse):
        parse_response_v1(result)


def test_v1_base64_decoded_when_content_type_is_binary() -> None:
    png = b"\x89PNG\r\n"
    result = {
        "statusCode": 200,
        "headers": {"Content-Type": "image/png"},
        "body": base64.b64encode(png).decode(),
        "isBase64Encoded": True,
    }
    assert parse_response_v1(result, ["image/*"]).body == png
    assert parse_response_v1(result, ["application/octet-stream"]).body == result["body"].encode()  # type: ignore[attr-defined]


def test_v1_base64_decoded_when_first_accept_is_binary() -> None:
    result = {"statusCode": 200, "body": "aGk=", "isBase64Encoded": True}
    assert parse_response_v1(result, ["image/png"], accept="image/png, */*").body == b"hi"
    assert parse_response_v1(result, ["image/png"], accept="text/html, image/png").body == b"aGk="
    assert parse_response_v1(result, ["*/*"]).body == b"hi"  # HTTP APIs: always decode


def test_v1_base64_allows_line_breaks_but_not_garbage() -> None:
    wrapped = {"statusCode": 200, "body": "aGVs\nbG8=\n", "isBase64Encoded": True}
    assert parse_response_v1(wrapped, ["*/*"]).body == b"hello"
    with pytest.raises(MalformedResponse):
        parse_response_v1({"body": "not base64!", "isBase64Encoded": True}, ["*/*"])


# --- Responses, format 2.0 ---------------------------------------------------------------------

JSON_LC = ("content-type", "application/json")


@pytest.mark.parametrize(
    ("result", "status", "headers", "body"),
    [
        ("hello", 200, [JSON_LC], b"hello"),
        ({"message": "x"}, 200, [JSON_LC], b'{"message":"x"}'),
        ([1, "a"], 200, [JSON_LC], b'[1,"a"]'),
        (5, 200, [JSON_LC], b"5"),
        (True, 200, [JSON_LC], b"true"),
        (None, 200, [JSON_LC], b"null"),
        ({"headers": {"a": "b"}}, 200, [JSON_LC], b'{"headers":{"a":"b"}}'),
        ({"statusCode": 204}, 204, [JSON_LC], b""),
        ({"statusCode": "201", "body": "made"}, 201, [JSON_LC], b"made"),
        (
            {
                "statusCode": 200,
                "headers": {"Content-Type": "text/plain", "x-n": 2},
                "cookies": ["a=1; Path=/", "b=2"],
                "body": "hi",
            },
            200,
            [
                ("Content-Type", "text/plain"),
                ("x-n", "2"),
                ("set-cookie", "a=1; Path=/"),
                ("set-cookie", "b=2"),
            ],
            b"hi",
        ),
        ({"statusCode": 200, "body": "aGk=", "isBase64Encoded": True}, 200, [JSON_LC], b"hi"),
    ],
)
def test_parse_response_v2(
    result: object, status: int, headers: list[tuple[str, str]], body: bytes
) -> None:
    assert parse_response_v2(result) == (status, headers, body)


@pytest.mark.parametrize(
    "result",
    [
        {"statusCode": "abc"},
        {"statusCode": 200, "cookies": "a=1"},
        {"statusCode": 200, "cookies": [1]},
        {"statusCode": 200, "body": {"a": 1}},
        {"statusCode": 200, "headers": "x"},
        {"statusCode": 200, "body": "%%%", "isBase64Encoded": True},
        {"not": object()},
        {1: "non-string key"},
    ],
)
def test_parse_response_v2_malformed(result: object) -> None:
    with pytest.raises(MalformedResponse):
        parse_response_v2(result)
