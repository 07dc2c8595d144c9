"""User pools across a fleet: two gateway processes on one records database and one public URL.

A user signs up through one process and signs in through the other; tokens from either verify
at both; a global sign-out through one is refused by the other within a change-feed poll.
"""

from __future__ import annotations

import configparser
import json
from collections.abc import Iterator
from pathlib import Path

import boto3
import httpx
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.e2e.userpools import NO_RETRIES, PASSWORD
from tests.support import free_port, serve_gateway, wait_for


def up(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=0.5).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.fixture
def two(tmp_path: Path) -> Iterator[tuple[list[str], Path]]:
    ports = [free_port(), free_port()]
    settings = {
        "data_dir": "data",
        "access_log": "access.log",
        "public_url": "https://id.example.com",
    }
    (tmp_path / "authgate.yaml").write_text(json.dumps(settings))
    processes = []
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        for port, url in zip(ports, urls, strict=True):
            processes.append(
                serve_gateway(tmp_path / "authgate.yaml", port, tmp_path / f"{port}.log")
            )
            assert wait_for(lambda url=url: up(url), timeout=20), "a gateway did not start"
        yield urls, tmp_path / "data"
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.communicate(timeout=15)


def test_sign_out_in_one_process_is_seen_by_the_other(two: tuple[list[str], Path]) -> None:
    (first, second), data_dir = two
    profile = configparser.ConfigParser()
    profile.read(data_dir / "credentials")
    admin = boto3.client(
        "cognito-idp",
        endpoint_url=first,
        region_name="us-east-1",
        aws_access_key_id=profile["default"]["aws_access_key_id"],
        aws_secret_access_key=profile["default"]["aws_secret_access_key"],
        config=NO_RETRIES,
    )
    public = [
        boto3.client(
            "cognito-idp",
            endpoint_url=url,
            region_name="us-east-1",
            config=NO_RETRIES.merge(Config(signature_version=UNSIGNED)),
        )
        for url in (first, second)
    ]
    pool_id = admin.create_user_pool(PoolName="fleet", UsernameAttributes=["email"])["UserPool"][
        "Id"
    ]
    client_id = admin.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName="app",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]["ClientId"]
    public[1].sign_up(ClientId=client_id, Username="fay@example.com", Password=PASSWORD)
    admin.admin_confirm_sign_up(UserPoolId=pool_id, Username="fay@example.com")
    tokens = public[0].initiate_auth(
        ClientId=client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "fay@example.com", "PASSWORD": PASSWORD},
    )["AuthenticationResult"]
    for client in public:  # the issuer is the public URL, so both verify the token
        assert client.get_user(AccessToken=tokens["AccessToken"])["Username"]

    public[0].global_sign_out(AccessToken=tokens["AccessToken"])

    def refused_by_second() -> bool:
        try:
            public[1].get_user(AccessToken=tokens["AccessToken"])
        except ClientError as error:
            return error.response["Error"]["Message"] == "Access Token has been revoked"
        return False

    assert wait_for(refused_by_second, timeout=5)
