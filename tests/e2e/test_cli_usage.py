"""API keys and usage plans from the command line: `authgate keys`, `plans` and `usage`.

A real gateway listens on 127.0.0.1; the CLI runs as separate processes pointed at it with
`--endpoint-url` and `--data-dir`, signing with the administrator key the gateway wrote on its
first start. Commands that do not depend on each other run side by side (each one is a Python
start-up). boto3 as the administrator checks what the records hold afterwards.
"""

from __future__ import annotations

import configparser
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from botocore.config import Config

from authgate.app import Application
from authgate.cli.keys import file_problems
from authgate.cli.plans import method_throttle_path
from authgate.settings import load_settings
from tests.support import LoopThread, RunningGateway, free_port, openapi

AUTHGATE = [sys.executable, "-m", "authgate"]
DEADLINE = 60.0
"""Seconds for one round of side-by-side commands."""
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
    components={
        "securitySchemes": {"api_key": {"type": "apiKey", "name": "x-api-key", "in": "header"}}
    },
)


@dataclass
class World:
    gateway: RunningGateway
    data_dir: Path
    tmp: Path
    apigw: Any
    """boto3 as the administrator: for set-up and checks that are not what a test is about."""

    def run(self, *commands: list[str]) -> list[subprocess.CompletedProcess[str]]:
        """`authgate ARGS` for each command line, side by side, against this gateway."""
        target = ["--endpoint-url", self.gateway.url, "--data-dir", str(self.data_dir)]
        return run_all([[*args, *target] for args in commands], cwd=self.tmp)

    def ok(self, *commands: list[str]) -> list[str]:
        """The standard output of commands that must succeed."""
        results = self.run(*commands)
        for result in results:
            assert result.returncode == 0, (result.args, result.stderr)
        return [result.stdout for result in results]

    def call(self, path: str, key: str | None = None, method: str = "GET") -> httpx.Response:
        headers = {"x-api-key": key} if key is not None else {}
        url = f"{self.gateway.url}/restapis/cli01/prod/_user_request_{path}"
        return httpx.request(method, url, headers=headers, timeout=10)


def clean_env() -> dict[str, str]:
    """This machine's environment without its AWS and authgate settings."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "AUTHGATE_"))}


def run_all(commands: list[list[str]], cwd: Path) -> list[subprocess.CompletedProcess[str]]:
    started = [
        subprocess.Popen(
            [*AUTHGATE, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=cwd,
            env=clean_env(),
        )
        for args in commands
    ]
    deadline = time.monotonic() + DEADLINE
    results = []
    try:
        for args, process in zip(commands, started, strict=True):
            out, err = process.communicate(timeout=max(0.1, deadline - time.monotonic()))
            results.append(subprocess.CompletedProcess(args, process.returncode, out, err))
    finally:
        for process in started:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=5)
    return results


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    """A failed command says what went wrong in one line, on standard error, and nothing else."""
    assert result.returncode == 1, (result.args, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert result.stdout == ""
    return lines[0]


def created_plan(out: str, name: str) -> str:
    """The id in `created usage plan NAME: ID`."""
    prefix = f"created usage plan {name}: "
    assert out.startswith(prefix), out
    return out.strip()[len(prefix) :]


def fields(out: str) -> dict[str, str]:
    """`label  value` lines as a dict."""
    return dict(line.split(None, 1) for line in out.strip().splitlines())


def rows(out: str) -> list[list[str]]:
    """A table's rows below its header, split into cells."""
    return [line.split() for line in out.strip().splitlines()[1:]]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("cli-usage")
    (tmp / "api.yaml").write_text(json.dumps(API))
    settings = {
        "data_dir": "data",
        "access_log": "access.log",
        "apis": [{"id": "cli01", "definition": "api.yaml", "stages": [{"name": "prod"}]}],
    }
    (tmp / "authgate.yaml").write_text(json.dumps(settings))
    loop = LoopThread()
    gateway = RunningGateway(Application(load_settings(tmp / "authgate.yaml")), loop)
    profile = configparser.ConfigParser()
    profile.read(tmp / "data" / "credentials")
    apigw = boto3.client(
        "apigateway",
        endpoint_url=gateway.url,
        region_name="us-east-1",
        aws_access_key_id=profile["default"]["aws_access_key_id"],
        aws_secret_access_key=profile["default"]["aws_secret_access_key"],
        config=Config(retries={"total_max_attempts": 1}),
    )
    yield World(gateway, tmp / "data", tmp, apigw)
    gateway.stop()
    loop.close()


def test_a_key_in_a_plan_is_admitted_counted_and_reported(world: World) -> None:
    plan_out, key_result = world.run(
        ["plans", "create", "gold", "--api", "cli01", "--stage", "prod",
         "--quota", "1000", "--period", "DAY"],
        ["keys", "create", "--name", "reader", "--customer-id", "c-1"],
    )  # fmt: skip
    assert plan_out.returncode == 0, plan_out.stderr
    plan_id = created_plan(plan_out.stdout, "gold")
    assert key_result.returncode == 0, key_result.stderr
    key = fields(key_result.stdout)
    key_id, value = key["id"], key["value"]
    assert (key["name"], key["customerId"], key["enabled"]) == ("reader", "c-1", "yes")
    assert key_result.stdout.count(value) == 1
    assert "store the value now" in key_result.stderr
    assert world.call("/pets", value).status_code == 403  # in no plan yet

    (added,) = world.ok(["plans", "add-key", plan_id, key_id])
    assert added.strip() == f"added API key {key_id} to usage plan {plan_id}"
    assert [world.call("/pets", value).status_code for _ in range(3)] == [200, 200, 200]
    missing = world.call("/pets")
    assert (missing.status_code, missing.json()) == (403, {"message": "Forbidden"})
    assert world.call("/free", value).status_code == 200  # not metered, not counted

    usage, shown, listed, plans = world.ok(
        ["usage", key_id, "--days", "2"],
        ["plans", "show", plan_id],
        ["keys", "list", "--name-prefix", "read"],
        ["plans", "list"],
    )
    head, *days = usage.strip().splitlines()
    assert head == f"usage plan gold ({plan_id}): 1000 per DAY"
    assert days[0].split() == ["date", "used", "remaining"]
    counts = [[int(cell) for cell in line.split()[1:]] for line in days[1:]]
    assert len(counts) == 2
    assert sum(used for used, _ in counts) == 3  # whichever UTC day they fell on
    assert counts[-1][1] == 1000 - counts[-1][0]
    assert ["quota", "1000", "per", "DAY"] in [line.split() for line in shown.splitlines()]
    assert [key_id, "reader"] in [line.split() for line in shown.splitlines()]
    assert rows(listed) == [[key_id, "reader", "yes", "c-1", *rows(listed)[0][4:]]]
    assert value not in shown + listed
    assert [plan_id, "gold", "cli01:prod", "-", "1000", "per", "DAY"] in rows(plans)

    world.ok(["keys", "disable", key_id])
    assert world.call("/pets", value).status_code == 403
    world.ok(["keys", "enable", key_id], ["plans", "remove-key", plan_id, key_id])
    assert world.apigw.get_api_key(apiKey=key_id)["enabled"] is True
    assert world.call("/pets", value).status_code == 403  # enabled, but in no plan

    world.ok(["keys", "delete", key_id], ["plans", "delete", plan_id])
    assert key_id not in {k["id"] for k in world.apigw.get_api_keys()["items"]}
    assert plan_id not in {p["id"] for p in world.apigw.get_usage_plans()["items"]}


def test_a_method_throttle_refuses_the_second_quick_call(world: World) -> None:
    plan_out, key_out = world.ok(
        ["plans", "create", "tight", "--api", "cli01", "--stage", "prod"],
        ["keys", "create", "--name", "hasty", "--json"],
    )
    plan_id = created_plan(plan_out, "tight")
    key = json.loads(key_out)
    _, throttled = world.ok(
        ["plans", "add-key", plan_id, key["id"]],
        ["plans", "throttle", plan_id, "--api", "cli01", "--stage", "prod",
         "--method", "post", "--path", "/pets", "--rate", "0.01", "--burst", "1"],
    )  # fmt: skip
    assert "throttles POST /pets on cli01:prod at 0.01/s burst 1" in throttled
    stage = world.apigw.get_usage_plan(usagePlanId=plan_id)["apiStages"][0]
    assert stage["throttle"] == {"/pets/POST": {"rateLimit": 0.01, "burstLimit": 1}}

    first, second = (world.call("/pets", key["value"], "POST") for _ in range(2))
    assert first.status_code == 200
    assert (second.status_code, second.json()) == (429, {"message": "Too Many Requests"})
    assert world.call("/pets", key["value"]).status_code == 200  # GET keeps the plan's


def test_import_a_good_file_and_refuse_a_bad_one_whole(world: World) -> None:
    plan = world.apigw.create_usage_plan(
        name="imported", apiStages=[{"apiId": "cli01", "stage": "prod"}]
    )
    good_value = "a" * 29 + "Good1"
    (world.tmp / "good.csv").write_text(
        "Name,Key,Enabled,UsagePlanIds,Colour\n"
        f"alpha,{good_value},true,{plan['id']},red\n"
        f"beta,{'b' * 34},FALSE,,blue\n"
    )
    (world.tmp / "bad.csv").write_text(f"Name,Key\ngamma,{'c' * 34}\ndelta,short\n,{'d' * 34}\n")
    (world.tmp / "warned.csv").write_text(f"Name,Key,Colour\nepsilon,{'e' * 34},green\n")
    good, bad, warned = world.run(
        ["keys", "import", "good.csv"],
        ["keys", "import", "bad.csv"],
        ["keys", "import", "warned.csv", "--fail-on-warnings"],
    )

    assert good.returncode == 0, good.stderr
    summary, *ids = good.stdout.strip().splitlines()
    assert summary == "imported 2 API keys"
    assert good.stderr.strip() == "warning: line 1: column 'Colour' is not recognised; ignored"
    stored = {k["name"]: k for k in world.apigw.get_api_keys()["items"]}
    assert {stored["alpha"]["id"], stored["beta"]["id"]} == set(ids)
    assert (stored["alpha"]["enabled"], stored["beta"]["enabled"]) == (True, False)
    assert world.call("/pets", good_value).status_code == 200  # in its plan from the file

    assert (bad.returncode, bad.stdout) == (1, "")
    assert bad.stderr.strip().splitlines() == [
        "error: bad.csv is not a valid API key file; nothing was imported:",
        "  line 3: Key must be 30 to 128 letters and digits",
        "  line 4: Name is empty",
    ]
    assert (warned.returncode, warned.stdout) == (1, "")
    assert "warned.csv has warnings (--fail-on-warnings)" in warned.stderr
    assert not {"gamma", "epsilon"} & set(stored)


def test_errors_are_one_clear_line(world: World) -> None:
    loose = world.apigw.create_api_key(name="loose", enabled=True)
    results = world.run(
        ["keys", "disable", "nosuchkey"],
        ["usage", "nosuchkey"],
        ["usage", loose["id"]],
        ["plans", "create", "half", "--api", "cli01", "--stage", "prod", "--quota", "5"],
        ["plans", "throttle", "nosuchplan", "--api", "cli01", "--stage", "prod",
         "--method", "GET", "--path", "/pets", "--rate", "1"],
        ["keys", "import", "missing.csv"],
    )  # fmt: skip
    lines = [one_error_line(result) for result in results]
    assert lines == [
        "error: NotFoundException: Invalid API Key identifier specified",
        "error: NotFoundException: Invalid API Key identifier specified",
        f"error: API key {loose['id']} is in no usage plan: see `authgate plans add-key`",
        "error: a quota needs both --quota N and --period DAY|WEEK|MONTH",
        "error: NotFoundException: Invalid Usage Plan ID specified",
        "error: cannot read missing.csv: No such file or directory",
    ]
    assert "half" not in {p["name"] for p in world.apigw.get_usage_plans()["items"]}


def test_a_gateway_that_is_not_running_is_one_clear_error(world: World) -> None:
    down = f"http://127.0.0.1:{free_port()}"
    common = ["--endpoint-url", down, "--data-dir", str(world.data_dir)]
    (result,) = run_all([["keys", "list", *common]], cwd=world.tmp)
    assert f"cannot reach a gateway at {down}" in one_error_line(result)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/pets", "/apiStages/a1:prod/throttle/~1pets/GET/rateLimit"),
        ("pets/{id}", "/apiStages/a1:prod/throttle/~1pets~1{id}/GET/rateLimit"),
        ("/", "/apiStages/a1:prod/throttle/~1/GET/rateLimit"),
        ("/a~b", "/apiStages/a1:prod/throttle/~1a~0b/GET/rateLimit"),
    ],
)
def test_method_throttle_patch_paths_escape_the_resource_path(path: str, expected: str) -> None:
    assert method_throttle_path("a1", "prod", path, "GET", "rateLimit") == expected


def test_a_refused_key_file_is_listed_one_problem_a_line() -> None:
    listed = (
        "Invalid API keys file: line 2: Name is empty; "
        "line 9: Key must be 30 to 128 letters and digits; and 3 more"
    )
    assert file_problems(listed) == (
        "is not a valid API key file",
        ["line 2: Name is empty", "line 9: Key must be 30 to 128 letters and digits", "and 3 more"],
    )
    problem = "the file is empty; it needs a header row naming the Name and Key columns"
    assert file_problems(f"Invalid API keys file: {problem}") == (
        "is not a valid API key file",
        [problem],
    )
    assert file_problems("Invalid Usage Plan ID specified") is None
