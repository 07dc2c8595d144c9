"""The authorizer registry: which declared authorizer types authgate can run, and how each is built.

A method's authorizer comes from its API's declaration (`x-amazon-apigateway-authorizer`, parsed
into a `definition.model.AuthorizerSpec`) or, for AWS_IAM, from `IAM_AUTHORIZER`. When a
deployment is compiled, `AuthorizerRegistry.authorizer_for` looks the spec's type up in an
explicit map of builders and builds one `Authorizer` per API and declaration, which every method
using it shares (so a custom authorizer's result cache spans its methods, as on AWS); a
function authorizer whose `authorizerUri` holds `${stageVariables.NAME}` gets one per resolved
URI. A declared
type without a builder fails the deployment, naming where it is declared; it is never served
unprotected.

Adding a type (say COGNITO_USER_POOLS):

1. write the authorizer in its own module (`authorizers/cognito.py`): a class with
   `kind: ClassVar[str]` and `async def authenticate(self, exchange) -> Verdict`;
2. add the collaborators it needs (a user-pool key source, ...) to `AuthorizerServices`
   (`authorizers/services.py`);
3. add one entry to `builders()`: `AuthorizerType.COGNITO_USER_POOLS: build_cognito`, where the
   builder takes `(spec, api, services)`, reads `spec.settings` (already validated by
   `definition.authorizer_specs`), raises `ConfigError` at `spec.location` for anything it
   cannot serve, and does no I/O;
4. the composition root (`app.py`) passes the new collaborator when it makes the services.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace

from authgate.authorizers.base import Authorizer
from authgate.authorizers.cognito import build_cognito_authorizer
from authgate.authorizers.custom import build_function_authorizer
from authgate.authorizers.iam import IamAuthorizer
from authgate.authorizers.jwt import build_jwt_authorizer
from authgate.authorizers.services import AuthorizerServices
from authgate.definition.compile import substitute_stage_variables
from authgate.definition.model import (
    AuthorizerSpec,
    AuthorizerType,
    FunctionAuthorizerSettings,
    RestApi,
    empty,
)
from authgate.errors import ConfigError, Problem

__all__ = [
    "AuthorizerBuilder",
    "AuthorizerRegistry",
    "builders",
]


AuthorizerBuilder = Callable[[AuthorizerSpec, RestApi, AuthorizerServices], Authorizer]
"""(declaration, its API, services) → a ready Authorizer; ConfigError if it cannot be served."""


def _build_iam(spec: AuthorizerSpec, api: RestApi, services: AuthorizerServices) -> Authorizer:
    return IamAuthorizer(services.sigv4)


def builders() -> dict[AuthorizerType, AuthorizerBuilder]:
    """Every authorizer type authgate can run. The one place a type is registered."""
    return {
        AuthorizerType.AWS_IAM: _build_iam,
        AuthorizerType.TOKEN: build_function_authorizer,
        AuthorizerType.REQUEST: build_function_authorizer,
        AuthorizerType.COGNITO_USER_POOLS: build_cognito_authorizer,
        AuthorizerType.JWT: build_jwt_authorizer,
    }


class AuthorizerRegistry:
    """Builds each declared authorizer once per compile and shares it between its methods."""

    def __init__(
        self,
        services: AuthorizerServices,
        known: Mapping[AuthorizerType, AuthorizerBuilder] | None = None,
    ) -> None:
        self._services = services
        self._builders = dict(builders() if known is None else known)
        self._built: dict[tuple[str, AuthorizerSpec], Authorizer | ConfigError] = {}

    def authorizer_for(
        self, api: RestApi, spec: AuthorizerSpec, variables: Mapping[str, str] | None = None
    ) -> Authorizer:
        """The Authorizer for `spec` in `api` on a stage with these `variables`; ConfigError if
        its type cannot run here. Stages whose variables resolve its `authorizerUri` alike
        share one."""
        spec = _on_stage(spec, variables or empty())
        key = (api.id, spec)
        built = self._built.get(key)
        if built is None:
            built = self._build(api, spec)
            self._built[key] = built
        if isinstance(built, ConfigError):
            raise ConfigError(built.problems)
        return built

    def _build(self, api: RestApi, spec: AuthorizerSpec) -> Authorizer | ConfigError:
        builder = self._builders.get(spec.type)
        if builder is None:
            message = f"{spec.type.value} authorizers ({spec.name!r}) are not supported yet"
            return ConfigError([Problem(spec.location, message)])
        try:
            return builder(spec, api, self._services)
        except ConfigError as exc:
            return exc


def _on_stage(spec: AuthorizerSpec, variables: Mapping[str, str]) -> AuthorizerSpec:
    """The declaration with `${stageVariables.NAME}` in a function's authorizerUri resolved for
    one stage (an alias per stage, say), as AWS resolves it at invocation."""
    settings = spec.settings
    if not isinstance(settings, FunctionAuthorizerSettings) or "${" not in settings.function_uri:
        return spec
    problems: list[Problem] = []
    where = f"{spec.location}/x-amazon-apigateway-authorizer/authorizerUri"
    uri = substitute_stage_variables(settings.function_uri, variables, where, problems)
    if problems:
        raise ConfigError(problems)
    return replace(spec, settings=replace(settings, function_uri=uri))
