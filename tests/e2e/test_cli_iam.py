"""The IAM command line as a user runs it: `authgate iam`, `explain` and `policy simulate`.

A real gateway listens on 127.0.0.1; the CLI runs as a separate process pointed at it with
`--endpoint-url` and `--data-dir`, signing with the administrator key the gateway wrote on its
first start. Requests to the data plane are signed by botocore, as a client would sign them.
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
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

from authgate.app import Application
from authgate.settings import load_settings
from tests.support import LoopThread, RunningGateway, free_port, openapi

ACCOUNT = "123456789012"
AUTHGATE = [sys.executable, "-m", "authgate"]
MOCK = {
    "x-amazon-apigateway-integration": {
        "type": "mock",
        "requestTemplates": {"application/json": '{"statusCode": 200}'},
        "responses": {
            "default": {"statusCode": "200", "responseTemplates": {"application/json": '{"ok":1}'}}
        },
    }
}
IAM_API = openapi(
    {"/pets": {"get": MOCK}, "/pets/{id}": {"get": MOCK}, "/admin": {"get": MOCK}},
    components={
        "securitySchemes": {
            "sigv4": {
                "type": "apiKey",
                "name": "Authorization",
                "in": "header",
                "x-amazon-apigateway-authtype": "awsSigv4",
            }
        }
    },
    security=[{"sigv4": []}],
)
OFFICE_ONLY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "Everyone",
            "Effect": "Allow",
            "Principal": "*",
            "Action": "execute-api:Invoke",
            "Resource": "execute-api:/*",
        },
        {
            "Sid": "OfficeOnly",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "execute-api:Invoke",
            "Resource": "execute-api:/*",
            "Condition": {"NotIpAddress": {"aws:SourceIp": ["10.1.2.0/24"]}},
        },
    ],
}
RANGE_API = openapi({"/office": {"get": MOCK}}, **{"x-amazon-apigateway-policy": OFFICE_ONLY})
PRIVATE_API = openapi(
    {"/inside": {"get": MOCK}},
    servers=[
        {
            "url": "https://private",
            "x-amazon-apigateway-endpoint-configuration": {"types": ["PRIVATE"]},
        }
    ],
    **{
        "x-amazon-apigateway-policy": {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": "execute-api:Invoke",
                    "Resource": "execute-api:/*",
                    "Condition": {"StringEquals": {"aws:SourceVpce": "vpce-0abc"}},
                }
            ],
        }
    },
)
PETS_BUT_SEVEN = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "ReadPets",
            "Effect": "Allow",
            "Action": "execute-api:Invoke",
            "Resource": f"arn:aws:execute-api:us-east-1:{ACCOUNT}:iam01/prod/GET/pets*",
        },
        {
            "Sid": "NoSevens",
            "Effect": "Deny",
            "Action": "execute-api:Invoke",
            "Resource": f"arn:aws:execute-api:us-east-1:{ACCOUNT}:iam01/prod/GET/pets/7",
        },
    ],
}


@dataclass
class World:
    gateway: RunningGateway
    data_dir: Path
    tmp: Path
    iam: Any
    """boto3 as the administrator: for set-up that is not what a test is about."""

    def url(self, path: str, api: str = "iam01") -> str:
        return f"{self.gateway.url}/restapis/{api}/prod/_user_request_{path}"

    def args(self, *args: str, data_dir: Path | None = None) -> list[str]:
        """The command line of `authgate ARGS` against this gateway, as the administrator
        unless told otherwise."""
        folder = str(data_dir or self.data_dir)
        return [*args, "--endpoint-url", self.gateway.url, "--data-dir", folder]

    def cli(self, *args: str, data_dir: Path | None = None) -> subprocess.CompletedProcess[str]:
        return run_all([self.args(*args, data_dir=data_dir)], cwd=self.tmp)[0]

    def ok(self, *args: str, data_dir: Path | None = None) -> str:
        result = self.cli(*args, data_dir=data_dir)
        assert result.returncode == 0, result.stderr
        return result.stdout

    def new_user(self, name: str) -> Credentials:
        self.iam.create_user(UserName=name)
        key = self.iam.create_access_key(UserName=name)["AccessKey"]
        return Credentials(key["AccessKeyId"], key["SecretAccessKey"])

    def profile_dir(self, name: str, creds: Credentials) -> Path:
        """A data dir whose default profile is `creds`, as a user would keep theirs."""
        folder = self.tmp / name
        folder.mkdir()
        (folder / "credentials").write_text(
            f"[default]\naws_access_key_id = {creds.access_key}\n"
            f"aws_secret_access_key = {creds.secret_key}\n"
        )
        return folder


def clean_env(**extra: str) -> dict[str, str]:
    """This machine's environment without its AWS and authgate settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "AUTHGATE_"))}
    return {**env, **extra}


def run_all(
    commands: list[list[str]], cwd: Path | None = None, env: dict[str, str] | None = None
) -> list[subprocess.CompletedProcess[str]]:
    """Run `authgate` command lines side by side, each in its own process (they start slowly);
    every one is bounded by the same deadline."""
    started = [
        subprocess.Popen(
            [*AUTHGATE, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=cwd,
            env=env or clean_env(),
        )
        for args in commands
    ]
    deadline = time.monotonic() + 60
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
    assert result.returncode == 1, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert result.stdout == ""
    return lines[0]


def signed(creds: Credentials | None, url: str, **headers: str) -> httpx.Response:
    """GET `url`, SigV4-signed for execute-api when `creds` are given."""
    request = AWSRequest(method="GET", url=url, headers=headers)
    if creds is not None:
        SigV4Auth(creds, "execute-api", "us-east-1").add_auth(request)
    return httpx.get(url, headers=dict(request.headers.items()), timeout=10)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("cli-iam")
    for name, doc in (
        ("iam.yaml", IAM_API),
        ("range.yaml", RANGE_API),
        ("private.yaml", PRIVATE_API),
    ):
        (tmp / name).write_text(json.dumps(doc))
    settings = {
        "data_dir": "data",
        "access_log": "access.log",
        "trusted_proxies": ["127.0.0.1/32"],
        "endpoints": [{"host": "127.0.0.1", "port": 0, "vpc": "vpc-0def", "vpce": "vpce-0abc"}],
        "apis": [
            {"id": "iam01", "definition": "iam.yaml", "stages": [{"name": "prod"}]},
            {"id": "range01", "definition": "range.yaml", "stages": [{"name": "prod"}]},
            {"id": "priv01", "definition": "private.yaml", "stages": [{"name": "prod"}]},
        ],
    }
    (tmp / "authgate.yaml").write_text(json.dumps(settings))
    loop = LoopThread()
    gateway = RunningGateway(Application(load_settings(tmp / "authgate.yaml")), loop)
    profile = configparser.ConfigParser()
    profile.read(tmp / "data" / "credentials")
    iam = boto3.client(
        "iam",
        endpoint_url=gateway.url,
        region_name="us-east-1",
        aws_access_key_id=profile["default"]["aws_access_key_id"],
        aws_secret_access_key=profile["default"]["aws_secret_access_key"],
        config=Config(retries={"total_max_attempts": 1}),
    )
    yield World(gateway, tmp / "data", tmp, iam)
    gateway.stop()
    loop.close()


@pytest.fixture(scope="module")
def alice(world: World) -> Credentials:
    """A user whose pets policy (written by the CLI) allows every pet but number 7."""
    creds = world.new_user("alice")
    (world.tmp / "pets.json").write_text(json.dumps(PETS_BUT_SEVEN))
    world.ok("iam", "policies", "put", "--user", "alice", "--name", "pets", "--file", "pets.json")
    return creds


def test_a_new_user_with_a_key_and_allow_invoke_can_call_the_method(world: World) -> None:
    created = world.ok("iam", "users", "create", "carol")
    assert f"arn:aws:iam::{ACCOUNT}:user/carol" in created

    result = world.cli("iam", "keys", "create", "carol")
    assert result.returncode == 0, result.stderr
    fields = dict(line.split(None, 1) for line in result.stdout.strip().splitlines())
    carol = Credentials(fields["AccessKeyId"], fields["SecretAccessKey"])
    assert result.stdout.count(carol.secret_key) == 1
    assert "store the secret access key now" in result.stderr
    assert signed(carol, world.url("/pets/1")).status_code == 403  # no policy yet

    world.ok(
        "iam", "policies", "allow-invoke", "--user", "carol", "--api", "iam01",
        "--stage", "prod", "--method", "GET", "--path", "/pets/*",
    )  # fmt: skip
    assert signed(carol, world.url("/pets/1")).status_code == 200
    assert signed(carol, world.url("/admin")).status_code == 403

    listed = world.ok("iam", "keys", "list", "carol")
    header, row = listed.strip().splitlines()
    assert header.split() == ["AccessKeyId", "Status", "CreateDate"]
    assert row.split()[:2] == [carol.access_key, "Active"]
    assert header.index("Status") == row.index("Active")  # aligned

    world.ok("iam", "keys", "disable", "carol", carol.access_key)
    assert signed(carol, world.url("/pets/1")).status_code == 403
    world.ok("iam", "keys", "enable", "carol", carol.access_key)
    assert signed(carol, world.url("/pets/1")).status_code == 200


def test_groups_and_managed_policies_grant_through_membership(world: World) -> None:
    dave = world.new_user("dave")
    world.ok("iam", "groups", "create", "readers")
    (world.tmp / "admin-route.json").write_text(
        json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": "execute-api:Invoke",
                        "Resource": f"arn:aws:execute-api:us-east-1:{ACCOUNT}:iam01/*/GET/admin",
                    }
                ],
            }
        )
    )
    created = world.ok("iam", "policies", "create", "AdminRoute", "--file", "admin-route.json")
    arn = f"arn:aws:iam::{ACCOUNT}:policy/AdminRoute"
    assert arn in created
    world.ok("iam", "policies", "attach", "--group", "readers", "--arn", arn)
    assert signed(dave, world.url("/admin")).status_code == 403
    world.ok("iam", "groups", "add-user", "readers", "dave")
    assert signed(dave, world.url("/admin")).status_code == 200
    world.ok("iam", "groups", "remove-user", "readers", "dave")
    assert signed(dave, world.url("/admin")).status_code == 403


def test_roles_are_created_with_their_trust_and_listed(world: World) -> None:
    trusted = f"arn:aws:iam::{ACCOUNT}:user/alice"
    created = world.ok("iam", "roles", "create", "auditor", "--trust-user", trusted)
    assert f"arn:aws:iam::{ACCOUNT}:role/auditor" in created
    roles = json.loads(world.ok("iam", "roles", "list", "--json"))
    trust = next(r for r in roles if r["RoleName"] == "auditor")["AssumeRolePolicyDocument"]
    assert trust["Statement"][0]["Principal"] == {"AWS": [trusted]}
    both = world.cli("iam", "roles", "create", "x", "--trust-user", trusted, "--trust-file", "f")
    assert "either --trust-user" in one_error_line(both)


def test_explain_a_denied_request_headlines_the_deciding_statement(
    world: World, alice: Credentials
) -> None:
    denied = signed(alice, world.url("/pets/7"))
    assert denied.status_code == 403
    out = world.ok("explain", denied.headers["x-amzn-requestid"])
    lines = out.splitlines()
    assert lines[0].startswith("Denied: Deny by user/alice/pets NoSevens")
    assert "authorize" in lines[0]
    assert "403 ACCESS_DENIED" in lines[0]
    assert f"caller    arn:aws:iam::{ACCOUNT}:user/alice" in lines
    assert any(
        line.split() == ["api", "iam01", "stage", "prod", "resource", "/pets/{id}"]
        for line in lines
    )
    trail = [line.split() for line in lines[lines.index("trail:") + 2 :]]
    assert [row[:2] for row in trail] == [  # no resource policy: nothing is screened
        ["authenticate", "AWS_IAM"],
        ["authorize", "Deny"],
    ]


@dataclass(frozen=True)
class Case:
    principal: str
    api: str
    path: str
    source_ip: str = "127.0.0.1"


CASES = {
    "identity allow": Case("alice", "iam01", "/pets/1"),
    "identity explicit deny": Case("alice", "iam01", "/pets/7"),
    "identity implicit deny": Case("alice", "iam01", "/admin"),
    "unsigned on an IAM method": Case("anonymous", "iam01", "/pets/1"),
    "no such route": Case("alice", "iam01", "/nothing"),
    "source ip inside the range": Case("anonymous", "range01", "/office", "10.1.2.3"),
    "source ip outside the range": Case("anonymous", "range01", "/office", "192.0.2.7"),
    "private api on a public listener": Case("anonymous", "priv01", "/inside"),
}


@pytest.fixture(scope="module")
def simulations(world: World, alice: Credentials) -> dict[Case, dict[str, Any]]:
    """`authgate policy simulate --json` for every case, run side by side."""
    commands = [
        world.args(
            "policy",
            "simulate",
            "--principal",
            _principal(case),
            "--api",
            case.api,
            "--stage",
            "prod",
            "--method",
            "GET",
            "--path",
            case.path,
            "--source-ip",
            case.source_ip,
            "--json",
        )
        for case in CASES.values()
    ]
    results = run_all(commands, cwd=world.tmp)
    for result in results:
        assert result.returncode == 0, result.stderr
    return {case: json.loads(r.stdout) for case, r in zip(CASES.values(), results, strict=True)}


def _principal(case: Case) -> str:
    return f"arn:aws:iam::{ACCOUNT}:user/alice" if case.principal == "alice" else "anonymous"


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_simulate_agrees_with_what_the_gateway_answered(
    world: World, alice: Credentials, simulations: dict[Case, dict[str, Any]], case: Case
) -> None:
    creds = alice if case.principal == "alice" else None
    headers = {"X-Forwarded-For": case.source_ip} if case.source_ip != "127.0.0.1" else {}
    actual = signed(creds, world.url(case.path, case.api), **headers)
    simulated = simulations[case]
    assert simulated["principal"] == _principal(case)
    assert simulated["allowed"] == (actual.status_code == 200)
    if not simulated["allowed"]:
        assert simulated["status"] == actual.status_code
        assert simulated["body"] == actual.text


def test_the_cases_cover_allow_and_deny_at_every_step(
    simulations: dict[Case, dict[str, Any]],
) -> None:
    deciders = {(s["allowed"], s["decidedBy"]) for s in simulations.values()}
    assert deciders == {
        (True, None),
        (False, "route"),
        (False, "screen"),
        (False, "authenticate"),
        (False, "authorize"),
    }
    explicit = simulations[CASES["identity explicit deny"]]
    assert explicit["deciding"] == "Deny by user/alice/pets NoSevens"
    assert explicit["matched"] == [
        "Allow by user/alice/pets ReadPets",
        "Deny by user/alice/pets NoSevens",
    ]


def test_simulate_through_a_vpc_endpoint_agrees_with_the_private_listener(world: World) -> None:
    host, port = world.gateway.app.endpoint_addresses[0]
    actual = httpx.get(f"http://{host}:{port}/restapis/priv01/prod/_user_request_/inside")
    assert actual.status_code == 200
    out = world.ok(
        "policy", "simulate", "--principal", "anonymous", "--api", "priv01", "--stage", "prod",
        "--path", "/inside", "--vpce", "vpce-0abc",
    )  # fmt: skip
    assert out.startswith("Allow: Allow by resource policy Statement[0]")


def test_simulate_prints_the_deciding_and_matched_statements(world: World) -> None:
    out = world.ok(
        "policy", "simulate", "--principal", "anonymous", "--api", "range01", "--stage", "prod",
        "--path", "/office", "--source-ip", "192.0.2.7",
    )  # fmt: skip
    lines = [line.split(None, 1) for line in out.splitlines()]
    stripped = [line.strip() for line in out.splitlines()]
    assert out.startswith("Deny: Deny by resource policy OfficeOnly  [screen]")
    assert ["matched", "Allow by resource policy Everyone"] in lines
    assert "Deny by resource policy OfficeOnly" in stripped
    assert "aws:sourceip=192.0.2.7" in out
    assert "403 ACCESS_DENIED" in out


def test_unknown_request_id_is_one_clear_error(world: World) -> None:
    line = one_error_line(world.cli("explain", "no-such-request"))
    assert "unknown request id no-such-request" in line


def test_simulating_an_unknown_principal_or_api_is_one_clear_error(world: World) -> None:
    nobody = world.cli(
        "policy", "simulate", "--principal", f"arn:aws:iam::{ACCOUNT}:user/nobody",
        "--api", "iam01", "--stage", "prod", "--path", "/pets",
    )  # fmt: skip
    assert "nobody cannot be found" in one_error_line(nobody)
    unknown = world.cli(
        "policy", "simulate", "--principal", "anonymous", "--api", "nope01", "--stage", "prod",
        "--path", "/pets",
    )  # fmt: skip
    assert "no API nope01" in one_error_line(unknown)


def test_a_caller_without_rights_gets_access_denied(world: World, alice: Credentials) -> None:
    alice_dir = world.profile_dir("alice-profile", alice)
    denied = one_error_line(world.cli("iam", "users", "list", data_dir=alice_dir))
    assert denied.startswith("error: AccessDenied: User: arn:aws:iam::")
    assert "iam:ListUsers" in denied
    refused = one_error_line(world.cli("explain", "any-id", data_dir=alice_dir))
    assert "AccessDeniedException" in refused
    assert "apigateway:GET" in refused


def test_no_credentials_file_is_one_clear_error(world: World, tmp_path: Path) -> None:
    line = one_error_line(world.cli("iam", "users", "list", data_dir=tmp_path))
    assert f"no credentials file at {tmp_path / 'credentials'}" in line


def test_a_gateway_that_is_not_running_is_one_clear_error(world: World) -> None:
    down = f"http://127.0.0.1:{free_port()}"
    common = ["--endpoint-url", down, "--data-dir", str(world.data_dir)]
    commands = [["iam", "users", "list", *common], ["explain", "some-id", *common]]
    for result in run_all(commands):
        assert f"cannot reach a gateway at {down}" in one_error_line(result)


def test_the_environment_names_the_gateway_and_the_credentials(world: World) -> None:
    """AUTHGATE_ENDPOINT and AWS's own variables work as flags do."""
    config = configparser.ConfigParser()
    config.read(world.data_dir / "credentials")
    env = clean_env(
        AUTHGATE_ENDPOINT=world.gateway.url,
        AWS_SHARED_CREDENTIALS_FILE=str(world.data_dir / "credentials"),
        AWS_CONFIG_FILE=str(world.data_dir / "config"),
    )
    (result,) = run_all([["iam", "users", "list"]], cwd=world.tmp, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[:4] == ["UserName", "UserId", "Arn", "CreateDate"]
    assert "admin" in result.stdout
    assert config["default"]["aws_secret_access_key"] not in result.stdout
