"""The `Session` of an auth challenge: what the server must remember between steps, sealed and
handed to the client, as Cognito's own encrypted blob is.

It binds the pool, the app client, the user and the challenge it answers; it is good for the
client's AuthSessionValidity (3 to 15 minutes) and once only (its id is spent when opened).
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from authgate.clock import Clock
from authgate.identity.errors import NotAuthorized
from authgate.identity.store import UserPoolStore
from authgate.security.secrets import SealedValueError, SecretBox

EXPIRED: Final = "Invalid session for the user, session is expired."
INVALID: Final = "Invalid session for the user."
MAX_LENGTH: Final = 2048
_CONTEXT: Final = b"userpool challenge session"


@dataclass(frozen=True, slots=True)
class ChallengeState:
    pool_id: str
    client_id: str
    username: str
    challenge: str
    auth_time: int
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Ticket:
    state: ChallengeState
    issued_at: float
    id: str


class ChallengeSessions:
    def __init__(self, store: UserPoolStore, box: SecretBox, clock: Clock) -> None:
        self._store = store
        self._box = box
        self._clock = clock

    def issue(self, state: ChallengeState) -> str:
        body = {
            "p": state.pool_id,
            "c": state.client_id,
            "u": state.username,
            "n": state.challenge,
            "a": state.auth_time,
            "x": dict(state.extra),
            "t": self._clock.now(),
            "i": secrets.token_urlsafe(16),
        }
        sealed = self._box.seal(json.dumps(body).encode(), context=_CONTEXT)
        return base64.urlsafe_b64encode(sealed).decode("ascii")

    def read(self, text: object, challenges: tuple[str, ...]) -> Ticket:
        """A Session issued for one of `challenges`, not yet checked for its client or age;
        NotAuthorized if it is foreign or altered."""
        if not isinstance(text, str) or not 20 <= len(text) <= MAX_LENGTH:
            raise NotAuthorized(INVALID)
        try:
            raw = base64.urlsafe_b64decode(text.encode("ascii"))
            body = json.loads(self._box.open(raw, context=_CONTEXT))
        except (binascii.Error, ValueError, UnicodeError, SealedValueError):
            raise NotAuthorized(INVALID) from None
        if body["n"] not in challenges:
            raise NotAuthorized(INVALID)
        state = ChallengeState(body["p"], body["c"], body["u"], body["n"], body["a"], body["x"])
        return Ticket(state, body["t"], body["i"])

    async def redeem(self, ticket: Ticket, *, client_id: str, minutes: int) -> ChallengeState:
        """Spend a ticket of this client within its AuthSessionValidity."""
        if ticket.state.client_id != client_id:
            raise NotAuthorized(INVALID)
        expires_at = ticket.issued_at + minutes * 60
        if self._clock.now() > expires_at:
            raise NotAuthorized(EXPIRED)
        if not await self._store.spend("session:" + ticket.id, expires_at):
            raise NotAuthorized(EXPIRED)
        return ticket.state

    async def open(
        self, text: object, *, client_id: str, challenges: tuple[str, ...], minutes: int
    ) -> ChallengeState:
        """`read` and `redeem` in one."""
        return await self.redeem(self.read(text, challenges), client_id=client_id, minutes=minutes)
