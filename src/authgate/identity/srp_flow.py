"""USER_SRP_AUTH's two steps against stored verifiers (the math is in `srp`, the carried state
in `secret_block`).

Step one answers PASSWORD_VERIFIER without a Session; the challenge travels sealed in
SECRET_BLOCK, bound to the pool and app client, good for five minutes and once only. For an
unknown user under PreventUserExistenceErrors=ENABLED it answers a challenge that looks the
same for the same name every time (a salt and user id derived from the name under a server
key) and can never succeed.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import uuid
from dataclasses import dataclass
from typing import Final

from authgate.clock import Clock
from authgate.identity import secret_block, srp
from authgate.identity.errors import INCORRECT_CREDENTIALS, NotAuthorized
from authgate.identity.model import UserRecord
from authgate.identity.pools import Client, Pool
from authgate.identity.store import UserPoolStore
from authgate.security.secrets import SecretBox

PASSWORD_VERIFIER: Final = "PASSWORD_VERIFIER"  # noqa: S105 - a challenge name


@dataclass(frozen=True, slots=True)
class Proof:
    """A PASSWORD_VERIFIER answer whose SECRET_BLOCK opened: check it with `verify`."""

    user_id: str
    opened: secret_block.OpenedBlock
    block: str
    timestamp: str
    signature: str


def _key(box: SecretBox, purpose: bytes) -> bytes:
    return bytes.fromhex(box.digest(purpose, context=b"userpool srp keys"))


class SrpFlow:
    def __init__(self, store: UserPoolStore, box: SecretBox, clock: Clock) -> None:
        self._store = store
        self._clock = clock
        self._block_key = _key(box, b"secret block")
        self._decoy_key = _key(box, b"decoy")

    def start(
        self, pool: Pool, client: Client, user_id: str, srp_a: object, verifier: srp.Verifier
    ) -> dict[str, str]:
        """PASSWORD_VERIFIER's ChallengeParameters for `user_id` (the internal username)."""
        if not isinstance(srp_a, str):
            raise NotAuthorized(INCORRECT_CREDENTIALS)
        try:
            challenge = srp.start_challenge(user_id, srp_a, verifier.verifier)
        except srp.SrpRejected:
            raise NotAuthorized(INCORRECT_CREDENTIALS) from None
        block = secret_block.seal(
            challenge,
            key=self._block_key,
            context=_context(pool, client),
            issued_at=self._clock.now(),
        )
        return srp.challenge_parameters(challenge, salt=verifier.salt, secret_block=block)

    def decoy(self, pool: Pool, client: Client, username: str, srp_a: object) -> dict[str, str]:
        """A challenge for a user who does not exist, stable per pool and name."""
        seed = hmac.new(self._decoy_key, f"{pool.id}\x00{username}".encode(), hashlib.sha256)
        digest = seed.digest()
        salt = bytes([digest[0] | 0x80]) + digest[1 : srp.SALT_BYTES]
        user_id = str(uuid.UUID(bytes=digest[16:32], version=4))
        verifier = pow(srp.G, int.from_bytes(digest, "big"), srp.N)
        return self.start(pool, client, user_id, srp_a, srp.Verifier(salt, verifier))

    def open(self, pool: Pool, client: Client, responses: dict[str, str]) -> Proof:
        """The answer's SECRET_BLOCK opened; NotAuthorized if it was not ours for this client."""
        block = responses.get("PASSWORD_CLAIM_SECRET_BLOCK", "")
        try:
            opened = secret_block.open_block(
                block, key=self._block_key, context=_context(pool, client), now=self._clock.now()
            )
        except srp.SrpRejected:
            raise NotAuthorized(INCORRECT_CREDENTIALS) from None
        return Proof(
            opened.challenge.user_id,
            opened,
            block,
            responses.get("TIMESTAMP", ""),
            responses.get("PASSWORD_CLAIM_SIGNATURE", ""),
        )

    async def spend(self, proof: Proof) -> None:
        expires = proof.opened.issued_at + secret_block.DEFAULT_MAX_AGE
        if not await self._store.spend("srp:" + proof.opened.block_id.hex(), expires):
            raise NotAuthorized(INCORRECT_CREDENTIALS)

    async def verify(
        self, pool: Pool, proof: Proof, user: UserRecord, verifier: srp.Verifier
    ) -> bool:
        """Whether the claim proves the password (two 3072-bit exponentiations: in a thread)."""
        if proof.user_id != user.username:
            return False
        try:
            await asyncio.to_thread(
                srp.verify_password_claim,
                proof.opened.challenge,
                pool_name=srp.pool_name(pool.id),
                verifier=verifier.verifier,
                secret_block=proof.block,
                timestamp=proof.timestamp,
                signature=proof.signature,
                now=self._clock.now(),
            )
        except srp.SrpRejected:
            return False
        return True


def _context(pool: Pool, client: Client) -> str:
    return f"{pool.id}\x00{client.id}"
