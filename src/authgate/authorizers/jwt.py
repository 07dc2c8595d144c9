"""JWT authorizers: HTTP APIs' `jwt` authorizer (RSA keys from the issuer's JWKS), and authgate's
shared-secret extension (`x-authgate-jwt`: HMAC-signed tokens, on REST and HTTP APIs).

AWS's rules (authorizers.md §3): the token comes from the identity source, bare or after
`Bearer `; `iss` must be the configured issuer, `aud` (else `client_id`) one of the audiences,
`exp`, `nbf` and `iat` must hold; a route with scopes needs at least one of them in the token's
`scope` (or `scp`). HTTP APIs answer 401 with a `www-authenticate` Bearer challenge, and 403
when only the scopes are missing; on a REST API every failure is a 401, as user-pool
authorizers answer. The integration gets the claims as strings (`claims.py`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from authgate.authorizers.base import Denied, Principal, Verdict
from authgate.authorizers.bearer import (
    TokenIssuer,
    VerifiedTokens,
    bearer_token,
    token_principal,
)
from authgate.authorizers.claims import http_context, rest_context
from authgate.authorizers.identity_sources import IdentityReader, check_sources
from authgate.authorizers.jwks import MIN_SECRET_BYTES, RSA_ALGORITHMS, SharedSecret
from authgate.authorizers.jwt_verify import (
    JwtVerifier,
    Reason,
    Rejected,
    Requirement,
    Verified,
    VerifierConfig,
)
from authgate.definition.model import (
    IdentitySource,
    JwtAuthorizerSettings,
    Protocol,
    SharedSecretJwtSettings,
)
from authgate.errors import ConfigError, Problem
from authgate.gateway.responses import Rejection, ResponseType

if TYPE_CHECKING:
    from authgate.authorizers.services import AuthorizerServices
    from authgate.definition.model import AuthorizerSpec, RestApi
    from authgate.gateway.exchange import Exchange

KIND = "JWT"
DEFAULT_SOURCE = IdentitySource("header", "Authorization", "$request.header.Authorization")

_DESCRIPTIONS: dict[Reason, str] = {
    Reason.EXPIRED: "the token has expired",
    Reason.NOT_YET_VALID: "the token is not valid yet",
    Reason.WRONG_ISSUER: "the token does not have a valid issuer",
    Reason.WRONG_AUDIENCE: "the token does not have a valid audience",
}
"""What the challenge says per failure; anything about keys or signatures is just invalid."""


def challenge(rejected: Rejected | None, scopes: tuple[str, ...]) -> str:
    """The `www-authenticate` value of an HTTP API JWT refusal (RFC 6750 §3), in the form AWS
    sends: `Bearer scope="" error="invalid_token" error_description="..."`."""
    if rejected is None:
        return "Bearer"
    if rejected.reason is Reason.INSUFFICIENT_SCOPE:
        return (
            f'Bearer scope="{" ".join(scopes)}" error="insufficient_scope" '
            'error_description="the token does not have the required scope"'
        )
    description = _DESCRIPTIONS.get(rejected.reason, "the token is invalid")
    return f'Bearer scope="" error="invalid_token" error_description="{description}"'


class JwtAuthorizer:
    """One declared JWT authorizer, shared by the methods that name it."""

    kind: ClassVar[str] = KIND

    def __init__(self, tokens: VerifiedTokens, source: IdentitySource, protocol: Protocol) -> None:
        self._tokens = tokens
        self._header = source.name.lower() if source.kind == "header" else None
        self._source = IdentityReader((source,), protocol)
        self._protocol = protocol
        self._requirements: dict[tuple[str, ...], Requirement] = {}

    async def authenticate(self, exchange: Exchange) -> Verdict:
        method = exchange.method
        scopes = method.authorization_scopes if method is not None else ()
        if self._header is not None:
            token = bearer_token(exchange.request.header(self._header))
        else:
            found = self._source.read(exchange)
            token = bearer_token(found[0]) if found is not None else None
        if token is None:
            return Denied(self._rejection(None, scopes), "no token")
        requirement = self._requirements.get(scopes)
        if requirement is None:
            requirement = self._requirements[scopes] = Requirement(scopes=frozenset(scopes))
        result = self._tokens.check_cached(token, requirement)
        if result is None:
            result = await self._tokens.check(token, requirement)
        if isinstance(result, Rejected):
            return Denied(self._rejection(result, scopes), result.reason.value)
        shape = (method.payload_version if method is not None else "1.0", bool(scopes))
        return result.authenticated(shape, self._principal)

    def _principal(self, verified: Verified, shape: tuple[str, bool]) -> Principal:
        version, scoped = shape
        if self._protocol is Protocol.REST:
            context = rest_context(verified.claims)
        else:
            context = http_context(verified.claims, version, route_has_scopes=scoped)
        return token_principal(KIND, verified, context)

    def _rejection(self, rejected: Rejected | None, scopes: tuple[str, ...]) -> Rejection:
        detail = rejected.detail if rejected is not None else "no token in the identity source"
        if self._protocol is Protocol.REST:
            return Rejection(ResponseType.UNAUTHORIZED, reason=detail)
        headers = (("www-authenticate", challenge(rejected, scopes)),)
        if rejected is not None and rejected.reason is Reason.INSUFFICIENT_SCOPE:
            return Rejection(ResponseType.ACCESS_DENIED, reason=detail, headers=headers)
        return Rejection(ResponseType.UNAUTHORIZED, reason=detail, headers=headers)


def build_jwt_authorizer(
    spec: AuthorizerSpec, api: RestApi, services: AuthorizerServices
) -> JwtAuthorizer:
    """The registry's builder for JWT declarations: AWS's (`jwtConfiguration`, keys by OpenID
    discovery) or authgate's shared-secret extension (secret from the environment)."""
    settings = spec.settings
    sources = spec.identity_sources or (DEFAULT_SOURCE,)
    if len(sources) != 1:
        raise _problem(spec, "a JWT authorizer reads its token from one identity source")
    check_sources(sources, spec.location)
    source = sources[0]
    try:
        if isinstance(settings, SharedSecretJwtSettings):
            issuer = _shared_secret_issuer(spec, settings, services)
        elif isinstance(settings, JwtAuthorizerSettings):
            keys = services.issuers.get(settings.issuer)
            config = VerifierConfig(
                issuers=frozenset({settings.issuer}),
                audiences=frozenset(settings.audiences),
                algorithms=RSA_ALGORITHMS,  # API Gateway: "only RSA algorithms are supported"
            )
            verifier = JwtVerifier(config, keys, services.clock, gate=keys.gate)
            issuer = TokenIssuer(verifier, keys)
        else:
            raise _problem(spec, "not a JWT authorizer declaration")
    except ValueError as exc:
        raise _problem(spec, str(exc)) from None
    tokens = VerifiedTokens([issuer], services.clock)
    return JwtAuthorizer(tokens, source, api.protocol)


def _shared_secret_issuer(
    spec: AuthorizerSpec, settings: SharedSecretJwtSettings, services: AuthorizerServices
) -> TokenIssuer:
    secret = services.environ.get(settings.secret_env)
    if not secret:
        raise _problem(spec, f"the environment variable {settings.secret_env} is not set")
    if len(secret.encode()) < MIN_SECRET_BYTES:
        raise _problem(
            spec, f"the secret in {settings.secret_env} is shorter than {MIN_SECRET_BYTES} bytes"
        )
    config = VerifierConfig(
        issuers=frozenset({settings.issuer}),
        audiences=frozenset(settings.audiences) or None,
        algorithms=frozenset(settings.algorithms),
    )
    keys = SharedSecret(secret.encode())
    return TokenIssuer(JwtVerifier(config, keys, services.clock))


def _problem(spec: AuthorizerSpec, message: str) -> ConfigError:
    return ConfigError([Problem(spec.location, message)])
