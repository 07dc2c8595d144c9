"""What authorizers may be built with: the collaborators the composition root hands the registry.

Its own module so that the registry (which imports every builder) and the builders (which
take these services) do not import each other.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from authgate.authorizers.issuer_keys import Issuers
from authgate.authorizers.sigv4 import SigV4Authenticator
from authgate.clock import Clock
from authgate.integrations.functions import FunctionMap

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric import rsa


class UserPools(Protocol):
    """The gateway's user pools as their authorizer asks them (`identity.sessions.TokenStatus`)."""

    @property
    def generation(self) -> int:
        """Moves on every revocation, in this process or another of the fleet."""
        ...

    async def is_active(
        self, pool_id: str, sub: str, origin_jti: str | None, issued_at: float
    ) -> bool: ...

    def issuer(self, pool_id: str) -> str:
        """`<public base URL>/<poolId>`, the `iss` of the pool's tokens."""
        ...

    def verification_keys(self, pool_id: str) -> Mapping[str, rsa.RSAPublicKey]:
        """kid → key, every key the pool publishes (follows rotation; empty for no pool)."""
        ...


@dataclass(frozen=True, slots=True)
class AuthorizerServices:
    """The collaborators authorizers may need; each builder takes only what it uses."""

    sigv4: SigV4Authenticator
    functions: FunctionMap
    clock: Clock
    issuers: Issuers
    """JWT issuers' keys, found by OpenID discovery; one per issuer for the process."""
    user_pools: UserPools | None = None
    """The gateway's own user pools (COGNITO_USER_POOLS authorizers); None where there are none."""
    environ: Mapping[str, str] = field(default_factory=lambda: os.environ)
    """Where shared JWT secrets are read from (the `x-authgate-jwt` extension)."""
