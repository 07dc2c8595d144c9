"""The authorizer registry: one Authorizer per API and declaration, and unknown types refused."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from authgate.app import NoCredentials, method_steps
from authgate.authorizers.base import Authorizer
from authgate.authorizers.fetch import no_fetch
from authgate.authorizers.identity_sources import check_sources
from authgate.authorizers.issuer_keys import Issuers
from authgate.authorizers.registry import (
    AuthorizerBuilder,
    AuthorizerRegistry,
    builders,
)
from authgate.authorizers.services import AuthorizerServices
from authgate.authorizers.sigv4 import CredentialCache, SigV4Authenticator
from authgate.clock import ManualClock
from authgate.definition.compile import compile_stage
from authgate.definition.model import AuthorizerType, IdentitySource, Stage
from authgate.definition.openapi import parse_definition
from authgate.definition.routes import StageRoutes
from authgate.errors import ConfigError
from authgate.gateway.build import MethodSteps
from authgate.gateway.steps.authenticate import AuthenticateStep
from authgate.integrations.mock import build_mock_integration

POOL = "arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_AbCdEf123"
SIGV4 = {
    "type": "apiKey",
    "name": "Authorization",
    "in": "header",
    "x-amazon-apigateway-authtype": "awsSigv4",
}
USER_POOL = {
    "type": "apiKey",
    "name": "Authorization",
    "in": "header",
    "x-amazon-apigateway-authtype": "cognito_user_pools",
    "x-amazon-apigateway-authorizer": {"type": "cognito_user_pools", "providerARNs": [POOL]},
}


def compile_doc(
    schemes: dict[str, Any],
    scheme: str,
    known: Mapping[AuthorizerType, AuthorizerBuilder] | None = None,
    stage: Stage | None = None,
) -> StageRoutes:
    mock = {"x-amazon-apigateway-integration": {"type": "mock"}, "security": [{scheme: []}]}
    document = {
        "openapi": "3.0.1",
        "info": {"title": "t", "version": "1"},
        "paths": {"/a": {"get": mock}, "/b": {"get": mock, "post": mock}},
        "components": {"securitySchemes": schemes},
    }
    api = parse_definition(document, api_id="a1", source="api.yaml")
    clock = ManualClock(1_700_000_000.0)
    sigv4 = SigV4Authenticator(CredentialCache(NoCredentials()), clock, region="us-east-1")
    steps = method_steps(sigv4, functions={}, clock=clock)
    if known is not None:
        services = AuthorizerServices(sigv4, {}, clock, Issuers(no_fetch, clock))
        steps = MethodSteps(AuthorizerRegistry(services, known))
    return compile_stage(
        api,
        stage or Stage("prod"),
        account_id="123456789012",
        region="us-east-1",
        deployment_id="d1",
        make_integration=lambda spec, uri, stage, where: build_mock_integration(spec, where),
        make_steps=steps,
        source="api.yaml",
    )


def authenticator(routes: StageRoutes, path: str, verb: str) -> Authorizer:
    match = routes.match(verb, path)
    assert match is not None
    (step,) = (s for s in match.method.steps if isinstance(s, AuthenticateStep))
    return step.authorizer


def test_aws_iam_runs_through_the_registry_and_is_built_once_per_api() -> None:
    routes = compile_doc({"sigv4": SIGV4}, "sigv4")
    first, second = (authenticator(routes, p, v) for p, v in (("/a", "GET"), ("/b", "POST")))
    assert first.kind == "AWS_IAM"
    assert first is second


def test_a_declared_type_without_a_builder_fails_the_deployment_once_with_its_location() -> None:
    known = builders()
    del known[AuthorizerType.COGNITO_USER_POOLS]
    with pytest.raises(ConfigError) as caught:
        compile_doc({"pool": USER_POOL}, "pool", known)
    assert [str(p) for p in caught.value.problems] == [
        "api.yaml:#/components/securitySchemes/pool: "
        "COGNITO_USER_POOLS authorizers ('pool') are not supported yet"
    ]


def lambda_scheme(function: str = "Missing", **authorizer: Any) -> dict[str, Any]:
    uri = (
        "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
        f"arn:aws:lambda:us-east-1:123456789012:function:{function}/invocations"
    )
    return {
        "type": "apiKey",
        "name": "Authorization",
        "in": "header",
        "x-amazon-apigateway-authorizer": {"authorizerUri": uri, **authorizer},
    }


def test_a_lambda_authorizer_naming_no_function_fails_at_its_uri() -> None:
    with pytest.raises(ConfigError) as caught:
        compile_doc({"tok": lambda_scheme(type="token")}, "tok")
    (problem,) = caught.value.problems
    assert problem.location == (
        "api.yaml:#/components/securitySchemes/tok/x-amazon-apigateway-authorizer/authorizerUri"
    )
    assert "names no function in the function map" in problem.message


def test_context_identity_sources_authgate_cannot_read_are_refused_at_load() -> None:
    sources = [
        IdentitySource("context", "identity.sourceIp", "context.identity.sourceIp"),
        IdentitySource("context", "authorizer.claims", "context.authorizer.claims"),
    ]
    with pytest.raises(ConfigError) as caught:
        check_sources(sources, "api.yaml:#/components/securitySchemes/req")
    assert [p.message for p in caught.value.problems] == [
        "identity source 'context.authorizer.claims' is not supported yet"
    ]


def test_an_undefined_stage_variable_in_an_authorizer_uri_fails_at_its_uri() -> None:
    scheme = lambda_scheme("${stageVariables.fn}", type="token")
    with pytest.raises(ConfigError) as caught:
        compile_doc({"tok": scheme}, "tok", stage=Stage("prod", {"other": "x"}))
    (problem,) = caught.value.problems
    assert problem.location.endswith("/tok/x-amazon-apigateway-authorizer/authorizerUri")
    assert problem.message == "stage variable 'fn' is not defined"
    with pytest.raises(ConfigError, match="names no function in the function map"):
        compile_doc({"tok": scheme}, "tok", stage=Stage("prod", {"fn": "Absent"}))
