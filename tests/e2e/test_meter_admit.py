"""The meter step over one `admit` per API-key request, end to end on memory and Redis counters:
a level that refuses takes nothing from the others (nor from the account), AWS's two 429s stay
apart, and a counter store that is down fails API-key requests closed whatever the throttle
policy says, while the policy still governs requests without a key."""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from authgate.app import Application
from authgate.clock import ManualClock
from authgate.settings import load_settings
from tests.e2e.test_usage_plans import API, Setup, admin_client, make_plan, signing_at
from tests.support import LoopThread, RunningGateway, free_port

Start = Callable[..., Setup]
STAGE = {"name": "prod", "method_throttles": {"/pets/POST": {"rate": 1, "burst": 1}}}


@pytest.fixture(params=["memory", "redis"])
def counters(request: pytest.FixtureRequest) -> str:
    if request.param == "memory":
        return "memory://"
    # A database of its own, emptied first: these gateways run on a manual clock, and buckets
    # stamped with it must not meet other tests' (the account bucket has one name everywhere).
    url = request.getfixturevalue("redis_url").rsplit("/", 1)[0] + "/5"
    from redis import Redis

    with Redis.from_url(url) as raw:
        raw.flushdb()
    return url


@pytest.fixture
def start(
    tmp_path: Path, loop_thread: LoopThread, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Start]:
    """Start a gateway on `counters` with extra settings."""
    clock = ManualClock(datetime.datetime(2026, 11, 22, 12, tzinfo=datetime.UTC).timestamp())
    signing_at(clock, monkeypatch)
    (tmp_path / "api.yaml").write_text(json.dumps(API))
    started: list[RunningGateway] = []

    def run(counters: str, **settings: Any) -> Setup:
        config = {
            "data_dir": "data",
            "access_log": "access.log",
            "counters": counters,
            "apis": [{"id": "pets01", "definition": "api.yaml", "stages": [STAGE]}],
            **settings,
        }
        (tmp_path / "authgate.yaml").write_text(json.dumps(config))
        app = Application(load_settings(tmp_path / "authgate.yaml"), clock=clock)
        gateway = RunningGateway(app, loop_thread)
        started.append(gateway)
        return Setup(gateway, clock, admin_client(gateway, tmp_path), tmp_path)

    yield run
    for gateway in started:
        gateway.stop()


def post(setup: Setup, key: str) -> httpx.Response:
    return httpx.post(f"{setup.gateway.url}/prod/pets", headers={"x-api-key": key})


def answers(responses: list[httpx.Response]) -> list[tuple[int, str]]:
    return [(response.status_code, response.json()["message"]) for response in responses]


def test_a_spent_quota_takes_no_token_from_the_plan(start: Start, counters: str) -> None:
    setup = start(counters)
    plan_id, key_id, value = make_plan(
        setup.apigw,
        throttle={"rateLimit": 0.001, "burstLimit": 3},
        quota={"limit": 2, "period": "DAY"},
    )
    refused = [setup.get("/pets", value) for _ in range(4)][2:]
    assert answers(refused) == [(429, "Limit Exceeded")] * 2
    setup.apigw.update_usage(
        usagePlanId=plan_id,
        keyId=key_id,
        patchOperations=[{"op": "replace", "path": "/remaining", "value": "5"}],
    )
    # The plan's third token is still there; the requests the quota refused took none.
    assert setup.get("/pets", value).status_code == 200
    assert answers([setup.get("/pets", value)]) == [(429, "Too Many Requests")]
    usage = setup.apigw.get_usage(usagePlanId=plan_id, startDate="2026-11-22", endDate="2026-11-22")
    assert usage["items"][key_id] == [[3, 4]]  # used 2 - 5 + 1 = -2 in the window


def test_a_stage_refusal_takes_nothing_from_the_plan_or_the_quota(
    start: Start, counters: str
) -> None:
    setup = start(counters)
    plan_id, key_id, value = make_plan(
        setup.apigw,
        throttle={"rateLimit": 0.001, "burstLimit": 2},
        quota={"limit": 10, "period": "DAY"},
    )
    first, second = post(setup, value), post(setup, value)  # the stage's POST burst is 1
    assert first.status_code == 200
    assert answers([second]) == [(429, "Too Many Requests")]
    setup.clock.advance(1.0)  # the stage refills; the plan (0.001/s) does not
    assert post(setup, value).status_code == 200  # the plan's second token, still there
    assert answers([post(setup, value)]) == [(429, "Too Many Requests")]
    usage = setup.apigw.get_usage(usagePlanId=plan_id, startDate="2026-11-22", endDate="2026-11-22")
    assert usage["items"][key_id] == [[2, 8]]


def test_refused_requests_give_their_account_token_back(start: Start, counters: str) -> None:
    setup = start(counters, account_throttle={"rate": 0, "burst": 4})
    _, _, throttled = make_plan(setup.apigw, throttle={"rateLimit": 0.001, "burstLimit": 1})
    statuses = [setup.get("/pets", throttled).status_code for _ in range(6)]
    assert statuses == [200] + [429] * 5
    # Three of the account's four tokens are left for anyone, whatever that key tried.
    _, _, other = make_plan(setup.apigw)
    assert [setup.get("/pets", other).status_code for _ in range(4)] == [200, 200, 200, 429]
    assert setup.get("/free").status_code == 429


@pytest.mark.parametrize("fail_open", [True, False])
def test_counters_down_fail_key_requests_closed(start: Start, fail_open: bool) -> None:
    setup = start(
        f"redis://127.0.0.1:{free_port()}/0",  # nothing listens there
        throttle_fail_open=fail_open,
        apis=[
            {
                "id": "pets01",
                "definition": "api.yaml",
                "stages": [{**STAGE, "throttle": {"rate": 100, "burst": 100}}],
            }
        ],
    )
    _, _, value = make_plan(setup.apigw, throttle={"rateLimit": 10.0, "burstLimit": 10})
    down = setup.get("/pets", value)
    assert (down.status_code, down.json()) == (500, {"message": "Internal server error"})
    # Without a key only throttles meter the request: the operator's policy decides.
    assert setup.get("/free").status_code == (200 if fail_open else 500)
    assert setup.get("/pets", value).status_code == 500


def test_each_day_counts_its_own_usage_and_each_window_its_own_quota(
    start: Start, counters: str
) -> None:
    setup = start(counters)
    plan_id, key_id, value = make_plan(setup.apigw, quota={"limit": 1, "period": "DAY"})
    free_plan, free_key, unlimited = make_plan(setup.apigw)
    statuses = []
    for _ in range(2):
        statuses += [setup.get("/pets", value).status_code for _ in range(2)]
        statuses.append(setup.get("/pets", unlimited).status_code)
        setup.clock.advance(86_400)
    assert statuses == [200, 429, 200] * 2
    days = {"startDate": "2026-11-22", "endDate": "2026-11-23"}
    usage = setup.apigw.get_usage(usagePlanId=plan_id, keyId=key_id, **days)
    assert usage["items"][key_id] == [[1, 0], [1, 0]]
    usage = setup.apigw.get_usage(usagePlanId=free_plan, keyId=free_key, **days)
    assert [used for used, _ in usage["items"][free_key]] == [1, 1]
