"""Reading definitions: what is understood, and that all else fails loudly with its location."""

from __future__ import annotations

import json
from typing import Any

import pytest

from authgate.definition.model import IntegrationType, Protocol
from authgate.definition.openapi import parse_definition
from authgate.errors import ConfigError

LAMBDA_URI = (
    "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
    "arn:aws:lambda:us-east-1:123456789012:function:Hello/invocations"
)


def doc(paths: dict[str, Any], **top: Any) -> dict[str, Any]:
    return {"openapi": "3.0.1", "info": {"title": "t", "version": "1"}, "paths": paths, **top}


def proxy(uri: str = LAMBDA_URI, **extra: Any) -> dict[str, Any]:
    return {
        "x-amazon-apigateway-integration": {
            "type": "aws_proxy",
            "httpMethod": "POST",
            "uri": uri,
            **extra,
        }
    }


def problems_of(document: Any) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_definition(document, api_id="a1", source="api.yaml")
    return [str(p) for p in caught.value.problems]


def test_openapi3_methods_any_method_and_integration_fields() -> None:
    api = parse_definition(
        doc(
            {
                "/items/{id}": {"get": proxy(timeoutInMillis=5000)},
                "/{proxy+}": {
                    "x-amazon-apigateway-any-method": {
                        "x-amazon-apigateway-integration": {
                            "type": "http_proxy",
                            "httpMethod": "ANY",
                            "uri": "http://127.0.0.1:1/{proxy}",
                            "requestParameters": {
                                "integration.request.path.proxy": "method.request.path.proxy"
                            },
                        }
                    }
                },
            }
        ),
        api_id="a1",
        source="api.yaml",
    )
    assert api.protocol is Protocol.REST
    by_path = {r.path: r for r in api.resources}
    get = by_path["/items/{id}"].methods["GET"]
    assert get.integration.type is IntegrationType.AWS_PROXY
    assert get.integration.timeout_ms == 5000
    anym = by_path["/{proxy+}"].methods["ANY"]
    assert anym.integration.type is IntegrationType.HTTP_PROXY
    assert anym.integration.request_parameters == {
        "integration.request.path.proxy": "method.request.path.proxy"
    }


def test_swagger2_is_read() -> None:
    api = parse_definition(
        {"swagger": "2.0", "info": {"title": "s"}, "paths": {"/": {"get": proxy()}}},
        api_id="a1",
        source="s.json",
    )
    assert [r.path for r in api.resources] == ["/"]


def test_http_api_detected_by_export_marker_with_payload_2_default() -> None:
    api = parse_definition(
        doc(
            {"/$default": {"x-amazon-apigateway-any-method": proxy()}},
            **{"x-amazon-apigateway-importexport-version": "1.0"},
        ),
        api_id="a1",
        source="h.yaml",
    )
    assert api.protocol is Protocol.HTTP
    assert api.resources[0].methods["ANY"].integration.payload_format_version == "2.0"


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        (
            doc({"/a": {"get": proxy()}}, **{"x-amazon-apigateway-api-key-source": "QUERY"}),
            "#/x-amazon-apigateway-api-key-source: must be HEADER or AUTHORIZER",
        ),
        (
            doc({"/a": {"get": {**proxy(), "x-amazon-apigateway-auth": {"type": "CUSTOM"}}}}),
            "#/paths/~1a/get/x-amazon-apigateway-auth: x-amazon-apigateway-auth type 'CUSTOM'",
        ),
        (
            doc({"/a": {"get": proxy(credentials="arn:aws:iam::1:role/x")}}),
            "integration field 'credentials' is not supported",
        ),
        (
            doc({"/a": {"get": {"x-amazon-apigateway-integration": {"type": "aws", "uri": "x"}}}}),
            "integration type 'aws' is not supported",
        ),
        (
            doc({"/a": {"get": {"responses": {}}}}),
            "the operation has no x-amazon-apigateway-integration",
        ),
        (doc({"/a/{p+}/b": {"get": proxy()}}), "greedy {name+} parameter must be the last"),
        (doc({"/a": {"get": proxy(timeoutInMillis=40_000)}}), "from 50 to 29000"),
        (
            doc({"/a": {"get": proxy()}}, security=[{"sigv4": []}]),
            "#/security/0/sigv4: no usable security scheme named 'sigv4'",
        ),
        (
            doc(
                {"/a": {"get": proxy()}}, **{"x-amazon-apigateway-gateway-responses": {"NOPE": {}}}
            ),
            "unknown gateway response type 'NOPE'",
        ),
        (
            doc(
                {"/a": {"get": proxy()}},
                **{"x-amazon-apigateway-gateway-responses": {"REQUEST_TOO_LARGE": {}}},
            ),
            "REQUEST_TOO_LARGE cannot be customised",
        ),
        (doc({"/$default": {"get": proxy()}}), "the $default route exists only in HTTP APIs"),
        ({"openapi": "3.1.0", "paths": {}}, "expected `openapi: 3.0.x`"),
        ([], "must be a YAML or JSON object"),
    ],
)
def test_unsupported_or_invalid_is_a_load_time_error(document: Any, expected: str) -> None:
    found = problems_of(document)
    assert any(expected in p for p in found), found


def test_all_problems_are_reported_together() -> None:
    found = problems_of(
        doc(
            {
                "/a": {"get": proxy(timeoutInMillis=1)},
                "/b": {"post": {"x-amazon-apigateway-integration": {"type": "nope"}}},
            },
            **{"x-amazon-apigateway-minimum-compression-size": 0},
        )
    )
    assert len(found) == 3, found


SIGV4_SCHEME = {
    "sigv4": {
        "type": "apiKey",
        "name": "Authorization",
        "in": "header",
        "x-amazon-apigateway-authtype": "awsSigv4",
    }
}


def test_sigv4_security_scheme_makes_methods_aws_iam() -> None:
    api = parse_definition(
        doc(
            {
                "/private": {"get": {**proxy(), "security": [{"sigv4": []}]}},
                "/open": {"get": {**proxy(), "security": []}},
                "/default": {"get": proxy()},
                "/by-extension": {
                    "get": {**proxy(), "x-amazon-apigateway-auth": {"type": "AWS_IAM"}}
                },
            },
            components={"securitySchemes": SIGV4_SCHEME},
        ),
        api_id="a1",
        source="api.yaml",
    )
    auth = {r.path: r.methods["GET"].authorization.value for r in api.resources}
    assert auth == {
        "/private": "AWS_IAM",
        "/open": "NONE",
        "/default": "NONE",
        "/by-extension": "AWS_IAM",
    }


def test_document_level_security_applies_unless_overridden() -> None:
    api = parse_definition(
        doc(
            {"/a": {"get": proxy()}, "/b": {"get": {**proxy(), "security": []}}},
            components={"securitySchemes": SIGV4_SCHEME},
            security=[{"sigv4": []}],
        ),
        api_id="a1",
        source="api.yaml",
    )
    auth = {r.path: r.methods["GET"].authorization.value for r in api.resources}
    assert auth == {"/a": "AWS_IAM", "/b": "NONE"}


def test_resource_policy_and_private_endpoint_are_read() -> None:
    policy = {"Version": "2012-10-17", "Statement": []}
    api = parse_definition(
        doc(
            {"/a": {"get": proxy()}},
            servers=[
                {
                    "url": "https://x",
                    "x-amazon-apigateway-endpoint-configuration": {
                        "types": ["PRIVATE"],
                        "vpcEndpointIds": ["vpce-1"],
                    },
                }
            ],
            **{"x-amazon-apigateway-policy": policy},
        ),
        api_id="a1",
        source="api.yaml",
    )
    assert api.policy is not None
    assert json.loads(api.policy) == policy
    assert api.endpoint_type == "PRIVATE"
    assert api.vpc_endpoint_ids == ("vpce-1",)


def test_api_key_requirement_is_read_beside_the_authorizer() -> None:
    api = parse_definition(
        doc(
            {
                "/both": {"get": {**proxy(), "security": [{"sigv4": [], "key": []}]}},
                "/key": {"get": {**proxy(), "security": [{"key": []}]}},
            },
            components={"securitySchemes": {**SIGV4_SCHEME, **KEY_SCHEME}},
            **{"x-amazon-apigateway-api-key-source": "AUTHORIZER"},
        ),
        api_id="a1",
        source="api.yaml",
    )
    found = {
        r.path: (r.methods["GET"].authorization.value, r.methods["GET"].api_key_required)
        for r in api.resources
    }
    assert found == {"/both": ("AWS_IAM", True), "/key": ("NONE", True)}
    assert api.api_key_source == "AUTHORIZER"


KEY_SCHEME = {"key": {"type": "apiKey", "name": "x-api-key", "in": "header"}}
