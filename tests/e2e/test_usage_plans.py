"""API keys and usage plans end to end: boto3 `apigateway` manages them, requests are metered.

The gateway runs on 127.0.0.1 with a manual clock, so throttles refill and quota windows roll
over only when the test says so.
"""

from __future__ import annotations

import configparser
import datetime
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import botocore.auth
import httpx
import pytest
from botocore.config import Config

from authgate.app import Application
from authgate.clock import ManualClock
from authgate.settings import load_settings
from tests.support import LoopThread, RunningGateway, openapi

KEY_SCHEME = {"api_key": {"type": "apiKey", "name": "x-api-key", "in": "header"}}
MOCK = {
    "x-amazon-apigateway-integration": {
        "type": "mock",
        "requestTemplates": {"application/json": '{"statusCode": 200}'},
        "responses": {
            "default": {"statusCode": "200", "responseTemplates": {"application/json": '{"ok":1}'}}
        },
    }
}
METERED = {**MOCK, "security": [{"api_key": []}]}
API = openapi(
    {"/pets": {"get": METERED, "post": METERED}, "/free": {"get": MOCK}},
    components={"securitySchemes": KEY_SCHEME},
)


@dataclass
class Setup:
    gateway: RunningGateway
    clock: ManualClock
    apigw: Any
    tmp: Path

    def get(self, path: str, key: str | None = None) -> httpx.Response:
        headers = {"x-api-key": key} if key is not None else {}
        return httpx.get(f"{self.gateway.url}/prod{path}", headers=headers)


def start(tmp_path: Path, loop_thread: LoopThread, clock: ManualClock) -> RunningGateway:
    (tmp_path / "api.yaml").write_text(json.dumps(API))
    settings = {
        "data_dir": "data",
        "access_log": "access.log",
        "apis": [{"id": "pets01", "definition": "api.yaml", "stages": [{"name": "prod"}]}],
    }
    (tmp_path / "authgate.yaml").write_text(json.dumps(settings))
    app = Application(load_settings(tmp_path / "authgate.yaml"), clock=clock)
    return RunningGateway(app, loop_thread)


def admin_client(gateway: RunningGateway, tmp_path: Path) -> Any:
    profile = configparser.ConfigParser()
    profile.read(tmp_path / "data" / "credentials")
    return boto3.client(
        "apigateway",
        endpoint_url=gateway.url,
        region_name="us-east-1",
        aws_access_key_id=profile["default"]["aws_access_key_id"],
        aws_secret_access_key=profile["default"]["aws_secret_access_key"],
        config=Config(retries={"total_max_attempts": 1}),
    )


def signing_at(clock: ManualClock, monkeypatch: pytest.MonkeyPatch) -> None:
    """boto3 signs at the gateway's (manual) time, so the skew check agrees."""
    monkeypatch.setattr(
        botocore.auth,
        "get_current_datetime",
        lambda: datetime.datetime.fromtimestamp(clock.now(), datetime.UTC).replace(tzinfo=None),
    )


@pytest.fixture
def setup(
    tmp_path: Path, loop_thread: LoopThread, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Setup]:
    clock = ManualClock(datetime.datetime(2026, 11, 22, 12, tzinfo=datetime.UTC).timestamp())
    signing_at(clock, monkeypatch)
    gateway = start(tmp_path, loop_thread, clock)
    yield Setup(gateway, clock, admin_client(gateway, tmp_path), tmp_path)
    gateway.stop()


def make_plan(apigw: Any, **limits: Any) -> tuple[str, str, str]:
    """A plan on pets01/prod with an enabled key attached: (plan id, key id, key value)."""
    plan = apigw.create_usage_plan(
        name="gold", apiStages=[{"apiId": "pets01", "stage": "prod"}], **limits
    )
    key = apigw.create_api_key(name="k1", enabled=True)
    apigw.create_usage_plan_key(usagePlanId=plan["id"], keyId=key["id"], keyType="API_KEY")
    return plan["id"], key["id"], key["value"]


def test_key_required_unknown_disabled_and_unplanned_keys_are_forbidden(setup: Setup) -> None:
    _, key_id, value = make_plan(setup.apigw)
    assert setup.get("/free").status_code == 200
    missing = setup.get("/pets")
    assert missing.status_code == 403
    assert missing.json() == {"message": "Forbidden"}
    assert missing.headers["x-amzn-errortype"] == "ForbiddenException"
    assert setup.get("/pets", "x" * 40).status_code == 403
    ok = setup.get("/pets", value)
    assert ok.status_code == 200
    assert ok.json() == {"ok": 1}
    setup.apigw.update_api_key(
        apiKey=key_id, patchOperations=[{"op": "replace", "path": "/enabled", "value": "false"}]
    )
    assert setup.get("/pets", value).status_code == 403
    loose = setup.apigw.create_api_key(name="loose", enabled=True)
    assert setup.get("/pets", loose["value"]).status_code == 403


def test_burst_then_throttled_then_refilled(setup: Setup) -> None:
    _, _, value = make_plan(setup.apigw, throttle={"rateLimit": 1.0, "burstLimit": 2})
    assert [setup.get("/pets", value).status_code for _ in range(3)] == [200, 200, 429]
    throttled = setup.get("/pets", value)
    assert throttled.json() == {"message": "Too Many Requests"}
    assert throttled.headers["x-amzn-errortype"] == "TooManyRequestsException"
    setup.clock.advance(1.0)
    assert setup.get("/pets", value).status_code == 200


def test_method_throttle_overrides_the_plan(setup: Setup) -> None:
    plan_id, _, value = make_plan(setup.apigw, throttle={"rateLimit": 100.0, "burstLimit": 100})
    setup.apigw.update_usage_plan(
        usagePlanId=plan_id,
        patchOperations=[
            {
                "op": "replace",
                "path": "/apiStages/pets01:prod/throttle/~1pets/POST/rateLimit",
                "value": "1",
            },
            {
                "op": "replace",
                "path": "/apiStages/pets01:prod/throttle/~1pets/POST/burstLimit",
                "value": "1",
            },
        ],
    )
    post = [
        httpx.post(f"{setup.gateway.url}/prod/pets", headers={"x-api-key": value}).status_code
        for _ in range(2)
    ]
    assert post == [200, 429]
    assert setup.get("/pets", value).status_code == 200


def test_quota_exhausted_and_usage_read_back(setup: Setup) -> None:
    plan_id, key_id, value = make_plan(setup.apigw, quota={"limit": 3, "period": "DAY"})
    assert [setup.get("/pets", value).status_code for _ in range(4)] == [200, 200, 200, 429]
    exceeded = setup.get("/pets", value)
    assert exceeded.json() == {"message": "Limit Exceeded"}
    assert exceeded.headers["x-amzn-errortype"] == "LimitExceededException"
    usage = setup.apigw.get_usage(usagePlanId=plan_id, startDate="2026-11-22", endDate="2026-11-22")
    assert usage["items"][key_id][0][0] == 3
    setup.clock.advance(12 * 3600)  # the next UTC day: a new window
    assert setup.get("/pets", value).status_code == 200


def test_import_keys_from_csv(setup: Setup) -> None:
    good = "Name,Key,Enabled\nalpha,abcdefghijklmnopqrstuvwxyz0123,true\n"
    imported = setup.apigw.import_api_keys(body=good.encode(), format="csv")
    assert len(imported["ids"]) == 1
    bad = "Name,Key\nbeta,short\n"
    with pytest.raises(setup.apigw.exceptions.BadRequestException):
        setup.apigw.import_api_keys(body=bad.encode(), format="csv")
    names = {item["name"] for item in setup.apigw.get_api_keys()["items"]}
    assert "alpha" in names
    assert "beta" not in names


def test_usage_survives_a_restart(
    tmp_path: Path, loop_thread: LoopThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = ManualClock(datetime.datetime(2026, 11, 22, 12, tzinfo=datetime.UTC).timestamp())
    signing_at(clock, monkeypatch)
    gateway = start(tmp_path, loop_thread, clock)
    apigw = admin_client(gateway, tmp_path)
    _, _, value = make_plan(apigw, quota={"limit": 3, "period": "DAY"})
    statuses = [
        httpx.get(f"{gateway.url}/prod/pets", headers={"x-api-key": value}).status_code
        for _ in range(2)
    ]
    assert statuses == [200, 200]
    gateway.stop()
    again = start(tmp_path, loop_thread, clock)
    try:
        after = [
            httpx.get(f"{again.url}/prod/pets", headers={"x-api-key": value}).status_code
            for _ in range(2)
        ]
        assert after == [200, 429]
    finally:
        again.stop()
