"""API keys through boto3's real `apigateway` client: create, read, list, update, delete."""

from __future__ import annotations

import http.client
import re
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.admin.apigateway.conftest import START, UsageApi

VALUE = "abcdefghijklmnopqrst0123456789"


def error_of(caught: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, int]:
    response: Any = caught.value.response
    return (
        response["Error"]["Code"],
        response["Error"]["Message"],
        response["ResponseMetadata"]["HTTPStatusCode"],
    )


def raw(
    api: UsageApi, method: str, path: str, body: bytes = b""
) -> tuple[int, dict[str, str], bytes]:
    host, port = api.url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=5)
    try:
        conn.request(method, path, body=body, headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def test_create_returns_the_key_with_its_value(usage_api: UsageApi) -> None:
    apigw = usage_api.client()
    key = apigw.create_api_key(name="k1", enabled=True, value=VALUE, tags={"team": "a"})
    assert key["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert re.fullmatch(r"[a-z0-9]{10}", key["id"])
    assert key["value"] == VALUE
    assert key["name"] == "k1"
    assert key["enabled"] is True
    assert key["stageKeys"] == []
    assert key["tags"] == {"team": "a"}
    assert key["createdDate"].timestamp() == int(START)
    assert key["lastUpdatedDate"] == key["createdDate"]
    assert usage_api.checks == [("apigateway:POST", "arn:aws:apigateway:us-east-1::/apikeys")]


def test_generated_value_is_forty_letters_and_digits_and_disabled_by_default(
    usage_api: UsageApi,
) -> None:
    key = usage_api.client().create_api_key(name="gen")
    assert re.fullmatch(r"[A-Za-z0-9]{40}", key["value"])
    assert key["enabled"] is False
    assert "tags" not in key
    assert "description" not in key


def test_value_shown_only_when_asked_for(usage_api: UsageApi) -> None:
    apigw = usage_api.client()
    key_id = apigw.create_api_key(name="k1", value=VALUE, description="d")["id"]
    plain = apigw.get_api_key(apiKey=key_id)
    assert "value" not in plain
    assert plain["description"] == "d"
    assert plain["tags"] == {}
    assert apigw.get_api_key(apiKey=key_id, includeValue=True)["value"] == VALUE
    assert all("value" not in item for item in apigw.get_api_keys()["items"])
    assert [item["value"] for item in apigw.get_api_keys(includeValues=True)["items"]] == [VALUE]
    assert usage_api.checks[1] == (
        "apigateway:GET",
        f"arn:aws:apigateway:us-east-1::/apikeys/{key_id}",
    )


def test_value_rules(usage_api: UsageApi) -> None:
    apigw = usage_api.client()
    cases = {
        "a" * 19: "API Key value should be at least 20 characters",
        "a" * 129: "API Key value exceeds maximum size of 128 characters",
        "abcdefghij-klmnopqrst": "API Key value must contain only letters and digits",
    }
    for value, message in cases.items():
        with pytest.raises(ClientError) as caught:
            apigw.create_api_key(name="bad", value=value)
        assert error_of(caught) == ("BadRequestException", message, 400)
    with pytest.raises(ClientError) as caught:
        apigw.create_api_key(name="x" * 1025)
    assert error_of(caught)[1] == "Invalid API Key name, can be at most 1024 characters."
    assert apigw.get_api_keys()["items"] == []


def test_same_value_twice_is_a_conflict(usage_api: UsageApi) -> None:
    apigw = usage_api.client()
    apigw.create_api_key(name="first", value=VALUE)
    with pytest.raises(ClientError) as caught:
        apigw.create_api_key(name="second", value=VALUE)
    assert error_of(caught) == ("ConflictException", "API Key already exists", 409)
    assert [item["name"] for item in apigw.get_api_keys()["items"]] == ["first"]


def test_unknown_key_is_not_found(usage_api: UsageApi) -> None:
    apigw = usage_api.client()
    for call in (
        lambda: apigw.get_api_key(apiKey="nosuchkey0"),
        lambda: apigw.update_api_key(
            apiKey="nosuchkey0", patchOperations=[{"op": "replace", "path": "/name", "value": "n"}]
        ),
        lambda: apigw.delete_api_key(apiKey="nosuchkey0"),
    ):
        with pytest.raises(apigw.exceptions.NotFoundException) as caught:
            call()
        assert error_of(caught) == (
            "NotFoundException",
            "Invalid API Key identifier specified",
            404,
        )


def test_list_filters_by_name_prefix_and_customer(usage_api: UsageApi) -> None:
    apigw = usage_api.client()
    for name, customer in (("alpha-1", "c1"), ("alpha-2", "c2"), ("beta", "c1"), ("Alpha", "c1")):
        apigw.create_api_key(name=name, customerId=customer)
    names = [item["name"] for item in apigw.get_api_keys(nameQuery="alpha")["items"]]
    assert names == ["alpha-1", "alpha-2"]
    by_customer = apigw.get_api_keys(customerId="c1")["items"]
    assert sorted(item["name"] for item in by_customer) == ["Alpha", "alpha-1", "beta"]
    assert all(item["customerId"] == "c1" for item in by_customer)
    both = apigw.get_api_keys(nameQuery="alpha", customerId="c2")["items"]
    assert [item["name"] for item in both] == ["alpha-2"]


def test_list_pages_with_position(usage_api: UsageApi) -> None:
    apigw = usage_api.client()
    made = sorted(f"key-{n:02d}" for n in range(7))
    for name in made:
        apigw.create_api_key(name=name)
    seen: list[str] = []
    position = None
    for _ in range(10):
        kwargs: dict[str, Any] = {"limit": 3}
        if position:
            kwargs["position"] = position
        page = apigw.get_api_keys(**kwargs)
        seen += [item["name"] for item in page["items"]]
        position = page.get("position")
        if not position:
            break
    assert seen == made
    paginator = apigw.get_paginator("get_api_keys")
    pages = list(paginator.paginate(PaginationConfig={"PageSize": 2, "MaxItems": 100}))
    assert [item["name"] for p in pages for item in p["items"]] == made
    assert len(pages) == 4


def test_list_rejects_a_bad_position_and_limit(usage_api: UsageApi) -> None:
    apigw = usage_api.client(validate=False)
    with pytest.raises(ClientError) as caught:
        apigw.get_api_keys(position="not-a-position")
    assert error_of(caught)[0] == "BadRequestException"
    with pytest.raises(ClientError) as caught:
        apigw.get_api_keys(limit=501)
    assert error_of(caught)[0] == "BadRequestException"


def test_update_with_patch_operations(usage_api: UsageApi) -> None:
    apigw = usage_api.client()
    key_id = apigw.create_api_key(name="k1", value=VALUE)["id"]
    usage_api.clock.advance(60)
    updated = apigw.update_api_key(
        apiKey=key_id,
        patchOperations=[
            {"op": "replace", "path": "/name", "value": "renamed"},
            {"op": "replace", "path": "/description", "value": "about"},
            {"op": "replace", "path": "/enabled", "value": "TRUE"},
            {"op": "replace", "path": "/customerId", "value": "cust-9"},
        ],
    )
    assert updated["name"] == "renamed"
    assert updated["description"] == "about"
    assert updated["enabled"] is True
    assert updated["customerId"] == "cust-9"
    assert updated["tags"] == {}
    assert "value" not in updated
    assert updated["lastUpdatedDate"].timestamp() == int(START) + 60
    assert updated["createdDate"].timestamp() == int(START)
    again = apigw.get_api_key(apiKey=key_id, includeValue=True)
    assert (again["name"], again["enabled"], again["value"]) == ("renamed", True, VALUE)
    assert usage_api.checks[1][0] == "apigateway:PATCH"


def test_update_refuses_other_paths_and_bad_values(usage_api: UsageApi) -> None:
    apigw = usage_api.client()
    key_id = apigw.create_api_key(name="k1")["id"]
    with pytest.raises(ClientError) as caught:
        apigw.update_api_key(
            apiKey=key_id, patchOperations=[{"op": "replace", "path": "/value", "value": "x"}]
        )
    assert error_of(caught) == (
        "BadRequestException",
        "Invalid patch path  '/value' specified for op 'replace'. "
        "Must be one of: [/description, /enabled, /name, /customerId]",
        400,
    )
    with pytest.raises(ClientError) as caught:
        apigw.update_api_key(
            apiKey=key_id,
            patchOperations=[
                {"op": "replace", "path": "/name", "value": "changed"},
                {"op": "replace", "path": "/enabled", "value": "maybe"},
            ],
        )
    assert error_of(caught)[0] == "BadRequestException"
    assert apigw.get_api_key(apiKey=key_id)["name"] == "k1"


def test_delete_answers_202_and_forgets_the_key(usage_api: UsageApi) -> None:
    apigw = usage_api.client()
    key_id = apigw.create_api_key(name="k1", value=VALUE)["id"]
    response = apigw.delete_api_key(apiKey=key_id)
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert usage_api.checks[-1] == (
        "apigateway:DELETE",
        f"arn:aws:apigateway:us-east-1::/apikeys/{key_id}",
    )
    with pytest.raises(apigw.exceptions.NotFoundException):
        apigw.get_api_key(apiKey=key_id)
    assert apigw.create_api_key(name="again", value=VALUE)["value"] == VALUE


def test_denied_call_changes_nothing(usage_api: UsageApi) -> None:
    apigw = usage_api.client()
    usage_api.deny["apigateway:POST"] = "because no identity-based policy allows it"
    with pytest.raises(ClientError) as caught:
        apigw.create_api_key(name="k1")
    code, message, status = error_of(caught)
    assert (code, status) == ("AccessDeniedException", 403)
    assert message == (
        "User: arn:aws:iam::123456789012:user/admin is not authorized to perform: "
        "apigateway:POST on resource: arn:aws:apigateway:us-east-1::/apikeys "
        "because no identity-based policy allows it"
    )
    assert apigw.get_api_keys()["items"] == []


def test_generation_moves_on_every_write(usage_api: UsageApi) -> None:
    apigw = usage_api.client()
    before = usage_api.keys.generation
    key_id = apigw.create_api_key(name="k1")["id"]
    apigw.update_api_key(
        apiKey=key_id, patchOperations=[{"op": "replace", "path": "/enabled", "value": "true"}]
    )
    apigw.get_api_key(apiKey=key_id)
    apigw.delete_api_key(apiKey=key_id)
    assert usage_api.keys.generation == before + 3
    assert usage_api.view.generation == usage_api.keys.generation


def test_wire_shapes_and_errors(usage_api: UsageApi) -> None:
    status, headers, body = raw(usage_api, "GET", "/apikeys")
    assert (status, body) == (200, b'{"item":[]}')
    assert headers["content-type"] == "application/json"
    status, headers, body = raw(usage_api, "POST", "/apikeys", b"{not json")
    assert status == 400
    assert headers["x-amzn-errortype"] == "BadRequestException"
    assert body == b'{"message":"Could not parse request body into json"}'
    status, headers, _ = raw(usage_api, "PUT", "/apikeys")
    assert (status, headers["x-amzn-errortype"]) == (404, "NotFoundException")
    status, headers, _ = raw(usage_api, "GET", "/apikeys/a%2Fb")
    assert (status, headers["x-amzn-errortype"]) == (404, "NotFoundException")
    status, _, body = raw(usage_api, "POST", "/apikeys", b'{"name": 5}')
    assert status == 400
    assert b"name" in body
    status, _, body = raw(usage_api, "POST", "/apikeys", b'{"stageKeys": [{"restApiId": "a"}]}')
    assert status == 400
    assert b"stageKeys" in body
