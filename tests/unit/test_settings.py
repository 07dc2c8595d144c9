"""authgate.yaml: what is read, and every mistake reported with its location."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from authgate.errors import ConfigError
from authgate.settings import Throttle, parse_settings


def problems(raw: Any) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_settings(raw, Path("/base"), "authgate.yaml")
    return [str(p) for p in caught.value.problems]


def test_defaults_and_a_full_stage() -> None:
    settings = parse_settings(
        {
            "trusted_proxies": ["10.0.0.0/8", "::1"],
            "account_throttle": {"rate": 50, "burst": 10},
            "endpoints": [{"port": 0, "vpc": "vpc-1", "vpce": "vpce-2"}],
            "apis": [
                {
                    "id": "abc1",
                    "definition": "api.yaml",
                    "stages": [
                        {
                            "name": "prod",
                            "variables": {"backend": "http://x"},
                            "throttle": {"rate": 5.5, "burst": 3},
                            "method_throttles": {"/pets/GET": {"rate": 1, "burst": 1}},
                        }
                    ],
                }
            ],
        },
        Path("/base"),
    )
    assert settings.region == "us-east-1"
    assert settings.listen.port == 8080
    assert settings.trusted_proxies == ("10.0.0.0/8", "::1/128")
    assert settings.account_throttle == Throttle(50.0, 10)
    assert settings.endpoints[0].vpce == "vpce-2"
    stage = settings.apis[0].stages[0]
    assert stage.throttle == Throttle(5.5, 3)
    assert dict(stage.method_throttles) == {"/pets/GET": Throttle(1.0, 1)}
    assert settings.apis[0].definition == Path("/base/api.yaml")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"regoin": "us-east-1"}, "authgate.yaml:#/regoin: unknown key 'regoin'"),
        ({"region": "mars"}, "#/region: 'mars' is not a region name"),
        ({"account_id": 123}, "#/account_id: must be 12 digits"),
        ({"listen": {"port": 70000}}, "#/listen/port: must be an integer from 0 to 65535"),
        ({"trusted_proxies": ["nope"]}, "#/trusted_proxies/0: 'nope' is not an IP address"),
        ({"endpoints": [{"vpc": "x", "vpce": "vpce-1"}]}, "#/endpoints/0/vpc: a VPC id"),
        ({"functions": {"F": {"handler": "nocolon"}}}, "#/functions/F/handler: must be"),
        ({"apis": [{"definition": "a.yaml"}]}, "#/apis/0/stages: required"),
        (
            {"apis": [{"definition": "a.yaml", "stages": [{"name": "healthz"}]}]},
            "#/apis/0/stages/0/name: 'healthz' is reserved",
        ),
        (
            {
                "apis": [
                    {"definition": "a.yaml", "stages": [{"name": "p", "throttle": {"rate": -1}}]}
                ]
            },
            "#/apis/0/stages/0/throttle/rate: must be a number",
        ),
        (
            {
                "apis": [
                    {
                        "definition": "a.yaml",
                        "stages": [{"name": "p", "method_throttles": {"pets": {"rate": 1}}}],
                    }
                ]
            },
            "#/apis/0/stages/0/method_throttles/pets: a method throttle is keyed",
        ),
        ({"throttle_fail_open": "yes"}, "#/throttle_fail_open: must be true or false"),
    ],
)
def test_mistakes_are_reported_with_their_location(raw: Any, expected: str) -> None:
    found = problems(raw)
    assert any(expected in p for p in found), found


def test_every_problem_is_reported_at_once() -> None:
    assert len(problems({"region": "x", "account_id": "1", "bogus": 1})) == 3
