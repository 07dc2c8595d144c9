"""The Integration contract: where an allowed request goes.

An integration gets the Exchange after every check has passed and returns the response to
send. It reports failure only by raising an `authgate.errors.IntegrationError` subclass; the
pipeline turns that into the gateway response AWS would send for the API's protocol.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from authgate.gateway.exchange import Exchange
    from authgate.http1.message import Response


class Integration(Protocol):
    async def invoke(self, exchange: Exchange) -> Response:
        """Complete the request; raise IntegrationTimeout/Unreachable/Malformed on failure."""
        ...
