"""ARN construction and parsing (spec §1), and the request-context normalisation."""

from __future__ import annotations

from types import MappingProxyType

import pytest

from authgate.policy import (
    MAX_METHOD_ARN_BYTES,
    Arn,
    ContextKeys,
    MethodArn,
    PolicyError,
    Principal,
    PrincipalType,
    RequestContext,
    build_method_arn,
    build_route_arn,
    expand_shorthand,
    mask_account,
    method_arn_too_long,
    parse_policy,
)

ACCOUNT = "123456789012"


@pytest.mark.parametrize(
    ("path", "expected_tail"),
    [
        pytest.param("/pets/7", "prod/GET/pets/7", id="path"),
        pytest.param("/", "prod/GET/", id="root-keeps-trailing-slash"),
        pytest.param("/items/a/b", "prod/GET/items/a/b", id="proxy-expanded"),
    ],
)
def test_method_arn_from_request_parts(path: str, expected_tail: str) -> None:
    arn = build_method_arn(
        region="us-east-1", account=ACCOUNT, api_id="abc123", stage="prod", verb="GET", path=path
    )
    assert arn == f"arn:aws:execute-api:us-east-1:{ACCOUNT}:abc123/{expected_tail}"


def test_spec_proxy_example() -> None:
    # Resource `ANY /items/{proxy+}`, request `POST /prod/items/a/b`: real verb, real path.
    arn = build_method_arn(
        region="us-east-1",
        account=ACCOUNT,
        api_id="abc123",
        stage="prod",
        verb="POST",
        path="/items/a/b",
    )
    assert arn == "arn:aws:execute-api:us-east-1:123456789012:abc123/prod/POST/items/a/b"


def test_http_api_default_stage_appears_literally() -> None:
    arn = build_method_arn(
        region="eu-west-1", account=ACCOUNT, api_id="x1", stage="$default", verb="GET", path="/m"
    )
    assert arn == f"arn:aws:execute-api:eu-west-1:{ACCOUNT}:x1/$default/GET/m"


@pytest.mark.parametrize(
    ("region", "partition"),
    [("us-east-1", "aws"), ("cn-north-1", "aws-cn"), ("us-gov-west-1", "aws-us-gov")],
)
def test_partition_follows_region(region: str, partition: str) -> None:
    arn = build_method_arn(
        region=region, account=ACCOUNT, api_id="a", stage="s", verb="GET", path="/"
    )
    assert arn.startswith(f"arn:{partition}:execute-api:{region}:")


def test_websocket_route_arn_round_trips() -> None:
    arn = build_route_arn(
        region="us-east-1", account=ACCOUNT, api_id="ws1", stage="prod", route_key="$connect"
    )
    assert arn == f"arn:aws:execute-api:us-east-1:{ACCOUNT}:ws1/prod/$connect"
    parsed = MethodArn.parse(arn)
    assert (parsed.verb, parsed.path) == ("$connect", None)
    assert str(parsed) == arn


def test_method_arn_parse_keeps_slashes_in_path() -> None:
    arn = f"arn:aws:execute-api:us-east-1:{ACCOUNT}:abc123/test/GET/a/b/c"
    parsed = MethodArn.parse(arn)
    assert (parsed.region, parsed.account, parsed.api_id) == ("us-east-1", ACCOUNT, "abc123")
    assert (parsed.stage, parsed.verb, parsed.path) == ("test", "GET", "a/b/c")
    assert str(parsed) == arn
    assert MethodArn.parse(arn.removesuffix("a/b/c")).path == ""


@pytest.mark.parametrize(
    "text",
    [
        "arn:aws:s3:::bucket",
        f"arn:aws:execute-api:us-east-1:{ACCOUNT}:abc123",
        f"arn:aws:execute-api:us-east-1:{ACCOUNT}:abc123//GET",
        "not-an-arn",
    ],
)
def test_method_arn_parse_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="ARN"):
        MethodArn.parse(text)


def test_arn_parse_and_str() -> None:
    arn = Arn.parse("arn:aws:apigateway:us-east-1::/restapis/abc/stages")
    assert (arn.service, arn.region, arn.account) == ("apigateway", "us-east-1", "")
    assert arn.resource == "/restapis/abc/stages"
    assert str(arn) == "arn:aws:apigateway:us-east-1::/restapis/abc/stages"
    with pytest.raises(ValueError, match="not an ARN"):
        Arn.parse("arn:aws:s3")


def test_account_is_masked_to_last_four_digits() -> None:
    arn = "arn:aws:execute-api:eu-west-1:111122223333:abc123/v1/GET/x"
    assert mask_account(arn) == "arn:aws:execute-api:eu-west-1:********3333:abc123/v1/GET/x"
    assert mask_account("arn:aws:apigateway:us-east-1::/apikeys").endswith("::/apikeys")


def test_method_arn_length_limit_is_in_bytes() -> None:
    base = f"arn:aws:execute-api:us-east-1:{ACCOUNT}:abc123/prod/GET/"
    fits = base + "a" * (MAX_METHOD_ARN_BYTES - len(base))
    assert not method_arn_too_long(fits)
    assert method_arn_too_long(fits + "a")
    assert method_arn_too_long(base + "é" * ((MAX_METHOD_ARN_BYTES - len(base)) // 2 + 1))


def test_shorthand_expands_under_the_owning_api() -> None:
    expanded = expand_shorthand(
        "execute-api:/prod/GET/pets", region="us-east-1", account=ACCOUNT, api_id="abc123"
    )
    assert expanded == f"arn:aws:execute-api:us-east-1:{ACCOUNT}:abc123/prod/GET/pets"
    assert expand_shorthand("*", region="r", account="a", api_id="i") == "*"


# --- principals and context keys -------------------------------------------------------------


@pytest.mark.parametrize(
    ("arn", "kind"),
    [
        (f"arn:aws:iam::{ACCOUNT}:root", PrincipalType.ACCOUNT),
        (f"arn:aws:iam::{ACCOUNT}:user/path/alice", PrincipalType.USER),
        (f"arn:aws:sts::{ACCOUNT}:assumed-role/role/session", PrincipalType.ASSUMED_ROLE),
        (f"arn:aws:sts::{ACCOUNT}:federated-user/fed", PrincipalType.FEDERATED_USER),
    ],
)
def test_principal_from_arn(arn: str, kind: PrincipalType) -> None:
    principal = Principal.from_arn(arn)
    assert (principal.account, principal.type) == (ACCOUNT, kind)
    assert principal.signed


@pytest.mark.parametrize(
    "arn",
    [
        f"arn:aws:iam::{ACCOUNT}:role/r",
        "anonymous",
        f"arn:aws:s3:::{ACCOUNT}",
        "arn:aws:iam:::root",
    ],
)
def test_principal_from_arn_rejects_non_callers(arn: str) -> None:
    with pytest.raises(ValueError, match="principal"):
        Principal.from_arn(arn)


def test_signed_callers_bring_principal_keys() -> None:
    alice = Principal.from_arn(f"arn:aws:iam::{ACCOUNT}:user/team/alice")
    keys = RequestContext("s:a", "r", alice).keys
    assert keys["aws:username"] == ("alice",)
    assert keys["AWS:PrincipalAccount"] == (ACCOUNT,)
    assert keys["aws:principaltype"] == ("User",)
    session = Principal.from_arn(f"arn:aws:sts::{ACCOUNT}:assumed-role/ops/s")
    assert "aws:username" not in RequestContext("s:a", "r", session).keys


def test_given_keys_win_over_derived_ones() -> None:
    alice = Principal.from_arn(f"arn:aws:iam::{ACCOUNT}:user/alice")
    keys = RequestContext("s:a", "r", alice, ContextKeys({"AWS:UserName": "override"})).keys
    assert keys["aws:username"] == ("override",)


def test_context_values_are_normalised() -> None:
    keys = ContextKeys(
        {
            "A:Bool": True,
            "a:int": 3,
            "a:float": 1.5,
            "a:list": ["x", 2, False],
            "a:none": None,
            "a:empty": [],
        }
    )
    assert dict(keys) == {
        "a:bool": ("true",),
        "a:int": ("3",),
        "a:float": ("1.5",),
        "a:list": ("x", "2", "false"),
    }
    assert keys.is_multivalued("A:LIST")
    assert not keys.is_multivalued("a:int")
    assert keys.single("a:list") is None
    assert keys.single("a:int") == "3"
    with pytest.raises(TypeError, match="a:obj"):
        ContextKeys({"a:obj": {"nested": 1}})  # type: ignore[dict-item]


def test_any_mapping_is_accepted_and_non_json_is_rejected() -> None:
    statement = MappingProxyType({"Effect": "Allow", "Action": ("s:a",), "Resource": "*"})
    policy = parse_policy(MappingProxyType({"Version": "2012-10-17", "Statement": [statement]}))
    assert policy.to_json() == (
        '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s:a"],"Resource":"*"}]}'
    )
    with pytest.raises(PolicyError, match="not JSON data"):
        parse_policy({"Statement": {"Effect": "Allow", "Action": {1, 2}, "Resource": "*"}})
