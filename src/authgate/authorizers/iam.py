"""AWS_IAM: requests signed with SigV4 by an authgate IAM user or role session."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from authgate.authorizers.base import NOT_APPLICABLE, Authenticated, Denied, Verdict
from authgate.authorizers.sigv4 import SigV4Authenticator, is_signed
from authgate.gateway.responses import Rejection, ResponseType
from authgate.iam import sigv4

if TYPE_CHECKING:
    from authgate.gateway.exchange import Exchange

EXECUTE_API = "execute-api"


def rejection_for(error: sigv4.SigV4Error) -> Rejection:
    """The gateway response AWS sends for a SigV4 failure, with its own error type."""
    return Rejection(
        ResponseType[error.gateway_response],
        error.message,
        error_type=error.error_type,
        reason=type(error).__name__,
    )


class IamAuthorizer:
    kind: ClassVar[str] = "AWS_IAM"

    def __init__(self, authenticator: SigV4Authenticator) -> None:
        self._authenticator = authenticator

    async def authenticate(self, exchange: Exchange) -> Verdict:
        request = exchange.request
        if not is_signed(request):
            return NOT_APPLICABLE
        try:
            principal = await self._authenticator.authenticate(request, EXECUTE_API)
        except sigv4.SigV4Error as error:
            return Denied(rejection_for(error), type(error).__name__)
        return Authenticated(principal)
