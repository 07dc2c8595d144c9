"""ImportApiKeys (CSV), GetUsage and UpdateUsage through boto3's real `apigateway` client."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from authgate.usage.quota import day_of
from tests.admin.apigateway.conftest import UsageApi
from tests.admin.apigateway.test_api_keys import error_of

V1 = "apikey1234abcdefghij0123456789"
V2 = "apikey1234abcdefghij0123456780"
V3 = "apikey1234abcdefghij0123456781"


def plan_with_stage(apigw: Any, stage: str, **extra: Any) -> str:
    created = apigw.create_usage_plan(
        name=f"plan-{stage}", apiStages=[{"apiId": "a1", "stage": stage}], **extra
    )
    return str(created["id"])


def test_import_good_file(usage_api: UsageApi) -> None:
    apigw = usage_api.client()
    gold = plan_with_stage(apigw, "prod")
    silver = plan_with_stage(apigw, "dev")
    body = (
        "Name,key,description,Enabled,usageplanIds,Owner\n"
        f'first,{V1},An imported key,TRUE,"{gold},{silver}",ops\n'
        f"second,{V2},,false,'{gold}',ops\n"
        f"third,{V3},,,,\n"
    ).encode()
    result = apigw.import_api_keys(body=body, format="csv", failOnWarnings=False)
    assert result["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert len(result["ids"]) == 3
    assert result["warnings"] == ["line 1: column 'Owner' is not recognised; ignored"]
    assert usage_api.checks[-1] == ("apigateway:POST", "arn:aws:apigateway:us-east-1::/apikeys")
    keys = {k["name"]: k for k in apigw.get_api_keys(includeValues=True)["items"]}
    assert keys["first"]["id"] == result["ids"][0]
    assert (keys["first"]["value"], keys["first"]["enabled"]) == (V1, True)
    assert keys["first"]["description"] == "An imported key"
    assert (keys["second"]["value"], keys["second"]["enabled"]) == (V2, False)
    assert keys["third"]["enabled"] is True
    in_gold = {k["name"] for k in apigw.get_usage_plan_keys(usagePlanId=gold)["items"]}
    assert in_gold == {"first", "second"}
    assert [k["name"] for k in apigw.get_usage_plan_keys(usagePlanId=silver)["items"]] == ["first"]


def test_bad_file_names_every_bad_row_and_writes_nothing(usage_api: UsageApi) -> None:
    apigw = usage_api.client()
    gold = plan_with_stage(apigw, "prod")
    body = (
        "name,key,enabled,usageplanids\n"
        f"good,{V1},true,{gold}\n"
        "short,tooshort,true,\n"
        "\n"
        f"maybe,{V2},perhaps,\n"
        f",{V3},true,\n"
        f"dup,{V1},true,\n"
        f"lost,abcdefghijabcdefghijabcdefghij99,true,nosuchplan\n"
    ).encode()
    with pytest.raises(apigw.exceptions.BadRequestException) as caught:
        apigw.import_api_keys(body=body, format="csv", failOnWarnings=True)
    code, message, status = error_of(caught)
    assert (code, status) == ("BadRequestException", 400)
    assert message == (
        "Invalid API keys file: line 3: Key must be 30 to 128 letters and digits; "
        "line 5: Enabled must be true or false, not 'perhaps'; line 6: Name is empty; "
        "line 7: the same Key as line 2"
    )
    assert apigw.get_api_keys()["items"] == []
    # With the format problems fixed, the missing plan is what is left to report.
    fixed = f"name,key,usageplanids\ngood,{V1},{gold}\nlost,{V2},nosuchplan\n".encode()
    with pytest.raises(apigw.exceptions.BadRequestException) as caught:
        apigw.import_api_keys(body=fixed, format="csv")
    assert error_of(caught)[1] == "Invalid API keys file: line 3: no usage plan nosuchplan"
    assert apigw.get_api_keys()["items"] == []
    assert apigw.get_usage_plan_keys(usagePlanId=gold)["items"] == []


def test_import_refuses_a_file_that_would_meter_a_key_twice(usage_api: UsageApi) -> None:
    apigw = usage_api.client()
    gold = plan_with_stage(apigw, "prod")
    other = apigw.create_usage_plan(name="other", apiStages=[{"apiId": "a1", "stage": "prod"}])[
        "id"
    ]
    body = f'name,key,usageplanids\nk,{V1},"{gold},{other}"\n'.encode()
    with pytest.raises(apigw.exceptions.BadRequestException) as caught:
        apigw.import_api_keys(body=body, format="csv")
    assert error_of(caught)[1] == (
        f"Invalid API keys file: line 2: usage plans {gold} and {other} "
        "both meter API stage a1:prod"
    )
    assert apigw.get_api_keys()["items"] == []


def test_reimport_overwrites_the_key_with_the_same_value(usage_api: UsageApi) -> None:
    apigw = usage_api.client()
    first = apigw.import_api_keys(body=f"Name,Key\nold name,{V1}\n".encode(), format="csv")["ids"]
    again = apigw.import_api_keys(
        body=f"Name,Key,Description,Enabled\nnew name,{V1},now described,false\n".encode(),
        format="csv",
    )["ids"]
    assert again == first
    items = apigw.get_api_keys(includeValues=True)["items"]
    assert [(k["name"], k.get("description"), k["enabled"], k["value"]) for k in items] == [
        ("new name", "now described", False, V1)
    ]


def test_fail_on_warnings(usage_api: UsageApi) -> None:
    apigw = usage_api.client()
    body = f"Name,Key,Color\nk,{V1},red\n".encode()
    with pytest.raises(apigw.exceptions.BadRequestException) as caught:
        apigw.import_api_keys(body=body, format="csv", failOnWarnings=True)
    assert "Color" in error_of(caught)[1]
    assert apigw.get_api_keys()["items"] == []
    assert len(apigw.import_api_keys(body=body, format="csv")["ids"]) == 1


def test_import_header_problems(usage_api: UsageApi) -> None:
    apigw = usage_api.client(validate=False)
    for body, fragment in (
        (b"", "the file is empty"),
        (b"Name,Description\nk,d\n", "the header has no Key column"),
        (b"\xff\xfe\x00", "not UTF-8"),
    ):
        with pytest.raises(ClientError) as caught:
            apigw.import_api_keys(body=body, format="csv")
        assert fragment in error_of(caught)[1]
    with pytest.raises(ClientError) as caught:
        apigw.import_api_keys(body=f"Name,Key\nk,{V1}\n".encode(), format="json")
    assert error_of(caught)[0] == "BadRequestException"
    assert apigw.get_api_keys()["items"] == []


# Usage.


def charge(
    api: UsageApi, key_id: str, plan_id: str, n: int, *, limit: int, window: str, end: float
) -> None:
    """Count `n` requests as the meter step does, on the fixture's clock."""
    now = api.clock.now()
    for _ in range(n):
        api.run(
            api.counters.consume(
                key_id, plan_id, day_of(now), limit=limit, window=window, expires_at=end, now=now
            )
        )


def test_get_usage_per_day_with_remaining_quota(usage_api: UsageApi) -> None:
    apigw = usage_api.client()
    plan_id = plan_with_stage(apigw, "prod", quota={"limit": 100, "period": "MONTH", "offset": 0})
    key_id = apigw.create_api_key(name="k")["id"]
    apigw.create_usage_plan_key(usagePlanId=plan_id, keyId=key_id, keyType="API_KEY")
    month_end = 1_796_083_200.0  # 2026-12-01
    usage_api.clock.advance(-2 * 86_400)  # 2026-11-27
    charge(usage_api, key_id, plan_id, 5, limit=100, window="2026-11", end=month_end)
    usage_api.clock.advance(2 * 86_400)  # 2026-11-29 (today)
    charge(usage_api, key_id, plan_id, 3, limit=100, window="2026-11", end=month_end)
    report = apigw.get_usage(usagePlanId=plan_id, startDate="2026-11-26", endDate="2026-11-30")
    assert report["usagePlanId"] == plan_id
    assert (report["startDate"], report["endDate"]) == ("2026-11-26", "2026-11-30")
    assert report["items"] == {key_id: [[0, 100], [5, 95], [0, 95], [3, 92], [0, 92]]}
    assert usage_api.checks[-1] == (
        "apigateway:GET",
        f"arn:aws:apigateway:us-east-1::/usageplans/{plan_id}/usage",
    )
    only = apigw.get_usage(
        usagePlanId=plan_id, startDate="2026-11-29", endDate="2026-11-29", keyId=key_id
    )
    assert only["items"] == {key_id: [[3, 92]]}


def test_update_usage_sets_what_remains_this_period(usage_api: UsageApi) -> None:
    apigw = usage_api.client()
    plan_id = plan_with_stage(apigw, "prod", quota={"limit": 10, "period": "WEEK", "offset": 0})
    key_id = apigw.create_api_key(name="k")["id"]
    apigw.create_usage_plan_key(usagePlanId=plan_id, keyId=key_id, keyType="API_KEY")
    week_end = 1_795_996_800.0  # Monday 2026-11-30
    charge(usage_api, key_id, plan_id, 4, limit=10, window="2026-W48", end=week_end)
    report = apigw.update_usage(
        usagePlanId=plan_id,
        keyId=key_id,
        patchOperations=[{"op": "replace", "path": "/remaining", "value": "50"}],
    )
    assert report["usagePlanId"] == plan_id
    assert (report["startDate"], report["endDate"]) == ("2026-11-23", "2026-11-29")
    assert report["items"][key_id][-1] == [4, 50]
    assert usage_api.checks[-1] == (
        "apigateway:PATCH",
        f"arn:aws:apigateway:us-east-1::/usageplans/{plan_id}/keys/{key_id}/usage",
    )
    used = usage_api.run(usage_api.counters.quota_used(key_id, plan_id, "2026-W48"))
    assert used == -40
    with pytest.raises(apigw.exceptions.BadRequestException):
        apigw.update_usage(
            usagePlanId=plan_id,
            keyId=key_id,
            patchOperations=[{"op": "replace", "path": "/used", "value": "5"}],
        )
    other = apigw.create_api_key(name="not in the plan")["id"]
    with pytest.raises(apigw.exceptions.NotFoundException):
        apigw.update_usage(
            usagePlanId=plan_id,
            keyId=other,
            patchOperations=[{"op": "replace", "path": "/remaining", "value": "5"}],
        )


def test_usage_without_quota_and_date_checks(usage_api: UsageApi) -> None:
    apigw = usage_api.client()
    plan_id = plan_with_stage(apigw, "prod")
    key_id = apigw.create_api_key(name="k")["id"]
    apigw.create_usage_plan_key(usagePlanId=plan_id, keyId=key_id, keyType="API_KEY")
    usage_api.run(usage_api.counters.record(key_id, plan_id, "2026-11-29", 7))
    report = apigw.get_usage(usagePlanId=plan_id, startDate="2026-11-28", endDate="2026-11-29")
    assert report["items"] == {key_id: [[0, 0], [7, 0]]}
    for start, end in (
        ("2026-11-30", "2026-11-29"),
        ("yesterday", "2026-11-29"),
        ("2020-01-01", "2026-11-29"),
    ):
        with pytest.raises(apigw.exceptions.BadRequestException):
            apigw.get_usage(usagePlanId=plan_id, startDate=start, endDate=end)
    with pytest.raises(apigw.exceptions.NotFoundException):
        apigw.get_usage(usagePlanId="nosuch", startDate="2026-11-28", endDate="2026-11-29")
    with pytest.raises(apigw.exceptions.BadRequestException):
        apigw.update_usage(
            usagePlanId=plan_id,
            keyId=key_id,
            patchOperations=[{"op": "replace", "path": "/remaining", "value": "5"}],
        )


def test_usage_pages_by_key(usage_api: UsageApi) -> None:
    apigw = usage_api.client()
    plan_id = plan_with_stage(apigw, "prod")
    key_ids = []
    for n in range(3):
        key_id = apigw.create_api_key(name=f"k{n}")["id"]
        apigw.create_usage_plan_key(usagePlanId=plan_id, keyId=key_id, keyType="API_KEY")
        key_ids.append(key_id)
    first = apigw.get_usage(
        usagePlanId=plan_id, startDate="2026-11-29", endDate="2026-11-29", limit=2
    )
    rest = apigw.get_usage(
        usagePlanId=plan_id,
        startDate="2026-11-29",
        endDate="2026-11-29",
        limit=2,
        position=first["position"],
    )
    assert "position" not in rest
    assert sorted([*first["items"], *rest["items"]]) == sorted(key_ids)
