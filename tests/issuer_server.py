"""A token issuer on 127.0.0.1 for authorizer tests: OpenID discovery and a JWKS, served by the
gateway's own HTTP layer, with counters and switches for the unhappy paths."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field

from authgate.http1.message import Request, Response
from authgate.identity.keys import SigningKey, jwks

JSON = [("content-type", "application/json")]


@dataclass
class Issuer:
    """Serves `{issuer}/.well-known/openid-configuration` and `{issuer}/jwks.json`."""

    keys: list[SigningKey] = field(default_factory=list)
    base: str = ""
    """`http://127.0.0.1:PORT`, set once the server listens."""
    discovery_hits: int = 0
    jwks_hits: int = 0
    status: int = 200
    delay: float = 0.0
    jwks_body: bytes | None = None
    """Served instead of the keys' JWKS when set (oversized or broken documents)."""
    claimed_issuer: str | None = None
    """The `issuer` the discovery document names, when it should not be the real one."""

    @property
    def issuer(self) -> str:
        return f"{self.base}/tenant"

    async def __call__(self, request: Request) -> Response:
        if self.delay:
            await asyncio.sleep(self.delay)
        if request.path == "/tenant/.well-known/openid-configuration":
            self.discovery_hits += 1
            document = {
                "issuer": self.claimed_issuer or self.issuer,
                "jwks_uri": f"{self.issuer}/jwks.json",
                "id_token_signing_alg_values_supported": ["RS256"],
            }
            return Response(self.status, JSON, json.dumps(document).encode())
        if request.path == "/tenant/jwks.json":
            self.jwks_hits += 1
            body = self.jwks_body or json.dumps(jwks(self.keys)).encode()
            return Response(self.status, JSON, body)
        return Response(404, JSON, b'{"message":"not found"}')
