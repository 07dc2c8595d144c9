"""Choose each method's pipeline steps once, when a deployment is compiled.

A method runs only the steps it needs: a public route without a resource policy runs none,
an IAM route screens, authenticates and authorizes. The order is always the pipeline's.
"""

from __future__ import annotations

from authgate.authorizers.registry import AuthorizerRegistry
from authgate.definition.model import Method, RestApi
from authgate.definition.routes import StagePlan
from authgate.errors import ConfigError, Problem
from authgate.gateway.steps.authenticate import AuthenticateStep
from authgate.gateway.steps.authorize import AuthorizeStep
from authgate.gateway.steps.base import Step, in_order
from authgate.gateway.steps.meter import Metering, MeterStep, MethodMetering
from authgate.gateway.steps.screen import ScreenStep
from authgate.policy import (
    ApiScope,
    AuthorizationType,
    Policy,
    PolicyError,
    PolicyKind,
    parse_policy,
)

_BRING_POLICIES = (AuthorizationType.AWS_IAM, AuthorizationType.CUSTOM)
"""Callers that come with policies to evaluate. A user-pool or JWT caller brings none: without
a resource policy (or a private endpoint) a valid token settles it, so such methods need no
screen or authorize step (policy.evaluate: a token allows when there is no resource policy)."""


class MethodSteps:
    """The StepFactory handed to `compile_stage`."""

    def __init__(
        self,
        authorizers: AuthorizerRegistry,
        metering: Metering | None = None,
    ) -> None:
        self._authorizers = authorizers
        self._metering = metering
        self._policies: dict[tuple[str, str], Policy | None] = {}

    def resource_policy(self, api: RestApi, stage: StagePlan, where: str) -> Policy | None:
        """The API's resource policy, parsed once per API with its shorthand expanded."""
        key = (api.id, api.policy or "")
        if key not in self._policies:
            policy = None
            if api.policy is not None:
                scope = ApiScope(stage.region, stage.account_id, api.id)
                try:
                    policy = parse_policy(
                        api.policy, kind=PolicyKind.RESOURCE, name="resource policy", scope=scope
                    )
                except PolicyError as exc:
                    location = where.split(":#", 1)[0] + ":#/x-amazon-apigateway-policy"
                    raise ConfigError(
                        [Problem(f"{location}/{p.location}", p.message) for p in exc.problems]
                    ) from None
            self._policies[key] = policy
        return self._policies[key]

    def __call__(
        self, api: RestApi, resource_path: str, method: Method, stage: StagePlan, where: str
    ) -> tuple[Step, ...]:
        if method.api_key_required and self._metering is None:
            raise ConfigError([Problem(where, "API keys need a counter store (`counters:`)")])
        policy = self.resource_policy(api, stage, where)
        private = api.vpc_endpoint_ids if api.endpoint_type == "PRIVATE" else None
        authorization = method.authorization
        steps: list[Step] = []
        screens = policy is not None or private is not None
        decides = screens or authorization in _BRING_POLICIES
        if screens:
            # without a resource policy or a private endpoint there is nothing to screen for:
            # the authorize step gathers condition keys itself when a decision needs them
            steps.append(ScreenStep(policy, private_endpoints=private))
        if authorization is not AuthorizationType.NONE:
            spec = api.authorizer_of(method)
            if spec is None:
                raise ConfigError([Problem(where, f"no authorizer for {authorization.value}")])
            authorizer = self._authorizers.authorizer_for(api, spec, stage.variables)
            steps.append(AuthenticateStep(authorizer))
        if decides:
            steps.append(
                AuthorizeStep(
                    authorization,
                    policy,
                    account=stage.account_id,
                    private_api=private is not None,
                )
            )
        if self._metering is not None:
            method_key = f"{resource_path}/{method.http_method}"
            steps.append(
                MeterStep(
                    self._metering,
                    MethodMetering(
                        api_id=api.id,
                        stage=stage.stage,
                        method_key=method_key,
                        api_key_required=method.api_key_required,
                        key_from_authorizer=api.api_key_source == "AUTHORIZER",
                        stage_limit=stage.method_throttles.get(method_key) or stage.throttle,
                    ),
                )
            )
        return in_order(steps)
