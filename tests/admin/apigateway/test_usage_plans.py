"""Usage plans and their keys through boto3's real `apigateway` client."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.admin.apigateway.conftest import UsageApi
from tests.admin.apigateway.test_api_keys import error_of

REGION_ARN = "arn:aws:apigateway:us-east-1::"


def plan(apigw: Any, name: str = "gold", **extra: Any) -> dict[str, Any]:
    created: dict[str, Any] = apigw.create_usage_plan(name=name, **extra)
    return created


def test_create_echoes_what_was_set(usage_api: UsageApi) -> None:
    apigw = usage_api.client()
    created = plan(
        apigw,
        description="the gold plan",
        apiStages=[
            {
                "apiId": "a1b2c3",
                "stage": "prod",
                "throttle": {"/pets/GET": {"rateLimit": 1.5, "burstLimit": 3}},
            },
            {"apiId": "a1b2c3", "stage": "dev"},
        ],
        throttle={"burstLimit": 10, "rateLimit": 5.0},
        quota={"limit": 1000, "period": "DAY", "offset": 0},
        tags={"tier": "gold"},
    )
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert len(created["id"]) == 6
    assert created["apiStages"] == [
        {
            "apiId": "a1b2c3",
            "stage": "prod",
            "throttle": {"/pets/GET": {"rateLimit": 1.5, "burstLimit": 3}},
        },
        {"apiId": "a1b2c3", "stage": "dev"},
    ]
    assert created["throttle"] == {"burstLimit": 10, "rateLimit": 5.0}
    assert created["quota"] == {"limit": 1000, "offset": 0, "period": "DAY"}
    assert created["tags"] == {"tier": "gold"}
    got = apigw.get_usage_plan(usagePlanId=created["id"])
    assert {k: v for k, v in got.items() if k != "ResponseMetadata"} == {
        k: v for k, v in created.items() if k != "ResponseMetadata"
    }
    assert usage_api.checks[-1] == ("apigateway:GET", f"{REGION_ARN}/usageplans/{created['id']}")


def test_minimal_plan_has_no_throttle_quota_or_tags(usage_api: UsageApi) -> None:
    apigw = usage_api.client()
    created = plan(apigw, name="basic")
    assert "throttle" not in created
    assert "quota" not in created
    assert "tags" not in created
    assert created["apiStages"] == []
    assert apigw.get_usage_plan(usagePlanId=created["id"])["tags"] == {}


def test_create_validates(usage_api: UsageApi) -> None:
    apigw = usage_api.client(validate=False)
    bad: list[dict[str, Any]] = [
        {"name": ""},
        {"name": "p", "quota": {"limit": 10}},
        {"name": "p", "quota": {"limit": 10, "period": "YEAR"}},
        {"name": "p", "quota": {"limit": 10, "period": "DAY", "offset": 11}},
        {"name": "p", "throttle": {"rateLimit": -1}},
        {"name": "p", "apiStages": [{"apiId": "a", "stage": "s"}, {"apiId": "a", "stage": "s"}]},
        {
            "name": "p",
            "apiStages": [{"apiId": "a", "stage": "s", "throttle": {"pets/GET": {"rateLimit": 1}}}],
        },
        {
            "name": "p",
            "apiStages": [
                {"apiId": "a", "stage": "s", "throttle": {"/pets/FETCH": {"rateLimit": 1}}}
            ],
        },
        {
            "name": "p",
            "apiStages": [
                {
                    "apiId": "a",
                    "stage": "s",
                    "throttle": {f"/r{n}/GET": {"rateLimit": 1} for n in range(21)},
                }
            ],
        },
    ]
    for kwargs in bad:
        with pytest.raises(ClientError) as caught:
            apigw.create_usage_plan(**kwargs)
        assert error_of(caught)[0] == "BadRequestException", kwargs
    assert apigw.get_usage_plans()["items"] == []


def test_plan_limit(usage_api: UsageApi) -> None:
    apigw = usage_api.client()
    for n in range(5):
        plan(apigw, name=f"p{n}")
    with pytest.raises(apigw.exceptions.LimitExceededException) as caught:
        plan(apigw, name="one too many")
    assert error_of(caught)[2] == 429


def test_list_pages_and_filters_by_key(usage_api: UsageApi) -> None:
    apigw = usage_api.client()
    ids = [
        plan(apigw, name=f"plan-{n}", apiStages=[{"apiId": "api", "stage": f"s{n}"}])["id"]
        for n in range(4)
    ]
    first = apigw.get_usage_plans(limit=3)
    assert [p["name"] for p in first["items"]] == ["plan-0", "plan-1", "plan-2"]
    second = apigw.get_usage_plans(limit=3, position=first["position"])
    assert [p["name"] for p in second["items"]] == ["plan-3"]
    assert "position" not in second
    key_id = apigw.create_api_key(name="k")["id"]
    apigw.create_usage_plan_key(usagePlanId=ids[1], keyId=key_id, keyType="API_KEY")
    apigw.create_usage_plan_key(usagePlanId=ids[3], keyId=key_id, keyType="API_KEY")
    assert [p["id"] for p in apigw.get_usage_plans(keyId=key_id)["items"]] == [ids[1], ids[3]]


def test_patch_throttle_quota_and_stages(usage_api: UsageApi) -> None:
    apigw = usage_api.client()
    plan_id = plan(apigw, description="before", apiStages=[{"apiId": "a1", "stage": "dev"}])["id"]
    updated = apigw.update_usage_plan(
        usagePlanId=plan_id,
        patchOperations=[
            {"op": "replace", "path": "/throttle/burstLimit", "value": "100"},
            {"op": "replace", "path": "/throttle/rateLimit", "value": "200"},
            {"op": "replace", "path": "/quota/period", "value": "MONTH"},
            {"op": "replace", "path": "/quota/limit", "value": "5000"},
            {"op": "replace", "path": "/name", "value": "platinum"},
            {"op": "replace", "path": "/description", "value": "after"},
            {"op": "add", "path": "/apiStages", "value": "a1:prod"},
            {"op": "remove", "path": "/apiStages", "value": "a1:dev"},
        ],
    )
    assert updated["throttle"] == {"burstLimit": 100, "rateLimit": 200.0}
    assert updated["quota"] == {"limit": 5000, "offset": 0, "period": "MONTH"}
    assert (updated["name"], updated["description"]) == ("platinum", "after")
    assert updated["apiStages"] == [{"apiId": "a1", "stage": "prod"}]
    assert updated["tags"] == {}
    assert usage_api.checks[-1] == ("apigateway:PATCH", f"{REGION_ARN}/usageplans/{plan_id}")
    removed = apigw.update_usage_plan(
        usagePlanId=plan_id,
        patchOperations=[
            {"op": "remove", "path": "/throttle"},
            {"op": "remove", "path": "/quota"},
        ],
    )
    assert "throttle" not in removed
    assert "quota" not in removed


def test_patch_method_throttles(usage_api: UsageApi) -> None:
    apigw = usage_api.client()
    plan_id = plan(apigw, apiStages=[{"apiId": "a1", "stage": "prod"}])["id"]
    base = "/apiStages/a1:prod/throttle"
    updated = apigw.update_usage_plan(
        usagePlanId=plan_id,
        patchOperations=[
            {"op": "replace", "path": f"{base}/~1pets/GET/rateLimit", "value": "1.5"},
            {"op": "replace", "path": f"{base}/~1pets/GET/burstLimit", "value": "3"},
            {"op": "replace", "path": f"{base}//pets/{{id}}/DELETE/rateLimit", "value": "0.5"},
            {"op": "replace", "path": f"{base}/~1/GET/rateLimit", "value": "10"},
            {"op": "replace", "path": f"{base}/~1/GET/burstLimit", "value": "20"},
        ],
    )
    assert updated["apiStages"][0]["throttle"] == {
        "//GET": {"burstLimit": 20, "rateLimit": 10.0},
        "/pets/GET": {"burstLimit": 3, "rateLimit": 1.5},
        "/pets/{id}/DELETE": {"rateLimit": 0.5},
    }
    updated = apigw.update_usage_plan(
        usagePlanId=plan_id,
        patchOperations=[{"op": "remove", "path": f"{base}/~1pets/GET"}],
    )
    assert set(updated["apiStages"][0]["throttle"]) == {"//GET", "/pets/{id}/DELETE"}
    updated = apigw.update_usage_plan(
        usagePlanId=plan_id, patchOperations=[{"op": "remove", "path": base}]
    )
    assert updated["apiStages"] == [{"apiId": "a1", "stage": "prod"}]


def test_patch_errors_as_aws_answers_them(usage_api: UsageApi) -> None:
    apigw = usage_api.client()
    plan_id = plan(apigw, apiStages=[{"apiId": "a1", "stage": "dev"}])["id"]
    cases = [
        (
            [{"op": "remove", "path": "/apiStages"}],
            ("BadRequestException", "Invalid API Stage specified", 400),
        ),
        (
            [{"op": "remove", "path": "/apiStages", "value": "fakevalue"}],
            ("BadRequestException", "Invalid API Stage specified", 400),
        ),
        (
            [{"op": "remove", "path": "/apiStages", "value": "a1b:dev"}],
            (
                "NotFoundException",
                f"Invalid API Stage {{api: a1b, stage: dev}} specified for usageplan {plan_id}",
                404,
            ),
        ),
        (
            [
                {
                    "op": "replace",
                    "path": "/apiStages/a1:prod/throttle/~1pets/GET/rateLimit",
                    "value": "1",
                }
            ],
            (
                "NotFoundException",
                f"Invalid API Stage {{api: a1, stage: prod}} specified for usageplan {plan_id}",
                404,
            ),
        ),
        (
            [{"op": "replace", "path": "/quota/period", "value": "MONTH"}],
            ("BadRequestException", "A usage plan quota needs both a limit and a period", 400),
        ),
        (
            [{"op": "replace", "path": "/throttle/rateLimit", "value": "fast"}],
            (
                "BadRequestException",
                "Invalid number value specified for /throttle/rateLimit: 'fast'",
                400,
            ),
        ),
    ]
    for operations, expected in cases:
        with pytest.raises(ClientError) as caught:
            apigw.update_usage_plan(usagePlanId=plan_id, patchOperations=operations)
        assert error_of(caught) == expected
    with pytest.raises(ClientError) as caught:
        apigw.update_usage_plan(
            usagePlanId=plan_id + "1",
            patchOperations=[{"op": "replace", "path": "/throttle/burstLimit", "value": "100"}],
        )
    assert error_of(caught) == ("NotFoundException", "Invalid Usage Plan ID specified", 404)
    with pytest.raises(ClientError) as caught:
        apigw.update_usage_plan(
            usagePlanId=plan_id,
            patchOperations=[{"op": "replace", "path": "/productCode", "value": "x"}],
        )
    assert error_of(caught)[0] == "BadRequestException"
    unchanged = apigw.get_usage_plan(usagePlanId=plan_id)
    assert unchanged["apiStages"] == [{"apiId": "a1", "stage": "dev"}]
    assert "quota" not in unchanged


def test_delete_plan(usage_api: UsageApi) -> None:
    apigw = usage_api.client()
    plan_id = plan(apigw, apiStages=[{"apiId": "a1", "stage": "prod"}])["id"]
    key_id = apigw.create_api_key(name="k")["id"]
    apigw.create_usage_plan_key(usagePlanId=plan_id, keyId=key_id, keyType="API_KEY")
    response = apigw.delete_usage_plan(usagePlanId=plan_id)
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 202
    with pytest.raises(apigw.exceptions.NotFoundException):
        apigw.get_usage_plan(usagePlanId=plan_id)
    with pytest.raises(apigw.exceptions.NotFoundException):
        apigw.delete_usage_plan(usagePlanId=plan_id)
    assert apigw.get_api_key(apiKey=key_id)["name"] == "k"
    other = plan(apigw, name="other", apiStages=[{"apiId": "a1", "stage": "prod"}])["id"]
    apigw.create_usage_plan_key(usagePlanId=other, keyId=key_id, keyType="API_KEY")


# Plan keys.


def test_plan_keys_show_name_and_value(usage_api: UsageApi) -> None:
    apigw = usage_api.client()
    plan_id = plan(apigw, apiStages=[{"apiId": "a1", "stage": "prod"}])["id"]
    key = apigw.create_api_key(name="k1", enabled=True)
    added = apigw.create_usage_plan_key(usagePlanId=plan_id, keyId=key["id"], keyType="API_KEY")
    assert added["ResponseMetadata"]["HTTPStatusCode"] == 201
    expected = {"id": key["id"], "type": "API_KEY", "value": key["value"], "name": "k1"}
    assert {k: v for k, v in added.items() if k != "ResponseMetadata"} == expected
    got = apigw.get_usage_plan_key(usagePlanId=plan_id, keyId=key["id"])
    assert {k: v for k, v in got.items() if k != "ResponseMetadata"} == expected
    assert apigw.get_usage_plan_keys(usagePlanId=plan_id)["items"] == [expected]
    assert usage_api.checks[-1] == ("apigateway:GET", f"{REGION_ARN}/usageplans/{plan_id}/keys")
    removed = apigw.delete_usage_plan_key(usagePlanId=plan_id, keyId=key["id"])
    assert removed["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert usage_api.checks[-1] == (
        "apigateway:DELETE",
        f"{REGION_ARN}/usageplans/{plan_id}/keys/{key['id']}",
    )
    assert apigw.get_usage_plan_keys(usagePlanId=plan_id)["items"] == []
    with pytest.raises(apigw.exceptions.NotFoundException) as caught:
        apigw.get_usage_plan_key(usagePlanId=plan_id, keyId=key["id"])
    assert error_of(caught)[1] == "Invalid API Key identifier specified"


def test_plan_key_list_filters_and_pages(usage_api: UsageApi) -> None:
    apigw = usage_api.client()
    plan_id = plan(apigw)["id"]
    for name in ("a-1", "a-2", "a-3", "b-1"):
        key_id = apigw.create_api_key(name=name)["id"]
        apigw.create_usage_plan_key(usagePlanId=plan_id, keyId=key_id, keyType="API_KEY")
    assert [
        k["name"] for k in apigw.get_usage_plan_keys(usagePlanId=plan_id, nameQuery="a-")["items"]
    ] == [
        "a-1",
        "a-2",
        "a-3",
    ]
    first = apigw.get_usage_plan_keys(usagePlanId=plan_id, limit=3)
    rest = apigw.get_usage_plan_keys(usagePlanId=plan_id, limit=3, position=first["position"])
    assert [k["name"] for k in first["items"] + rest["items"]] == ["a-1", "a-2", "a-3", "b-1"]


def test_plan_key_errors(usage_api: UsageApi) -> None:
    apigw = usage_api.client(validate=False)
    plan_id = plan(apigw)["id"]
    key_id = apigw.create_api_key(name="k")["id"]
    with pytest.raises(ClientError) as caught:
        apigw.create_usage_plan_key(usagePlanId="nosuch", keyId=key_id, keyType="API_KEY")
    assert error_of(caught) == ("NotFoundException", "Invalid Usage Plan ID specified", 404)
    with pytest.raises(ClientError) as caught:
        apigw.create_usage_plan_key(usagePlanId=plan_id, keyId="nosuchkey0", keyType="API_KEY")
    assert error_of(caught) == ("NotFoundException", "Invalid API Key identifier specified", 404)
    with pytest.raises(ClientError) as caught:
        apigw.create_usage_plan_key(usagePlanId=plan_id, keyId=key_id, keyType="OAUTH")
    assert error_of(caught)[0] == "BadRequestException"
    apigw.create_usage_plan_key(usagePlanId=plan_id, keyId=key_id, keyType="API_KEY")
    with pytest.raises(ClientError) as caught:
        apigw.create_usage_plan_key(usagePlanId=plan_id, keyId=key_id, keyType="API_KEY")
    assert error_of(caught)[0] == "ConflictException"
    with pytest.raises(ClientError) as caught:
        apigw.get_usage_plan_keys(usagePlanId="nosuch")
    assert error_of(caught)[1] == "Invalid Usage Plan ID specified"


def test_one_plan_per_api_stage(usage_api: UsageApi) -> None:
    apigw = usage_api.client()
    gold = plan(apigw, name="gold", apiStages=[{"apiId": "a1", "stage": "prod"}])["id"]
    silver = plan(
        apigw,
        name="silver",
        apiStages=[{"apiId": "a1", "stage": "prod"}, {"apiId": "a1", "stage": "dev"}],
    )["id"]
    bronze = plan(apigw, name="bronze", apiStages=[{"apiId": "a1", "stage": "dev"}])["id"]
    key_id = apigw.create_api_key(name="k")["id"]
    apigw.create_usage_plan_key(usagePlanId=gold, keyId=key_id, keyType="API_KEY")
    with pytest.raises(apigw.exceptions.ConflictException) as caught:
        apigw.create_usage_plan_key(usagePlanId=silver, keyId=key_id, keyType="API_KEY")
    assert error_of(caught) == (
        "ConflictException",
        f"Usage Plan {silver} cannot be added because API Key {key_id} cannot reference "
        "multiple Usage Plans with the same API Stage: a1:prod",
        409,
    )
    apigw.create_usage_plan_key(usagePlanId=bronze, keyId=key_id, keyType="API_KEY")
    # A plan may not gain a stage on which one of its keys is metered by another plan.
    with pytest.raises(apigw.exceptions.ConflictException):
        apigw.update_usage_plan(
            usagePlanId=bronze,
            patchOperations=[{"op": "add", "path": "/apiStages", "value": "a1:prod"}],
        )
    assert apigw.get_usage_plan(usagePlanId=bronze)["apiStages"] == [
        {"apiId": "a1", "stage": "dev"}
    ]
    # Once gold lets go of the stage, bronze may take it.
    apigw.update_usage_plan(
        usagePlanId=gold,
        patchOperations=[{"op": "remove", "path": "/apiStages", "value": "a1:prod"}],
    )
    apigw.update_usage_plan(
        usagePlanId=bronze,
        patchOperations=[{"op": "add", "path": "/apiStages", "value": "a1:prod"}],
    )
    snapshot = usage_api.run(usage_api.view.snapshot())
    entry = next(iter(snapshot.keys_by_digest.values()))
    assert {stage: p.plan_id for stage, p in entry.plans.items()} == {
        ("a1", "prod"): bronze,
        ("a1", "dev"): bronze,
    }


def test_plans_per_key_limit(usage_api: UsageApi) -> None:
    apigw = usage_api.client()
    key_id = apigw.create_api_key(name="k")["id"]
    for n in range(3):
        plan_id = plan(apigw, name=f"p{n}")["id"]
        apigw.create_usage_plan_key(usagePlanId=plan_id, keyId=key_id, keyType="API_KEY")
    fourth = plan(apigw, name="p3")["id"]
    with pytest.raises(apigw.exceptions.LimitExceededException):
        apigw.create_usage_plan_key(usagePlanId=fourth, keyId=key_id, keyType="API_KEY")


def test_deleting_a_key_takes_it_out_of_its_plans(usage_api: UsageApi) -> None:
    apigw = usage_api.client()
    plan_id = plan(apigw, apiStages=[{"apiId": "a1", "stage": "prod"}])["id"]
    key_id = apigw.create_api_key(name="k")["id"]
    apigw.create_usage_plan_key(usagePlanId=plan_id, keyId=key_id, keyType="API_KEY")
    apigw.delete_api_key(apiKey=key_id)
    assert apigw.get_usage_plan_keys(usagePlanId=plan_id)["items"] == []
