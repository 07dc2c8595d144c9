"""Declared authorizers: every AWS type read into its model, and every mistake named where it is."""

from __future__ import annotations

from typing import Any

import pytest

from authgate.definition.model import (
    AuthorizerType,
    FunctionAuthorizerSettings,
    IdentitySource,
    JwtAuthorizerSettings,
    Protocol,
    RestApi,
    UserPoolAuthorizerSettings,
)
from authgate.definition.openapi import parse_definition
from authgate.errors import ConfigError
from authgate.policy import AuthorizationType

AUTH_URI = (
    "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
    "arn:aws:lambda:us-east-1:123456789012:function:Auth/invocations"
)
POOL = "arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_AbCdEf123"
HTTP_API = {"x-amazon-apigateway-importexport-version": "1.0"}


def mock() -> dict[str, Any]:
    return {"x-amazon-apigateway-integration": {"type": "mock"}}


def document(schemes: dict[str, Any], required: list[Any], **top: Any) -> dict[str, Any]:
    return {
        "openapi": "3.0.1",
        "info": {"title": "t", "version": "1"},
        "paths": {"/a": {"get": {**mock(), "security": required}}},
        "components": {"securitySchemes": schemes},
        **top,
    }


def header_scheme(authorizer: dict[str, Any], name: str = "Authorization") -> dict[str, Any]:
    return {
        "type": "apiKey",
        "name": name,
        "in": "header",
        "x-amazon-apigateway-authtype": "custom",
        "x-amazon-apigateway-authorizer": authorizer,
    }


def parse(doc: dict[str, Any]) -> RestApi:
    return parse_definition(doc, api_id="a1", source="api.yaml")


def problems(doc: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse(doc)
    return [str(p) for p in caught.value.problems]


def test_token_authorizer_reads_its_header_from_the_scheme() -> None:
    raw = {
        "type": "token",
        "authorizerUri": AUTH_URI,
        "authorizerResultTtlInSeconds": 60,
        "identityValidationExpression": "^Bearer [-0-9a-zA-Z._]+$",
        "authorizerCredentials": "arn:aws:iam::123456789012:role/invoker",
    }
    api = parse(document({"tok": header_scheme(raw, "X-Token")}, [{"tok": []}]))
    spec = api.authorizers["tok"]
    assert spec.type is AuthorizerType.TOKEN
    assert spec.location == "api.yaml:#/components/securitySchemes/tok"
    assert spec.identity_sources == (
        IdentitySource("header", "X-Token", "method.request.header.X-Token"),
    )
    assert spec.result_ttl_s == 60
    assert spec.settings == FunctionAuthorizerSettings(
        AUTH_URI,
        "^Bearer [-0-9a-zA-Z._]+$",
        credentials="arn:aws:iam::123456789012:role/invoker",
    )
    method = api.resources[0].methods["GET"]
    assert (method.authorization, method.authorizer) == (AuthorizationType.CUSTOM, "tok")
    assert api.authorizer_of(method) is spec


def test_request_authorizer_lists_its_identity_sources_and_defaults_to_300_s() -> None:
    raw = {
        "type": "request",
        "authorizerUri": AUTH_URI,
        "identitySource": "method.request.header.Auth, method.request.querystring.tenant, "
        "stageVariables.env, context.httpMethod",
    }
    spec = parse(document({"req": header_scheme(raw)}, [{"req": []}])).authorizers["req"]
    assert spec.type is AuthorizerType.REQUEST
    assert spec.result_ttl_s == 300
    assert [(s.kind, s.name) for s in spec.identity_sources] == [
        ("header", "Auth"),
        ("querystring", "tenant"),
        ("stageVariables", "env"),
        ("context", "httpMethod"),
    ]


def test_user_pool_authorizer_and_method_scopes() -> None:
    raw = {"type": "cognito_user_pools", "providerARNs": [POOL]}
    api = parse(document({"pool": header_scheme(raw)}, [{"pool": ["https://api/read"]}]))
    spec = api.authorizers["pool"]
    assert spec.type is AuthorizerType.COGNITO_USER_POOLS
    assert spec.settings == UserPoolAuthorizerSettings((POOL,))
    method = api.resources[0].methods["GET"]
    assert method.authorization is AuthorizationType.COGNITO_USER_POOLS
    assert method.authorization_scopes == ("https://api/read",)


def test_http_api_jwt_and_lambda_authorizers() -> None:
    jwt = {
        "type": "oauth2",
        "x-amazon-apigateway-authorizer": {
            "type": "jwt",
            "jwtConfiguration": {"issuer": "https://issuer.example", "audience": ["aud1"]},
            "identitySource": "$request.header.Authorization",
        },
    }
    lam = {
        "type": "apiKey",
        "name": "Authorization",
        "in": "header",
        "x-amazon-apigateway-authorizer": {
            "type": "request",
            "authorizerUri": AUTH_URI,
            "authorizerPayloadFormatVersion": "2.0",
            "enableSimpleResponses": True,
            "authorizerResultTtlInSeconds": 0,
            "identitySource": ["$request.header.Authorization", "$request.querystring.t"],
        },
    }
    doc = document({"jwt": jwt, "lam": lam}, [{"jwt": ["read"]}], **HTTP_API)
    doc["paths"]["/b"] = {"get": {**mock(), "security": [{"lam": []}]}}
    api = parse(doc)
    assert api.protocol is Protocol.HTTP
    assert api.authorizers["jwt"].settings == JwtAuthorizerSettings(
        "https://issuer.example", ("aud1",)
    )
    assert api.authorizers["jwt"].result_ttl_s == 0
    lam_spec = api.authorizers["lam"]
    assert lam_spec.settings == FunctionAuthorizerSettings(
        AUTH_URI, payload_version="2.0", simple_responses=True
    )
    assert [s.kind for s in lam_spec.identity_sources] == ["header", "querystring"]
    methods = {r.path: r.methods["GET"] for r in api.resources}
    assert methods["/a"].authorization is AuthorizationType.JWT
    assert methods["/a"].authorization_scopes == ("read",)
    assert methods["/b"].authorization is AuthorizationType.CUSTOM


def test_explicit_auth_none_overrides_the_default_authorizer() -> None:
    raw = {"type": "token", "authorizerUri": AUTH_URI}
    doc = document({"tok": header_scheme(raw)}, [{"tok": []}], security=[{"tok": []}])
    doc["paths"]["/open"] = {"get": {**mock(), "x-amazon-apigateway-auth": {"type": "NONE"}}}
    doc["paths"]["/b"] = {"get": mock()}
    methods = {r.path: r.methods["GET"] for r in parse(doc).resources}
    assert methods["/open"].authorizer is None
    assert methods["/open"].authorization is AuthorizationType.NONE
    assert methods["/b"].authorizer == "tok"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"type": "token"}, "authorizerUri: required"),
        ({"type": "lambda", "authorizerUri": AUTH_URI}, "type: must be one of token, request"),
        ({"type": "jwt"}, "type: must be one of token, request, cognito_user_pools"),
        (
            {"type": "token", "authorizerUri": AUTH_URI, "authorizerResultTtlInSeconds": 3601},
            "authorizerResultTtlInSeconds: must be an integer from 0 to 3600",
        ),
        (
            {"type": "token", "authorizerUri": AUTH_URI, "identityValidationExpression": "(["},
            "identityValidationExpression: not a valid regular expression",
        ),
        (
            {"type": "token", "authorizerUri": AUTH_URI, "identitySource": "context.a, context.b"},
            "a token authorizer reads exactly one header",
        ),
        ({"type": "request", "authorizerUri": AUTH_URI}, "identitySource: required while"),
        (
            {
                "type": "request",
                "authorizerUri": AUTH_URI,
                "identitySource": "method.request.path.id",
            },
            "'method.request.path.id' is not one of",
        ),
        (
            {"type": "token", "authorizerUri": AUTH_URI, "enableSimpleResponses": True},
            "enableSimpleResponses: HTTP APIs only",
        ),
        ({"type": "cognito_user_pools", "providerARNs": ["pool-1"]}, "is not a user pool ARN"),
        ({"type": "token", "authorizerUri": AUTH_URI, "bogus": 1}, "'bogus' is not supported"),
    ],
)
def test_rest_declaration_mistakes_are_named_with_their_location(
    raw: dict[str, Any], expected: str
) -> None:
    found = problems(document({"auth": header_scheme(raw)}, [{"auth": []}]))
    assert any(
        p.startswith("api.yaml:#/components/securitySchemes/auth") and expected in p for p in found
    ), found


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            {"type": "request", "authorizerUri": AUTH_URI},
            "authorizerPayloadFormatVersion: required",
        ),
        (
            {
                "type": "request",
                "authorizerUri": AUTH_URI,
                "authorizerPayloadFormatVersion": "1.0",
                "enableSimpleResponses": True,
                "identitySource": "$request.header.A",
            },
            "needs authorizerPayloadFormatVersion 2.0",
        ),
        ({"type": "jwt", "jwtConfiguration": {"issuer": "https://i"}}, "must list from 1 to 50"),
        ({"type": "token", "authorizerUri": AUTH_URI}, "must be one of request, jwt"),
    ],
)
def test_http_declaration_mistakes(raw: dict[str, Any], expected: str) -> None:
    found = problems(document({"auth": header_scheme(raw)}, [{"auth": []}], **HTTP_API))
    assert any(expected in p for p in found), found


def test_scopes_only_for_user_pool_and_jwt_authorizers() -> None:
    raw = {"type": "token", "authorizerUri": AUTH_URI}
    found = problems(document({"tok": header_scheme(raw)}, [{"tok": ["read"]}]))
    assert any("only COGNITO_USER_POOLS and JWT authorizers take scopes" in p for p in found)
