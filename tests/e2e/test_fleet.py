"""A fleet: two gateway processes sharing one records database and one real Redis.

The scale-out mode keeps records in PostgreSQL and counters in Redis; the same fleet also runs
on one SQLite file (one host) for comparison. Either way: a burst of concurrent requests spread
over both processes admits no more than the usage plan allows, and what one process changes
(an API key disabled, an access key made inactive, a REST API imported and deployed) reaches
the other through the change feed within seconds.
"""

from __future__ import annotations

import configparser
import json
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.e2e.test_rest_apis import pets
from tests.e2e.test_usage_plans import API
from tests.postgres_service import scratch_database
from tests.support import free_port, serve_gateway, wait_for

FEED = 5.0
"""How long a change may take to reach the other process (the feed polls every second)."""


@dataclass
class Fleet:
    urls: list[str]
    data_dir: Path

    def client(self, service: str, index: int, key: tuple[str, str] | None = None) -> Any:
        """A boto3 client of process `index`, as the administrator unless `key` is given."""
        if key is None:
            profile = configparser.ConfigParser()
            profile.read(self.data_dir / "credentials")
            key = (
                profile["default"]["aws_access_key_id"],
                profile["default"]["aws_secret_access_key"],
            )
        return boto3.client(
            service,
            endpoint_url=self.urls[index],
            region_name="us-east-1",
            aws_access_key_id=key[0],
            aws_secret_access_key=key[1],
            config=Config(retries={"total_max_attempts": 1}, read_timeout=10),
        )


def up(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=0.5).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.fixture(scope="module", params=["postgres", "sqlite"])
def fleet(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, redis_url: str
) -> Iterator[Fleet]:
    """Two processes for the whole module (tests use keys, plans and APIs of their own)."""
    directory = tmp_path_factory.mktemp(f"fleet-{request.param}")
    (directory / "api.yaml").write_text(json.dumps(API))
    settings = {
        "data_dir": "data",
        "access_log": "access.log",
        "counters": redis_url,
        "apis": [{"id": "pets01", "definition": "api.yaml", "stages": [{"name": "prod"}]}],
    }
    processes: list[subprocess.Popen[bytes]] = []
    with ExitStack() as stack:
        if request.param == "postgres":
            server: str = request.getfixturevalue("postgres_url")
            settings["records"] = stack.enter_context(scratch_database(server))
        (directory / "authgate.yaml").write_text(json.dumps(settings))
        urls = []
        try:
            for n in range(2):  # one after the other: the first creates the tables and admin
                port, log = free_port(), directory / f"gateway{n}.log"
                processes.append(serve_gateway(directory / "authgate.yaml", port, log))
                urls.append(f"http://127.0.0.1:{port}")
                if not wait_for(lambda: up(urls[-1]), timeout=30):
                    pytest.fail(f"gateway {n} did not start:\n{log.read_text()[-3000:]}")
            yield Fleet(urls, directory / "data")
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=5)


def test_a_burst_over_two_processes_admits_no_more_than_the_plan(fleet: Fleet) -> None:
    apigw = fleet.client("apigateway", 0)
    plan = apigw.create_usage_plan(
        name="shared",
        apiStages=[{"apiId": "pets01", "stage": "prod"}],
        throttle={"rateLimit": 0.001, "burstLimit": 10},
        quota={"limit": 15, "period": "DAY"},
    )
    key = apigw.create_api_key(name="fleet", enabled=True)
    apigw.create_usage_plan_key(usagePlanId=plan["id"], keyId=key["id"], keyType="API_KEY")
    headers = {"x-api-key": key["value"]}

    def call(i: int) -> int:
        url = fleet.urls[i % 2]
        return httpx.get(f"{url}/prod/pets", headers=headers, timeout=10).status_code

    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = list(pool.map(call, range(40)))
    assert statuses.count(200) == 10, statuses  # the burst, shared by both processes
    assert statuses.count(429) == 30


def test_a_key_disabled_through_one_process_is_refused_by_the_other(fleet: Fleet) -> None:
    apigw = fleet.client("apigateway", 0)
    plan = apigw.create_usage_plan(name="p", apiStages=[{"apiId": "pets01", "stage": "prod"}])
    key = apigw.create_api_key(name="k", enabled=True)
    apigw.create_usage_plan_key(usagePlanId=plan["id"], keyId=key["id"], keyType="API_KEY")
    headers = {"x-api-key": key["value"]}
    other = f"{fleet.urls[1]}/prod/pets"
    assert wait_for(lambda: httpx.get(other, headers=headers).status_code == 200, timeout=FEED)
    apigw.update_api_key(
        apiKey=key["id"], patchOperations=[{"op": "replace", "path": "/enabled", "value": "false"}]
    )
    started = time.monotonic()
    assert wait_for(lambda: httpx.get(other, headers=headers).status_code == 403, timeout=FEED)
    assert time.monotonic() - started < FEED


def test_an_access_key_made_through_one_process_signs_for_the_other_until_deactivated(
    fleet: Fleet,
) -> None:
    iam = fleet.client("iam", 0)
    iam.create_user(UserName="roaming")
    made = iam.create_access_key(UserName="roaming")["AccessKey"]
    sts = fleet.client("sts", 1, (made["AccessKeyId"], made["SecretAccessKey"]))

    def identity() -> str | None:
        try:
            arn: str = sts.get_caller_identity()["Arn"]
        except ClientError:
            return None
        return arn

    assert wait_for(lambda: identity() is not None, timeout=FEED)
    assert identity() == "arn:aws:iam::123456789012:user/roaming"
    iam.update_access_key(UserName="roaming", AccessKeyId=made["AccessKeyId"], Status="Inactive")
    assert wait_for(lambda: identity() is None, timeout=FEED)


def test_an_api_deployed_through_one_process_is_served_by_the_other(fleet: Fleet) -> None:
    apigw = fleet.client("apigateway", 0)
    api_id = apigw.import_rest_api(body=pets(1))["id"]
    apigw.create_deployment(restApiId=api_id, stageName="v1")
    invoke = f"{fleet.urls[1]}/restapis/{api_id}/v1/_user_request_/pets"

    def answer() -> Any:
        response = httpx.get(invoke, timeout=5)
        return response.json() if response.status_code == 200 else response.status_code

    assert wait_for(lambda: answer() == {"v": 1}, timeout=FEED)
    apigw.put_rest_api(restApiId=api_id, mode="overwrite", body=pets(2))
    apigw.create_deployment(restApiId=api_id, stageName="v1")
    assert wait_for(lambda: answer() == {"v": 2}, timeout=FEED)
