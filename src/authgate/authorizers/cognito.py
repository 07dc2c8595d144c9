"""COGNITO_USER_POOLS: REST methods that accept tokens of the gateway's own user pools.

As API Gateway does (authorizers.md §4): a method without scopes takes an **ID token**, a
method with scopes an **access token** holding at least one of them; the token must be signed
by one of the `providerARNs` pools, carry that pool's issuer and be unexpired; an
`identityValidationExpression` must match the ID token's `aud` whole (so it refuses every
access token). Every failure, a missing header included, is 401 `{"message":"Unauthorized"}`.
The integration gets every claim as a string at `requestContext.authorizer.claims`.

Unlike AWS, revocation counts: a token whose session was signed out (GlobalSignOut,
RevokeToken) or whose user was disabled or deleted is refused from the next request on.
Keys come from the pools in-process (no HTTP), and follow their rotation.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, ClassVar

from authgate.authorizers.base import Denied, Principal, Verdict
from authgate.authorizers.bearer import (
    TokenIssuer,
    VerifiedTokens,
    bearer_token,
    token_principal,
)
from authgate.authorizers.claims import rest_context
from authgate.authorizers.jwks import RsaKey, VerificationKey
from authgate.authorizers.jwt_verify import (
    JwtVerifier,
    Rejected,
    Requirement,
    Verified,
    VerifierConfig,
)
from authgate.definition.model import UserPoolAuthorizerSettings
from authgate.errors import ConfigError, Problem
from authgate.gateway.responses import Rejection, ResponseType
from authgate.identity.keys import ALGORITHM

if TYPE_CHECKING:
    from authgate.authorizers.services import AuthorizerServices, UserPools
    from authgate.definition.model import AuthorizerSpec, RestApi
    from authgate.gateway.exchange import Exchange

KIND = "COGNITO_USER_POOLS"
ID_TOKEN = Requirement(token_use="id")  # noqa: S106 - a token kind


class PoolKeys:
    """One pool's published keys as a `KeySource`, read live from the pools."""

    def __init__(self, pools: UserPools, pool_id: str) -> None:
        self._pools = pools
        self._pool_id = pool_id
        self._wrapped: dict[str, RsaKey] = {}

    def find(self, kid: str | None) -> VerificationKey | None:
        if kid is None:
            return None
        public = self._pools.verification_keys(self._pool_id).get(kid)
        if public is None:
            return None
        wrapped = self._wrapped.get(kid)
        if wrapped is None or wrapped.public_key is not public:
            wrapped = self._wrapped[kid] = RsaKey(kid, public, ALGORITHM)
        return wrapped


class PoolSessions:
    """`Revocations` for tokens of several pools: each is asked of the pool that issued it."""

    def __init__(self, pools: UserPools, pool_by_issuer: Mapping[str, str]) -> None:
        self._pools = pools
        self._pool_by_issuer = dict(pool_by_issuer)

    @property
    def generation(self) -> int:
        return self._pools.generation

    async def is_active(self, verified: Verified) -> bool:
        claims = verified.claims
        pool_id = self._pool_by_issuer.get(str(claims.get("iss")))
        sub = verified.subject
        issued_at = claims.get("iat")
        if pool_id is None or sub is None or not isinstance(issued_at, int | float):
            return False
        return await self._pools.is_active(pool_id, sub, verified.origin_jti, float(issued_at))


def pool_id_of(provider_arn: str) -> str:
    """`arn:aws:cognito-idp:REGION:ACCOUNT:userpool/POOL_ID` → `POOL_ID`."""
    return provider_arn.rsplit("/", 1)[1]


class CognitoAuthorizer:
    """One declared user-pool authorizer, shared by the methods that name it."""

    kind: ClassVar[str] = KIND

    def __init__(
        self, tokens: VerifiedTokens, header: str, validation: re.Pattern[str] | None = None
    ) -> None:
        self._tokens = tokens
        self._header = header.lower()
        self._validation = validation
        self._requirements: dict[tuple[str, ...], Requirement] = {(): ID_TOKEN}

    async def authenticate(self, exchange: Exchange) -> Verdict:
        token = bearer_token(exchange.request.header(self._header))
        if token is None:
            return _denied("no token", f"no {self._header} header")
        method = exchange.method
        scopes = method.authorization_scopes if method is not None else ()
        requirement = self._requirements.get(scopes)
        if requirement is None:
            requirement = Requirement(token_use="access", scopes=frozenset(scopes))  # noqa: S106
            self._requirements[scopes] = requirement
        result = self._tokens.check_cached(token, requirement)
        if result is None:
            result = await self._tokens.check(token, requirement)
        if isinstance(result, Rejected):
            return _denied(result.reason.value, result.detail)
        if self._validation is not None:
            aud = result.verified.claims.get("aud")
            if not isinstance(aud, str) or self._validation.fullmatch(aud) is None:
                return _denied("aud_mismatch", "aud does not match identityValidationExpression")
        return result.authenticated(KIND, _principal)


def _principal(verified: Verified, kind: str) -> Principal:
    return token_principal(kind, verified, rest_context(verified.claims))


def _denied(reason: str, detail: str) -> Denied:
    return Denied(Rejection(ResponseType.UNAUTHORIZED, reason=detail), reason)


def build_cognito_authorizer(
    spec: AuthorizerSpec, api: RestApi, services: AuthorizerServices
) -> CognitoAuthorizer:
    """The registry's builder for `cognito_user_pools` declarations. The pools need not exist
    yet: until one does, its tokens (there are none) are refused."""
    settings = spec.settings
    pools = services.user_pools
    if not isinstance(settings, UserPoolAuthorizerSettings) or not spec.identity_sources:
        raise ConfigError([Problem(spec.location, "not a user-pool authorizer declaration")])
    if pools is None:
        raise ConfigError([Problem(spec.location, "this gateway serves no user pools")])
    issuers: list[TokenIssuer] = []
    pool_by_issuer: dict[str, str] = {}
    for pool_id in dict.fromkeys(pool_id_of(arn) for arn in settings.provider_arns):
        issuer = pools.issuer(pool_id)
        pool_by_issuer[issuer] = pool_id
        config = VerifierConfig(issuers=frozenset({issuer}), algorithms=frozenset({ALGORITHM}))
        verifier = JwtVerifier(config, PoolKeys(pools, pool_id), services.clock)
        issuers.append(TokenIssuer(verifier))
    revocations = PoolSessions(pools, pool_by_issuer)
    tokens = VerifiedTokens(issuers, services.clock, revocations=revocations)
    expression = settings.validation_expression
    validation = re.compile(expression) if expression is not None else None
    return CognitoAuthorizer(tokens, spec.identity_sources[0].name, validation)
