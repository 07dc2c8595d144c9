"""IAM end to end: boto3 manages users and roles, signed requests reach AWS_IAM methods.

Everything goes over real HTTP to a gateway on 127.0.0.1: requests are signed by botocore's
SigV4Auth, requests-aws4auth and curl --aws-sigv4, and refused with AWS's status, body and
error type when they should be.
"""

from __future__ import annotations

import configparser
import datetime
import json
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import botocore.auth
import httpx
import pytest
import requests
from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from requests_aws4auth import AWS4Auth

from authgate.app import Application
from authgate.clock import ManualClock
from authgate.settings import load_settings
from tests.support import LoopThread, RunningGateway, openapi

ACCOUNT = "123456789012"
SIGV4 = {
    "sigv4": {
        "type": "apiKey",
        "name": "Authorization",
        "in": "header",
        "x-amazon-apigateway-authtype": "awsSigv4",
    }
}
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
    {
        "/pets": {"get": MOCK, "post": MOCK},
        "/pets/{id}": {"get": MOCK, "delete": MOCK},
        "/admin": {"get": MOCK},
    },
    components={"securitySchemes": SIGV4},
    security=[{"sigv4": []}],
)
RANGE_API = openapi(
    {"/office": {"get": MOCK}},
    **{
        "x-amazon-apigateway-policy": {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": "execute-api:Invoke",
                    "Resource": "execute-api:/*",
                },
                {
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "execute-api:Invoke",
                    "Resource": "execute-api:/*",
                    "Condition": {"NotIpAddress": {"aws:SourceIp": ["10.1.2.0/24"]}},
                },
            ],
        }
    },
)
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
ALLOW_PETS = {
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
    clock: ManualClock
    admin: Credentials
    alice: Credentials
    iam: Any
    sts: Any
    data_dir: Path

    def url(self, path: str, api: str = "iam01") -> str:
        return f"{self.gateway.url}/restapis/{api}/prod/_user_request_{path}"

    def client(self, service: str, creds: Credentials) -> Any:
        return boto3.client(
            service,
            endpoint_url=self.gateway.url,
            region_name="us-east-1",
            aws_access_key_id=creds.access_key,
            aws_secret_access_key=creds.secret_key,
            aws_session_token=creds.token,
            config=Config(retries={"total_max_attempts": 1}),
        )


def signed(
    creds: Credentials, method: str, url: str, body: bytes = b"", **headers: str
) -> httpx.Response:
    request = AWSRequest(method=method, url=url, data=body, headers=headers)
    SigV4Auth(creds, "execute-api", "us-east-1").add_auth(request)
    return httpx.request(method, url, content=body, headers=dict(request.headers.items()))


@pytest.fixture
def world(tmp_path: Path, loop_thread: LoopThread) -> Iterator[World]:
    for name, doc in (
        ("iam.yaml", IAM_API),
        ("range.yaml", RANGE_API),
        ("private.yaml", PRIVATE_API),
    ):
        (tmp_path / name).write_text(json.dumps(doc))
    settings = {
        "data_dir": "data",
        "access_log": "access.log",
        "endpoints": [{"host": "127.0.0.1", "port": 0, "vpc": "vpc-0def", "vpce": "vpce-0abc"}],
        "apis": [
            {"id": "iam01", "definition": "iam.yaml", "stages": [{"name": "prod"}]},
            {"id": "range01", "definition": "range.yaml", "stages": [{"name": "prod"}]},
            {"id": "priv01", "definition": "private.yaml", "stages": [{"name": "prod"}]},
        ],
    }
    (tmp_path / "authgate.yaml").write_text(json.dumps(settings))
    clock = ManualClock(datetime.datetime.now(datetime.UTC).timestamp())
    app = Application(load_settings(tmp_path / "authgate.yaml"), clock=clock)
    gateway = RunningGateway(app, loop_thread)
    profile = configparser.ConfigParser()
    profile.read(tmp_path / "data" / "credentials")
    admin = Credentials(
        profile["default"]["aws_access_key_id"], profile["default"]["aws_secret_access_key"]
    )
    world = World(gateway, clock, admin, admin, None, None, tmp_path / "data")
    world.iam = world.client("iam", admin)
    world.sts = world.client("sts", admin)
    world.iam.create_user(UserName="alice")
    world.iam.put_user_policy(
        UserName="alice", PolicyName="pets", PolicyDocument=json.dumps(ALLOW_PETS)
    )
    key = world.iam.create_access_key(UserName="alice")["AccessKey"]
    world.alice = Credentials(key["AccessKeyId"], key["SecretAccessKey"])
    yield world
    gateway.stop()


def test_bootstrap_writes_a_private_credentials_file(world: World) -> None:
    credentials = world.data_dir / "credentials"
    assert credentials.stat().st_mode & 0o777 == 0o600
    assert world.admin.access_key.startswith("AKIA")
    assert world.sts.get_caller_identity()["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/admin"


def test_botocore_signed_request_is_allowed_and_denied_by_policy(world: World) -> None:
    ok = signed(world.alice, "GET", world.url("/pets/3"))
    assert ok.status_code == 200
    assert ok.json() == {"ok": 1}
    listing = signed(world.alice, "GET", world.url("/pets?kind=cat&b=x%2Fy"))
    assert listing.status_code == 200
    denied = signed(world.alice, "DELETE", world.url("/pets/3"))
    assert denied.status_code == 403
    assert denied.headers["x-amzn-errortype"] == "AccessDeniedException"
    assert denied.json() == {
        "Message": f"User: arn:aws:iam::{ACCOUNT}:user/alice is not authorized to perform: "
        "execute-api:Invoke on resource: arn:aws:execute-api:us-east-1:********9012:"
        "iam01/prod/DELETE/pets/3 because no identity-based policy allows the "
        "execute-api:Invoke action"
    }


def test_explicit_deny_overrides_allow(world: World) -> None:
    r = signed(world.alice, "GET", world.url("/pets/7"))
    assert r.status_code == 403
    assert r.json()["Message"].endswith("with an explicit deny in an identity-based policy")


def test_requests_aws4auth_and_presigned_urls(world: World) -> None:
    auth = AWS4Auth(world.alice.access_key, world.alice.secret_key, "us-east-1", "execute-api")
    r = requests.get(world.url("/pets/1"), auth=auth, timeout=10)
    assert r.status_code == 200
    request = AWSRequest(method="GET", url=world.url("/pets/2"))
    SigV4QueryAuth(world.alice, "execute-api", "us-east-1", expires=60).add_auth(request)
    assert httpx.get(request.url).status_code == 200
    world.clock.advance(120)
    expired = httpx.get(request.url)
    assert expired.status_code == 403
    assert expired.headers["x-amzn-errortype"] == "InvalidSignatureException"


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_curl_aws_sigv4(world: World) -> None:
    out = subprocess.run(
        [
            "curl",
            "-s",
            "-w",
            "\n%{http_code}",
            "--aws-sigv4",
            "aws:amz:us-east-1:execute-api",
            "--user",
            f"{world.alice.access_key}:{world.alice.secret_key}",
            world.url("/pets"),
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout
    body, status = out.rsplit("\n", 1)
    assert (status, json.loads(body)) == ("200", {"ok": 1})


def test_unsigned_and_attacks(world: World) -> None:
    unsigned = httpx.get(world.url("/pets"))
    assert unsigned.status_code == 403
    assert unsigned.json() == {"message": "Missing Authentication Token"}
    # A signature made for another path or host does not verify here.
    request = AWSRequest(method="GET", url=world.url("/pets/1"))
    SigV4Auth(world.alice, "execute-api", "us-east-1").add_auth(request)
    moved = httpx.get(world.url("/pets/2"), headers=dict(request.headers.items()))
    assert moved.status_code == 403
    assert moved.headers["x-amzn-errortype"] == "InvalidSignatureException"
    other_host = dict(request.headers.items())
    other_host["Host"] = "evil.example"
    assert httpx.get(world.url("/pets/1"), headers=other_host).status_code == 403
    # A tampered body is caught; an unsigned header added afterwards is harmless.
    body_request = AWSRequest(method="POST", url=world.url("/pets"), data=b'{"a":1}')
    SigV4Auth(world.alice, "execute-api", "us-east-1").add_auth(body_request)
    headers = dict(body_request.headers.items())
    tampered = httpx.post(world.url("/pets"), content=b'{"a":2}', headers=headers)
    assert tampered.status_code == 403
    assert tampered.headers["x-amzn-errortype"] == "InvalidSignatureException"
    injected = signed(world.alice, "GET", world.url("/pets/1"))
    assert injected.status_code == 200
    again = dict(request.headers.items())
    again["X-Injected"] = "1"
    assert httpx.get(world.url("/pets/1"), headers=again).status_code == 200
    # Unknown key.
    stranger = Credentials("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    unknown = signed(stranger, "GET", world.url("/pets"))
    assert unknown.status_code == 403
    assert unknown.headers["x-amzn-errortype"] == "UnrecognizedClientException"
    assert unknown.json() == {"message": "The security token included in the request is invalid."}


def test_replay_outside_the_skew_window(world: World) -> None:
    request = AWSRequest(method="GET", url=world.url("/pets/1"))
    SigV4Auth(world.alice, "execute-api", "us-east-1").add_auth(request)
    headers = dict(request.headers.items())
    assert httpx.get(world.url("/pets/1"), headers=headers).status_code == 200
    signed_at = datetime.datetime.strptime(headers["X-Amz-Date"], "%Y%m%dT%H%M%SZ")
    signed_epoch = signed_at.replace(tzinfo=datetime.UTC).timestamp()
    world.clock.advance(signed_epoch + 301 - world.clock.now())
    replay = httpx.get(world.url("/pets/1"), headers=headers)
    assert replay.status_code == 403
    assert replay.json()["message"].startswith("Signature expired:")


def test_disabled_and_deleted_keys_fail_on_the_next_request(world: World) -> None:
    assert signed(world.alice, "GET", world.url("/pets")).status_code == 200
    world.iam.update_access_key(
        UserName="alice", AccessKeyId=world.alice.access_key, Status="Inactive"
    )
    assert signed(world.alice, "GET", world.url("/pets")).status_code == 403
    world.iam.update_access_key(
        UserName="alice", AccessKeyId=world.alice.access_key, Status="Active"
    )
    assert signed(world.alice, "GET", world.url("/pets")).status_code == 200
    world.iam.delete_access_key(UserName="alice", AccessKeyId=world.alice.access_key)
    gone = signed(world.alice, "GET", world.url("/pets"))
    assert gone.status_code == 403
    assert gone.headers["x-amzn-errortype"] == "UnrecognizedClientException"


def test_assumed_role_credentials_work_until_they_expire(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/alice"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    world.iam.create_role(RoleName="reader", AssumeRolePolicyDocument=json.dumps(trust))
    world.iam.put_role_policy(
        RoleName="reader", PolicyName="pets", PolicyDocument=json.dumps(ALLOW_PETS)
    )
    assumed = world.client("sts", world.alice).assume_role(
        RoleArn=f"arn:aws:iam::{ACCOUNT}:role/reader", RoleSessionName="s1", DurationSeconds=900
    )
    c = assumed["Credentials"]
    temp = Credentials(c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"])
    assert temp.access_key.startswith("ASIA")
    assert signed(temp, "GET", world.url("/pets")).status_code == 200
    # The session token of another key is refused.
    mixed = Credentials(temp.access_key, temp.secret_key, "IQoJb3JpZ2luX2VjEXAMPLE")
    assert signed(mixed, "GET", world.url("/pets")).status_code == 403
    # Past the expiry: sign at the gateway's (advanced) time, and get the expired-token error.
    world.clock.advance(901)
    later = datetime.datetime.fromtimestamp(world.clock.now(), datetime.UTC)
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: later.replace(tzinfo=None))
    expired = signed(temp, "GET", world.url("/pets"))
    assert expired.status_code == 403
    assert expired.headers["x-amzn-errortype"] == "ExpiredTokenException"
    assert expired.json() == {"message": "The security token included in the request is expired"}


def test_management_calls_are_authorized_by_iam_policy(world: World) -> None:
    alice_iam = world.client("iam", world.alice)
    with pytest.raises(alice_iam.exceptions.ClientError) as caught:
        alice_iam.create_user(UserName="mallory")
    error = caught.value.response["Error"]
    assert error["Code"] == "AccessDenied"
    assert error["Message"] == (
        f"User: arn:aws:iam::{ACCOUNT}:user/alice is not authorized to perform: "
        f"iam:CreateUser on resource: arn:aws:iam::{ACCOUNT}:user/mallory"
    )
    assert world.client("sts", world.alice).get_caller_identity()["Arn"].endswith("user/alice")


def test_simulate_principal_policy(world: World) -> None:
    result = world.iam.simulate_principal_policy(
        PolicySourceArn=f"arn:aws:iam::{ACCOUNT}:user/alice",
        ActionNames=["execute-api:Invoke"],
        ResourceArns=[
            f"arn:aws:execute-api:us-east-1:{ACCOUNT}:iam01/prod/GET/pets/1",
            f"arn:aws:execute-api:us-east-1:{ACCOUNT}:iam01/prod/GET/pets/7",
            f"arn:aws:execute-api:us-east-1:{ACCOUNT}:iam01/prod/DELETE/pets/1",
        ],
    )
    decisions = [r["EvalDecision"] for r in result["EvaluationResults"]]
    assert decisions == ["allowed", "explicitDeny", "implicitDeny"]


def test_resource_policy_source_range_and_spoofed_forwarded_for(world: World) -> None:
    r = httpx.get(world.url("/office", "range01"), headers={"X-Forwarded-For": "10.1.2.3"})
    assert r.status_code == 403
    assert r.json() == {
        "Message": "User: anonymous is not authorized to perform: execute-api:Invoke on "
        "resource: arn:aws:execute-api:us-east-1:********9012:range01/prod/GET/office "
        "with an explicit deny in a resource-based policy"
    }


def test_private_api_only_on_its_vpc_endpoint(world: World) -> None:
    public = httpx.get(world.url("/inside", "priv01"))
    assert public.status_code == 403
    host, port = world.gateway.app.endpoint_addresses[0]
    inside = httpx.get(f"http://{host}:{port}/restapis/priv01/prod/_user_request_/inside")
    assert inside.status_code == 200


def test_explain_shows_the_deciding_statement(world: World) -> None:
    denied = signed(world.alice, "GET", world.url("/pets/7"))
    request_id = denied.headers["x-amzn-requestid"]
    url = f"{world.gateway.url}/_authgate/requests/{request_id}"
    request = AWSRequest(method="GET", url=url)
    SigV4Auth(world.admin, "apigateway", "us-east-1").add_auth(request)
    record = httpx.get(url, headers=dict(request.headers.items())).json()
    assert record["caller"] == f"arn:aws:iam::{ACCOUNT}:user/alice"
    steps = {entry["step"]: entry for entry in record["trail"]}
    assert steps["authenticate"]["outcome"] == "AWS_IAM"
    assert steps["authorize"]["outcome"] == "Deny"
    assert "NoSevens" in steps["authorize"]["detail"]


def test_forwarded_for_is_honoured_only_from_trusted_proxies(gateway: Any) -> None:
    running = gateway(
        {
            "trusted_proxies": ["127.0.0.1/32"],
            "apis": [{"id": "range01", "definition": "range.yaml", "stages": [{"name": "prod"}]}],
        },
        {"range.yaml": RANGE_API},
    )
    url = f"{running.url}/prod/office"
    assert httpx.get(url, headers={"X-Forwarded-For": "10.1.2.3"}).status_code == 200
    # The client is the first untrusted hop from the right; what it claims further left is
    # its own business and changes nothing.
    chained = httpx.get(url, headers={"X-Forwarded-For": "10.1.2.3, 192.0.2.7"})
    assert chained.status_code == 403
    assert httpx.get(url).status_code == 403
    assert httpx.get(url, headers={"X-Forwarded-For": "not-an-ip"}).status_code == 403


def test_policy_changes_take_effect_on_the_next_request(world: World) -> None:
    assert signed(world.alice, "GET", world.url("/pets/1")).status_code == 200
    world.iam.delete_user_policy(UserName="alice", PolicyName="pets")
    assert signed(world.alice, "GET", world.url("/pets/1")).status_code == 403
    world.iam.put_user_policy(
        UserName="alice", PolicyName="pets", PolicyDocument=json.dumps(ALLOW_PETS)
    )
    assert signed(world.alice, "GET", world.url("/pets/1")).status_code == 200
    # A decision taken for one method never answers for another.
    assert signed(world.alice, "GET", world.url("/admin")).status_code == 403
