"""A fleet: two gateway processes sharing one records database and one real Redis.

A burst of concurrent requests spread over both processes admits no more than the usage plan
allows, and a key disabled through one process is refused by the other.
"""

from __future__ import annotations

import configparser
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from botocore.config import Config

from tests.e2e.test_usage_plans import API
from tests.support import free_port, wait_for


def serve(config: Path, port: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "authgate", "serve", "--config", str(config), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ},
    )


def up(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=0.5).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.fixture
def fleet(tmp_path: Path, redis_url: str) -> Iterator[list[str]]:
    (tmp_path / "api.yaml").write_text(json.dumps(API))
    settings = {
        "data_dir": "data",
        "access_log": "access.log",
        "counters": redis_url,
        "apis": [{"id": "pets01", "definition": "api.yaml", "stages": [{"name": "prod"}]}],
    }
    (tmp_path / "authgate.yaml").write_text(json.dumps(settings))
    first_port = free_port()
    first = serve(tmp_path / "authgate.yaml", first_port)
    processes = [first]
    urls = [f"http://127.0.0.1:{first_port}"]
    try:
        assert wait_for(lambda: up(urls[0]), timeout=20), "first gateway did not start"
        second_port = free_port()
        processes.append(serve(tmp_path / "authgate.yaml", second_port))
        urls.append(f"http://127.0.0.1:{second_port}")
        assert wait_for(lambda: up(urls[1]), timeout=20), "second gateway did not start"
        yield urls
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.communicate(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.communicate(timeout=5)


def apigateway(url: str, data_dir: Path) -> Any:
    profile = configparser.ConfigParser()
    profile.read(data_dir / "credentials")
    return boto3.client(
        "apigateway",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=profile["default"]["aws_access_key_id"],
        aws_secret_access_key=profile["default"]["aws_secret_access_key"],
        config=Config(retries={"total_max_attempts": 1}),
    )


def test_a_burst_over_two_processes_admits_no_more_than_the_plan(
    fleet: list[str], tmp_path: Path
) -> None:
    apigw = apigateway(fleet[0], tmp_path / "data")
    plan = apigw.create_usage_plan(
        name="shared",
        apiStages=[{"apiId": "pets01", "stage": "prod"}],
        throttle={"rateLimit": 0.001, "burstLimit": 10},
        quota={"limit": 15, "period": "DAY"},
    )
    key = apigw.create_api_key(name="fleet", enabled=True)
    apigw.create_usage_plan_key(usagePlanId=plan["id"], keyId=key["id"], keyType="API_KEY")

    def call(i: int) -> int:
        url = fleet[i % 2]
        return httpx.get(
            f"{url}/prod/pets", headers={"x-api-key": key["value"]}, timeout=10
        ).status_code

    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = list(pool.map(call, range(40)))
    assert statuses.count(200) == 10, statuses  # the burst, shared by both processes
    assert statuses.count(429) == 30


def test_a_key_disabled_through_one_process_is_refused_by_the_other(
    fleet: list[str], tmp_path: Path
) -> None:
    apigw = apigateway(fleet[0], tmp_path / "data")
    plan = apigw.create_usage_plan(name="p", apiStages=[{"apiId": "pets01", "stage": "prod"}])
    key = apigw.create_api_key(name="k", enabled=True)
    apigw.create_usage_plan_key(usagePlanId=plan["id"], keyId=key["id"], keyType="API_KEY")
    headers = {"x-api-key": key["value"]}
    assert wait_for(
        lambda: httpx.get(f"{fleet[1]}/prod/pets", headers=headers).status_code == 200, timeout=5
    )
    apigw.update_api_key(
        apiKey=key["id"], patchOperations=[{"op": "replace", "path": "/enabled", "value": "false"}]
    )
    started = time.monotonic()
    assert wait_for(
        lambda: httpx.get(f"{fleet[1]}/prod/pets", headers=headers).status_code == 403, timeout=5
    )
    assert time.monotonic() - started < 5
