"""Custom (Lambda) authorizers over real HTTP: powertools and blueprint-style functions run
unchanged, every outcome AWS documents, the result cache on an injected clock, and what the
backend sees."""

from __future__ import annotations

import configparser
import json
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from botocore.config import Config

from authgate.app import Application
from authgate.clock import ManualClock
from authgate.http1.message import Request, Response
from authgate.http1.server import HttpServer
from authgate.settings import load_settings
from tests.support import LoopThread, RunningGateway, http_proxy, lambda_uri, openapi, proxy_to

HANDLERS = Path(__file__).parent / "handlers"
ACCOUNT = "123456789012"
PLAN_KEY = "planKeyValue0123456789abcdef"
IMPLICIT = "User is not authorized to access this resource"
EXPLICIT = f"{IMPLICIT} with an explicit deny in an identity-based policy"


def fn(module: str, func: str, **extra: Any) -> dict[str, Any]:
    return {"handler": f"{HANDLERS / module}.py:{func}", **extra}


FUNCTIONS = {
    "Echo": fn("behaviours", "echo_event", timeout=10),
    "PtToken": fn("authorizer_powertools", "token_handler"),
    "PtRequest": fn("authorizer_powertools", "request_handler"),
    "PtSimple": fn("authorizer_powertools", "simple_handler"),
    "Blueprint": fn("authorizer_blueprint", "lambda_handler"),
    "Counted": fn("authorizer_behaviours", "counted"),
    "Calls": fn("authorizer_behaviours", "report_calls"),
    "RaiseOther": fn("authorizer_behaviours", "raise_other"),
    "Slow": fn("authorizer_behaviours", "slow", timeout=0.2),
    "ProxyShaped": fn("authorizer_behaviours", "proxy_shaped"),
    "Nested": fn("authorizer_behaviours", "nested_context"),
    "NoPolicy": fn("authorizer_behaviours", "no_policy"),
    "NotObject": fn("authorizer_behaviours", "not_json_object"),
    "EchoAuth": fn("authorizer_behaviours", "echo_event"),
}


def token_scheme(function: str, header: str = "Authorization", **extra: Any) -> dict[str, Any]:
    return {
        "type": "apiKey",
        "name": header,
        "in": "header",
        "x-amazon-apigateway-authtype": "custom",
        "x-amazon-apigateway-authorizer": {
            "type": "token",
            "authorizerUri": lambda_uri(function),
            **extra,
        },
    }


def request_scheme(function: str, sources: str | list[str], **extra: Any) -> dict[str, Any]:
    return {
        "type": "apiKey",
        "name": "Unused",
        "in": "header",
        "x-amazon-apigateway-authorizer": {
            "type": "request",
            "authorizerUri": lambda_uri(function),
            "identitySource": sources,
            **extra,
        },
    }


def secured(scheme: str, integration: dict[str, Any] | None = None) -> dict[str, Any]:
    return {**(integration or proxy_to("Echo")), "security": [{scheme: []}]}


def behaviour_api(backend_url: str) -> dict[str, Any]:
    behaviours = ("RaiseOther", "Slow", "ProxyShaped", "Nested", "NoPolicy", "NotObject")
    paths: dict[str, Any] = {f"/{name.lower()}": {"get": secured(name)} for name in behaviours}
    paths["/counted/pets/{id}"] = {"get": secured("counted")}
    paths["/counted/other"] = {"get": secured("counted"), "post": secured("counted")}
    paths["/uncached"] = {"get": secured("uncached")}
    paths["/calls"] = {"get": proxy_to("Calls")}
    paths["/echo/{id}"] = {"get": secured("echo")}
    paths["/mapped"] = {
        "get": secured(
            "counted",
            http_proxy(
                f"{backend_url}/mapped",
                requestParameters={
                    "integration.request.header.X-Tenant-Level": "context.authorizer.calls",
                    "integration.request.header.X-Principal": "context.authorizer.principalId",
                    "integration.request.querystring.who": "context.authorizer.principalId",
                },
            ),
        )
    }
    schemes = {name: token_scheme(name) for name in behaviours}
    schemes["counted"] = token_scheme(
        "Counted", "X-Token", identityValidationExpression="[a-z]+-[0-9a-f]+"
    )
    schemes["uncached"] = token_scheme("Counted", "X-Token", authorizerResultTtlInSeconds=0)
    schemes["echo"] = request_scheme(
        "EchoAuth",
        "method.request.header.X-Token, method.request.querystring.q, stageVariables.tier",
    )
    return openapi(paths, components={"securitySchemes": schemes})


POWERTOOLS_API = openapi(
    {
        "/pets/{id}": {"get": secured("pt")},
        "/pets": {"post": secured("pt")},
        "/metered": {"get": {**secured("pt"), "security": [{"pt": [], "key": []}]}},
        "/tenant/{id}": {"get": secured("tenant")},
    },
    components={
        "securitySchemes": {
            "pt": token_scheme("PtToken"),
            "tenant": request_scheme(
                "PtRequest", "method.request.header.X-Tenant, method.request.querystring.key"
            ),
            "key": {"type": "apiKey", "name": "x-api-key", "in": "header"},
        }
    },
    **{"x-amazon-apigateway-api-key-source": "AUTHORIZER"},
)

BLUEPRINT_API = openapi(
    {"/pets": {"get": secured("bp"), "post": secured("bp")}, "/pets/{id}": {"get": secured("bp")}},
    components={"securitySchemes": {"bp": token_scheme("Blueprint")}},
)


def http_api(simple: bool, version: str) -> dict[str, Any]:
    authorizer: dict[str, Any] = {
        "type": "request",
        "authorizerUri": lambda_uri("PtSimple" if simple else "EchoAuth"),
        "authorizerPayloadFormatVersion": version,
        "identitySource": "$request.header.X-Gate, $request.querystring.q",
        "authorizerResultTtlInSeconds": 0,
    }
    if simple:
        authorizer["enableSimpleResponses"] = True
    return openapi(
        {
            "/things/{id}": {
                "get": {**proxy_to("Echo", payloadFormatVersion="2.0"), "security": [{"gate": []}]}
            },
            "/v1": {
                "get": {**proxy_to("Echo", payloadFormatVersion="1.0"), "security": [{"gate": []}]}
            },
        },
        components={
            "securitySchemes": {
                "gate": {
                    "type": "apiKey",
                    "name": "X-Gate",
                    "in": "header",
                    "x-amazon-apigateway-authorizer": authorizer,
                }
            }
        },
        **{"x-amazon-apigateway-importexport-version": "1.0"},
    )


async def echo_backend(request: Request) -> Response:
    payload = {"query": request.query, "headers": {k.lower(): v for k, v in request.headers}}
    return Response(200, [("content-type", "application/json")], json.dumps(payload).encode())


@dataclass
class World:
    gateway: RunningGateway
    clock: ManualClock
    data_dir: Path

    def url(self, api: str, path: str, stage: str = "prod") -> str:
        return f"{self.gateway.url}/restapis/{api}/{stage}/_user_request_{path}"

    def get(self, api: str, path: str, **headers: str) -> httpx.Response:
        return httpx.get(self.url(api, path), headers=headers, timeout=10)

    def calls(self, token_value: str | None = None) -> int:
        """How often the Counted authorizer ran for a token (None: for any)."""
        params = {"token": token_value} if token_value is not None else {}
        return int(httpx.get(self.url("beh", "/calls"), params=params).text)

    def apigateway(self) -> Any:
        profile = configparser.ConfigParser()
        profile.read(self.data_dir / "credentials")
        return boto3.client(
            "apigateway",
            endpoint_url=self.gateway.url,
            region_name="us-east-1",
            aws_access_key_id=profile["default"]["aws_access_key_id"],
            aws_secret_access_key=profile["default"]["aws_secret_access_key"],
            config=Config(retries={"total_max_attempts": 1}),
        )


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    loop = LoopThread()
    backend = HttpServer(echo_backend)
    host, port = loop.run(backend.start("127.0.0.1", 0))
    root = tmp_path_factory.mktemp("custom")
    documents = {
        "sv.json": openapi(
            {"/who": {"get": secured("sv")}},
            components={
                "securitySchemes": {"sv": token_scheme("${stageVariables.authFn}", "X-Token")}
            },
        ),
        "pt.json": POWERTOOLS_API,
        "bp.json": BLUEPRINT_API,
        "beh.json": behaviour_api(f"http://{host}:{port}"),
        "simple.json": http_api(simple=True, version="2.0"),
        "policy2.json": http_api(simple=False, version="2.0"),
        "policy1.json": http_api(simple=False, version="1.0"),
    }
    for name, document in documents.items():
        (root / name).write_text(json.dumps(document))
    prod = [{"name": "prod", "variables": {"tier": "gold"}}]
    settings = {
        "data_dir": "data",
        "access_log": "access.log",
        "functions": FUNCTIONS,
        "apis": [
            {
                "id": "sv",
                "definition": "sv.json",
                "stages": [
                    {"name": "prod", "variables": {"authFn": "Counted"}},
                    {"name": "beta", "variables": {"authFn": "RaiseOther"}},
                ],
            },
            {"id": "pt", "definition": "pt.json", "stages": prod},
            {"id": "bp", "definition": "bp.json", "stages": prod},
            {"id": "beh", "definition": "beh.json", "stages": prod},
            {"id": "simple", "definition": "simple.json", "stages": prod},
            {"id": "policy2", "definition": "policy2.json", "stages": prod},
            {"id": "policy1", "definition": "policy1.json", "stages": prod},
        ],
    }
    (root / "authgate.yaml").write_text(json.dumps(settings))
    clock = ManualClock(time.time())  # SigV4 clients sign with the real time
    gateway = RunningGateway(Application(load_settings(root / "authgate.yaml"), clock=clock), loop)
    world = World(gateway, clock, root / "data")
    # before any test moves the clock: boto3 signs with the real time
    client = world.apigateway()
    key = client.create_api_key(name="from-authorizer", value=PLAN_KEY, enabled=True)
    plan = client.create_usage_plan(name="plan", apiStages=[{"apiId": "pt", "stage": "prod"}])
    client.create_usage_plan_key(usagePlanId=plan["id"], keyId=key["id"], keyType="API_KEY")
    yield world
    gateway.stop()
    loop.run(backend.shutdown(1.0))
    loop.close()


def token() -> str:
    return uuid.uuid4().hex[:12]


def event_of(response: httpx.Response) -> dict[str, Any]:
    """The Lambda proxy event the Echo backend received."""
    assert response.status_code == 200, response.text
    return response.json()["event"]  # type: ignore[no-any-return]


def authorizer_seen(response: httpx.Response) -> dict[str, Any]:
    return event_of(response)["requestContext"]["authorizer"]  # type: ignore[no-any-return]


def assert_aws_error(response: httpx.Response, status: int, body: object, error: str) -> None:
    assert response.status_code == status, response.text
    assert response.json() == body
    assert response.headers["x-amzn-errortype"] == error


# -- authorizers written for AWS run unchanged ------------------------------------------------


def test_powertools_token_authorizer_context_reaches_the_function_as_strings(world: World) -> None:
    seen = authorizer_seen(world.get("pt", "/pets/7", Authorization="Bearer allow"))
    assert seen.pop("integrationLatency") >= 0
    assert seen == {"principalId": "user-allow", "tenant": "acme", "level": "3", "admin": "true"}


def test_powertools_route_policy_allows_its_route_and_denies_the_rest(world: World) -> None:
    assert world.get("pt", "/pets/7", Authorization="Bearer reader").status_code == 200
    denied = httpx.post(world.url("pt", "/pets"), headers={"Authorization": "Bearer reader"})
    assert_aws_error(denied, 403, {"Message": IMPLICIT}, "AccessDeniedException")
    refused = world.get("pt", "/pets/7", Authorization="Bearer stranger")
    assert_aws_error(refused, 403, {"Message": EXPLICIT}, "AccessDeniedException")


def test_powertools_request_authorizer_reads_headers_and_query(world: World) -> None:
    url = world.url("pt", "/tenant/1")
    allowed = httpx.get(url, params={"key": "acme-key"}, headers={"X-Tenant": "acme"})
    seen = authorizer_seen(allowed)
    assert (seen["principalId"], seen["tenant"]) == ("tenant-acme", "acme")
    assert (seen["path"], seen["resource"]) == ("/tenant/1", "/tenant/{id}")
    wrong = httpx.get(url, params={"key": "other-key"}, headers={"X-Tenant": "acme"})
    assert wrong.status_code == 403
    missing = httpx.get(url, headers={"X-Tenant": "acme"})
    assert_aws_error(missing, 401, {"message": "Unauthorized"}, "UnauthorizedException")


def test_blueprint_style_authorizer(world: World) -> None:
    seen = authorizer_seen(world.get("bp", "/pets", Authorization="Bearer someone"))
    assert seen["principalId"] == "blueprint-user"
    assert (seen["style"], seen["count"], seen["ok"]) == ("blueprint", "1", "true")
    assert world.get("bp", "/pets/3", Authorization="Bearer someone").status_code == 200
    posted = httpx.post(world.url("bp", "/pets"), headers={"Authorization": "Bearer someone"})
    assert_aws_error(posted, 403, {"Message": EXPLICIT}, "AccessDeniedException")
    nobody = world.get("bp", "/pets", Authorization="Bearer nobody")
    assert_aws_error(nobody, 401, {"message": "Unauthorized"}, "UnauthorizedException")


def test_usage_identifier_key_feeds_the_authorizer_key_source(world: World) -> None:
    metered = world.get("pt", "/metered", Authorization="Bearer metered")
    assert metered.status_code == 200, metered.text
    assert event_of(metered)["requestContext"]["identity"]["apiKey"] == PLAN_KEY
    keyless = world.get("pt", "/metered", Authorization="Bearer allow")
    assert_aws_error(keyless, 403, {"message": "Forbidden"}, "ForbiddenException")


# -- the events sent ---------------------------------------------------------------------------


def test_request_event_is_the_proxy_event_without_body(world: World) -> None:
    response = httpx.get(
        world.url("beh", "/echo/42"),
        params={"q": "one", "r": "x"},
        headers={"X-Token": "t-1"},
    )
    event = json.loads(authorizer_seen(response)["event"])
    assert event["type"] == "REQUEST"
    assert event["methodArn"] == f"arn:aws:execute-api:us-east-1:{ACCOUNT}:beh/prod/GET/echo/42"
    assert (event["resource"], event["path"], event["httpMethod"]) == (
        "/echo/{id}",
        "/echo/42",
        "GET",
    )
    assert event["headers"]["X-Token"] == "t-1"
    assert event["multiValueHeaders"]["X-Token"] == ["t-1"]
    assert event["queryStringParameters"] == {"q": "one", "r": "x"}
    assert event["pathParameters"] == {"id": "42"}
    assert event["stageVariables"] == {"tier": "gold"}
    context = event["requestContext"]
    assert (context["apiId"], context["stage"], context["resourcePath"]) == (
        "beh",
        "prod",
        "/echo/{id}",
    )
    assert context["identity"]["sourceIp"] == "127.0.0.1"
    assert "body" not in event
    assert "authorizer" not in context


def test_a_missing_stage_variable_source_is_401(world: World) -> None:
    response = httpx.get(world.url("beh", "/echo/1"), headers={"X-Token": "t"})
    assert_aws_error(response, 401, {"message": "Unauthorized"}, "UnauthorizedException")


def test_token_event_and_context_to_a_lambda_backend(world: World) -> None:
    tok = f"allow-{token()}"
    seen = authorizer_seen(world.get("beh", "/counted/other", **{"X-Token": tok}))
    assert (seen["principalId"], seen["calls"]) == (tok, "1")
    assert isinstance(seen["integrationLatency"], int)


def test_context_reaches_an_http_backend_through_request_parameters(world: World) -> None:
    tok = f"allow-{token()}"
    response = world.get("beh", "/mapped", **{"X-Token": tok})
    assert response.status_code == 200, response.text
    seen = response.json()
    assert seen["headers"]["x-principal"] == tok
    assert seen["headers"]["x-tenant-level"] == "1"
    assert seen["query"] == f"who={tok}"


def test_policy_conditions_see_the_request(world: World) -> None:
    near = world.get("beh", "/counted/other", **{"X-Token": f"near-{token()}"})
    assert near.status_code == 200, near.text
    far = world.get("beh", "/counted/other", **{"X-Token": f"far-{token()}"})
    assert_aws_error(far, 403, {"Message": IMPLICIT}, "AccessDeniedException")


# -- every outcome -----------------------------------------------------------------------------


def test_missing_identity_source_is_401_without_a_call(world: World) -> None:
    before = world.calls()
    response = world.get("beh", "/counted/other")
    assert_aws_error(response, 401, {"message": "Unauthorized"}, "UnauthorizedException")
    empty = world.get("beh", "/counted/other", **{"X-Token": ""})
    assert empty.status_code == 401
    assert world.calls() == before


def test_token_failing_the_validation_expression_is_401_without_a_call(world: World) -> None:
    before = world.calls()
    for bad in ("Bearer allow-abc", "allow-abc!", "ALLOW-abc"):
        response = world.get("beh", "/counted/other", **{"X-Token": bad})
        assert_aws_error(response, 401, {"message": "Unauthorized"}, "UnauthorizedException")
    assert world.calls() == before


def test_function_raising_unauthorized_is_401(world: World) -> None:
    tok = f"unauthorized-{token()}"
    response = world.get("beh", "/counted/other", **{"X-Token": tok})
    assert_aws_error(response, 401, {"message": "Unauthorized"}, "UnauthorizedException")


def test_deny_policy_is_403_with_aws_message(world: World) -> None:
    response = world.get("beh", "/counted/other", **{"X-Token": f"deny-{token()}"})
    assert_aws_error(response, 403, {"Message": EXPLICIT}, "AccessDeniedException")


@pytest.mark.parametrize(
    "path",
    ["/raiseother", "/slow", "/proxyshaped", "/nested", "/nopolicy", "/notobject"],
)
def test_failures_are_500_authorizer_configuration_errors(world: World, path: str) -> None:
    response = world.get("beh", path, Authorization="Bearer token")
    assert_aws_error(response, 500, {"message": None}, "AuthorizerConfigurationException")


def test_errors_never_leak_to_the_client(world: World) -> None:
    response = world.get("beh", "/raiseother", Authorization="Bearer token")
    assert "expired" not in response.text
    assert "ValueError" not in response.text


# -- the cache ---------------------------------------------------------------------------------


def test_cache_hit_within_ttl_calls_the_function_once(world: World) -> None:
    tok = f"allow-{token()}"
    first = authorizer_seen(world.get("beh", "/counted/other", **{"X-Token": tok}))
    world.clock.advance(299)
    second = authorizer_seen(world.get("beh", "/counted/other", **{"X-Token": tok}))
    assert (first["calls"], second["calls"]) == ("1", "1")
    assert second["integrationLatency"] == 0
    assert world.calls(tok) == 1


def test_cache_entry_expires_after_the_ttl(world: World) -> None:
    tok = f"allow-{token()}"
    world.get("beh", "/counted/other", **{"X-Token": tok})
    world.clock.advance(301)
    again = authorizer_seen(world.get("beh", "/counted/other", **{"X-Token": tok}))
    assert again["calls"] == "2"
    assert world.calls(tok) == 2


def test_deny_is_cached(world: World) -> None:
    tok = f"deny-{token()}"
    for _ in range(3):
        assert world.get("beh", "/counted/other", **{"X-Token": tok}).status_code == 403
    assert world.calls(tok) == 1


@pytest.mark.parametrize("kind", ["error", "unauthorized"])
def test_errors_are_not_cached(world: World, kind: str) -> None:
    tok = f"{kind}-{token()}"
    statuses = [
        world.get("beh", "/counted/other", **{"X-Token": tok}).status_code for _ in range(3)
    ]
    assert statuses == [500, 500, 500] if kind == "error" else [401, 401, 401]
    assert world.calls(tok) == 3


def test_cached_policy_is_evaluated_again_for_each_route(world: World) -> None:
    tok = f"pets-{token()}"
    assert world.get("beh", "/counted/pets/1", **{"X-Token": tok}).status_code == 200
    other = world.get("beh", "/counted/other", **{"X-Token": tok})
    assert_aws_error(other, 403, {"Message": IMPLICIT}, "AccessDeniedException")
    posted = httpx.post(world.url("beh", "/counted/other"), headers={"X-Token": tok})
    assert posted.status_code == 403
    assert world.get("beh", "/counted/pets/2", **{"X-Token": tok}).status_code == 403
    assert world.get("beh", "/counted/pets/1", **{"X-Token": tok}).status_code == 200
    assert world.calls(tok) == 1


def concurrently(world: World, path: str, tok: str, n: int = 8) -> list[httpx.Response]:
    """`n` requests with the same token, all in flight at once."""
    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(lambda _: world.get("beh", path, **{"X-Token": tok}), range(n)))


def test_concurrent_misses_for_one_token_call_the_function_once(world: World) -> None:
    tok = f"slow-{token()}"
    responses = concurrently(world, "/counted/other", tok)
    assert [r.status_code for r in responses] == [200] * len(responses)
    assert world.calls(tok) == 1
    assert {authorizer_seen(r)["principalId"] for r in responses} == {tok}


def test_concurrent_misses_share_a_failure_and_the_next_request_calls_again(world: World) -> None:
    tok = f"slowerror-{token()}"
    responses = concurrently(world, "/counted/other", tok, 4)
    assert [r.status_code for r in responses] == [500] * 4
    assert world.calls(tok) == 1
    assert world.get("beh", "/counted/other", **{"X-Token": tok}).status_code == 500
    assert world.calls(tok) == 2  # a failure is shared by the requests waiting, never cached


def test_a_waiting_request_calls_itself_when_the_caller_it_waited_on_goes_away(
    world: World,
) -> None:
    tok = f"slow-{token()}"
    url = world.url("beh", "/counted/other")
    with ThreadPoolExecutor(2) as pool:
        leaving = pool.submit(httpx.get, url, headers={"X-Token": tok}, timeout=0.1)
        time.sleep(0.03)
        staying = pool.submit(world.get, "beh", "/counted/other", **{"X-Token": tok})
        with pytest.raises(httpx.TimeoutException):
            leaving.result()
        assert staying.result().status_code == 200
    assert world.calls(tok) == 2


def test_uncached_authorizers_are_called_for_every_concurrent_request(world: World) -> None:
    tok = f"slow-{token()}"
    responses = concurrently(world, "/uncached", tok, 4)
    assert [r.status_code for r in responses] == [200] * 4
    assert world.calls(tok) == 4


def test_ttl_zero_calls_the_function_every_time(world: World) -> None:
    tok = f"allow-{token()}"
    for _ in range(3):
        assert world.get("beh", "/uncached", **{"X-Token": tok}).status_code == 200
    assert world.calls(tok) == 3


# -- HTTP APIs -------------------------------------------------------------------------------


def test_http_api_simple_responses(world: World) -> None:
    allowed = httpx.get(
        world.url("simple", "/things/9"), params={"q": "x"}, headers={"X-Gate": "open"}
    )
    assert allowed.status_code == 200, allowed.text
    seen = event_of(allowed)["requestContext"]["authorizer"]
    assert seen == {"lambda": {"route": "GET /things/{id}", "source": ["open", "x"], "n": 7}}
    refused = httpx.get(
        world.url("simple", "/things/9"), params={"q": "x"}, headers={"X-Gate": "shut"}
    )
    assert (refused.status_code, refused.json()) == (403, {"message": "Forbidden"})
    missing = httpx.get(world.url("simple", "/things/9"), headers={"X-Gate": "open"})
    assert (missing.status_code, missing.json()) == (401, {"message": "Unauthorized"})


def test_http_api_payload_2_event(world: World) -> None:
    response = httpx.get(
        world.url("policy2", "/things/5"), params={"q": "z"}, headers={"X-Gate": "g"}
    )
    seen = event_of(response)["requestContext"]["authorizer"]
    event = json.loads(seen["lambda"]["event"])
    assert (event["version"], event["type"]) == ("2.0", "REQUEST")
    assert event["routeArn"] == f"arn:aws:execute-api:us-east-1:{ACCOUNT}:policy2/prod/GET/things/5"
    assert event["identitySource"] == ["g", "z"]
    assert (event["routeKey"], event["rawPath"]) == ("GET /things/{id}", "/prod/things/5")
    assert event["headers"]["x-gate"] == "g"
    assert event["pathParameters"] == {"id": "5"}
    assert "body" not in event


def test_http_api_payload_1_event(world: World) -> None:
    response = httpx.get(world.url("policy1", "/v1"), params={"q": "z"}, headers={"X-Gate": "g"})
    seen = event_of(response)["requestContext"]["authorizer"]
    assert seen["principalId"] == "echo"
    event = json.loads(seen["event"])
    assert (event["version"], event["type"]) == ("1.0", "REQUEST")
    assert event["methodArn"] == f"arn:aws:execute-api:us-east-1:{ACCOUNT}:policy1/prod/GET/v1"
    assert event["identitySource"] == event["authorizationToken"] == "g,z"


def test_a_stage_variable_in_the_authorizer_uri_picks_the_function_per_stage(world: World) -> None:
    tok = f"allow-{token()}"
    prod = httpx.get(world.url("sv", "/who", "prod"), headers={"X-Token": tok})
    assert authorizer_seen(prod)["principalId"] == tok
    assert world.calls(tok) == 1
    beta = httpx.get(world.url("sv", "/who", "beta"), headers={"X-Token": tok})
    assert_aws_error(beta, 500, {"message": None}, "AuthorizerConfigurationException")
    assert world.calls(tok) == 1  # the beta stage's variable names another function


# -- limits ------------------------------------------------------------------------------------


def test_a_method_arn_over_1600_bytes_is_414_without_a_call(world: World) -> None:
    arn_prefix = f"arn:aws:execute-api:us-east-1:{ACCOUNT}:beh/prod/GET/counted/pets/"
    tok = f"allow-{token()}"
    longest = "p" * (1600 - len(arn_prefix))
    assert world.get("beh", f"/counted/pets/{longest}", **{"X-Token": tok}).status_code == 200
    response = world.get("beh", f"/counted/pets/{longest}p", **{"X-Token": tok})
    assert response.status_code == 414
    assert response.text == "Request URI too long"
    assert response.headers["x-amzn-requestid"]
    assert world.calls(tok) == 1  # only the request within the limit reached the function
