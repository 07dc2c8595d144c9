"""Authenticate: the method's one authorizer says who the caller is."""

from __future__ import annotations

from typing import ClassVar

from authgate.authorizers.base import Authenticated, Authorizer, Denied
from authgate.gateway.exchange import Exchange
from authgate.gateway.responses import Rejection, ResponseType

_MISSING = Rejection(ResponseType.MISSING_AUTHENTICATION_TOKEN, reason="no credential")


class AuthenticateStep:
    name: ClassVar[str] = "authenticate"

    def __init__(self, authorizer: Authorizer) -> None:
        self._authorizer = authorizer

    @property
    def authorizer(self) -> Authorizer:
        return self._authorizer

    async def __call__(self, exchange: Exchange) -> Rejection | None:
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
