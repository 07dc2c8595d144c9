"""Authenticate: the method's one authorizer says who the caller is."""

from __future__ import annotations

from typing import ClassVar

from authgate.authorizers.base import Authenticated, Authorizer, Denied
from authgate.gateway.exchange import Exchange
from authgate.gateway.responses import Rejection, ResponseType

_MISSING = Rejection(ResponseType.MISSING_AUTHENTICATION_TOKEN, reason="no credential")

METHOD_ARN_LIMIT = 1600
"""Bytes a method ARN may have on a method with authorization; past it AWS answers 414."""
_ARN_OVERHEAD = 400
"""More than `arn:aws:execute-api:REGION:ACCOUNT:API/STAGE/VERB/` can take (a stage name has
at most 128 characters), so shorter paths skip building the ARN to measure it."""
_URI_TOO_LONG = Rejection(
    ResponseType.REQUEST_TOO_LARGE,
    "Request URI too long",
    414,
    reason=f"method ARN over {METHOD_ARN_LIMIT} bytes",
)


class AuthenticateStep:
    name: ClassVar[str] = "authenticate"

    def __init__(self, authorizer: Authorizer) -> None:
        self._authorizer = authorizer

    @property
    def authorizer(self) -> Authorizer:
        return self._authorizer

    async def __call__(self, exchange: Exchange) -> Rejection | None:
        if (
            len(exchange.path) > METHOD_ARN_LIMIT - _ARN_OVERHEAD
            and len(exchange.method_arn.encode()) > METHOD_ARN_LIMIT
        ):
            return _URI_TOO_LONG  # before any authorizer sees the request
        verdict = await self._authorizer.authenticate(exchange)
        if isinstance(verdict, Authenticated):
            principal = verdict.principal
            exchange.principal = principal
            if principal.identity:
                exchange.identity.update(principal.identity)
            if principal.authorizer_context is not None:
                exchange.authorizer_context = principal.authorizer_context
            exchange.record("authenticate", self._authorizer.kind, principal.subject)
            return None
        if isinstance(verdict, Denied):
            return verdict.rejection
        return _MISSING
