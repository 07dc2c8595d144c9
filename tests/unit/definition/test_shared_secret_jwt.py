"""Reading the shared-secret JWT extension (`x-authgate-jwt`) from OpenAPI documents."""

from __future__ import annotations

from typing import Any

import pytest

from authgate.definition.model import (
    AuthorizerType,
    IdentitySource,
    SharedSecretJwtSettings,
)
from authgate.definition.openapi import parse_definition
from authgate.errors import ConfigError
from authgate.policy.evaluate import AuthorizationType

MOCK = {"x-amazon-apigateway-integration": {"type": "mock"}}


def document(
    scheme: dict[str, Any], *, http: bool = False, scopes: list[str] | None = None
) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "openapi": "3.0.1",
        "info": {"title": "t", "version": "1"},
        "paths": {"/orders": {"get": {**MOCK, "security": [{"orders": scopes or []}]}}},
        "components": {"securitySchemes": {"orders": scheme}},
    }
    if http:
        doc["x-amazon-apigateway-importexport-version"] = "1.0"
    return doc


def bearer(**extension: Any) -> dict[str, Any]:
    settings = {"issuer": "https://orders.example.com", "secret": {"env": "ORDERS_SECRET"}}
    settings.update(extension)
    return {"type": "http", "scheme": "bearer", "bearerFormat": "JWT", "x-authgate-jwt": settings}


def problems(doc: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_definition(doc, api_id="a1", source="api.yaml")
    return [str(p) for p in caught.value.problems]


def test_a_bearer_scheme_declares_a_jwt_authorizer_on_a_rest_api() -> None:
    api = parse_definition(
        document(bearer(audience="orders-api"), scopes=["orders/read"]),
        api_id="a1",
        source="api.yaml",
    )
    spec = api.authorizers["orders"]
    assert spec.type is AuthorizerType.JWT
    assert spec.identity_sources == (
        IdentitySource("header", "Authorization", "method.request.header.Authorization"),
    )
    assert spec.settings == SharedSecretJwtSettings(
        "https://orders.example.com", ("orders-api",), "ORDERS_SECRET", ("HS256",)
    )
    (method,) = api.resources[0].methods.values()
    assert method.authorization is AuthorizationType.JWT
    assert method.authorizer == "orders"
    assert method.authorization_scopes == ("orders/read",)


def test_an_api_key_style_scheme_names_the_header_and_algorithms_can_be_chosen() -> None:
    scheme = {
        "type": "apiKey",
        "in": "header",
        "name": "X-Session",
        "x-authgate-jwt": {
            "issuer": "svc",
            "secret": {"env": "S"},
            "algorithms": ["HS512", "HS256"],
        },
    }
    api = parse_definition(document(scheme), api_id="a1", source="api.yaml")
    spec = api.authorizers["orders"]
    assert spec.identity_sources[0].name == "X-Session"
    assert isinstance(spec.settings, SharedSecretJwtSettings)
    assert spec.settings.algorithms == ("HS512", "HS256")
    assert spec.settings.audiences == ()


def test_a_secret_written_into_the_definition_is_refused() -> None:
    found = problems(document(bearer(secret="correct horse battery staple, thirty-two+")))
    assert found[:1] == [
        "api.yaml:#/components/securitySchemes/orders/x-authgate-jwt/secret: must name where "
        "the secret is, as {env: VARIABLE}; not the secret itself"
    ]


@pytest.mark.parametrize(
    ("scheme", "where", "message"),
    [
        (bearer(issuer=""), "/x-authgate-jwt/issuer", "required"),
        (bearer(secret={"env": "1BAD"}), "/x-authgate-jwt/secret/env", "variable name"),
        (bearer(secret={"file": "/x"}), "/x-authgate-jwt/secret", "{env: VARIABLE}"),
        (bearer(algorithms=["RS256"]), "/x-authgate-jwt/algorithms", "HS256, HS384, HS512"),
        (bearer(algorithms=["none"]), "/x-authgate-jwt/algorithms", "HS256, HS384, HS512"),
        (bearer(audience=[]), "/x-authgate-jwt/audience", "list of audiences"),
        (bearer(jwks="https://x"), "/x-authgate-jwt/jwks", "not one of"),
        ({**bearer(), "scheme": "basic"}, "", "type: http, scheme: bearer"),
    ],
)
def test_what_is_refused(scheme: dict[str, Any], where: str, message: str) -> None:
    found = problems(document(scheme))
    assert any(
        p.startswith(f"api.yaml:#/components/securitySchemes/orders{where}: ") and message in p
        for p in found
    ), found


def test_the_extension_is_one_or_the_other_with_an_aws_authorizer() -> None:
    scheme = {**bearer(), "x-amazon-apigateway-authorizer": {"type": "token"}}
    assert problems(document(scheme))[:1] == [
        "api.yaml:#/components/securitySchemes/orders: x-authgate-jwt and "
        "x-amazon-apigateway-authorizer exclude each other"
    ]


def test_http_apis_read_the_header_with_their_own_expression() -> None:
    doc = document(bearer(), http=True)
    doc["paths"] = {"/orders": {"get": {**MOCK, "security": [{"orders": []}]}}}
    doc["paths"]["/orders"]["get"]["x-amazon-apigateway-integration"] = {
        "type": "http_proxy",
        "uri": "http://127.0.0.1:1/x",
        "httpMethod": "GET",
        "payloadFormatVersion": "1.0",
    }
    api = parse_definition(doc, api_id="a1", source="api.yaml")
    assert api.authorizers["orders"].identity_sources[0].expression == (
        "$request.header.Authorization"
    )
