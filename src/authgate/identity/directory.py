"""The users of a pool as the flows need them: found by any identifier, changed safely, and
their password material (argon2id hash for password flows, SRP salt and verifier for SRP).

Changes are read-modify-write with a version check, retried when another request changed the
user in between (two concurrent failed sign-ins must both count). Password hashing and the SRP
verifier's exponentiation run in worker threads: they take tens of milliseconds of CPU, and
argon2 releases the GIL, so the event loop keeps serving meanwhile.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Final

from authgate.clock import Clock
from authgate.identity import srp
from authgate.identity.attributes import aliases_of, lookup_aliases
from authgate.identity.errors import AliasExists, ConcurrentModification, UserNotFound
from authgate.identity.model import UserRecord, UserStatus
from authgate.identity.passwords import PasswordHasher
from authgate.identity.pools import Pool
from authgate.identity.store import Duplicate, UserPoolStore
from authgate.security.secrets import SecretBox

MAX_RETRIES: Final = 8

Edit = Callable[[UserRecord], UserRecord]


@dataclass(frozen=True, slots=True)
class PasswordMaterial:
    """What is stored for a password; `apply` puts it on (the latest version of) a user."""

    password_hash: str = field(repr=False)
    sealed_srp: bytes = field(repr=False)
    set_at: float

    def apply(self, user: UserRecord, status: UserStatus) -> UserRecord:
        return replace(
            user,
            password_hash=self.password_hash,
            sealed_srp=self.sealed_srp,
            password_set_at=self.set_at,
            status=status,
        )


def srp_context(pool_id: str, username: str) -> bytes:
    return f"userpool srp verifier\x00{pool_id}\x00{username}".encode()


class UserDirectory:
    def __init__(
        self, store: UserPoolStore, box: SecretBox, hasher: PasswordHasher, clock: Clock
    ) -> None:
        self._store = store
        self._box = box
        self.hasher = hasher
        self._clock = clock

    # -- finding -------------------------------------------------------------------------------
    async def find(self, pool: Pool, identifier: object) -> UserRecord | None:
        """By username (folded as the pool compares), then by alias (email, phone, preferred
        username) as the pool allows, then by `sub`."""
        if not isinstance(identifier, str) or not identifier:
            return None
        settings = pool.settings
        user = await self._store.get_user(pool.id, settings.fold(identifier))
        if user is not None:
            return user
        for alias in lookup_aliases(settings, identifier):
            user = await self._store.find_by_alias(pool.id, alias)
            if user is not None:
                return user
        if len(identifier) == 36:
            return await self._store.find_by_sub(pool.id, identifier)
        return None

    async def require(self, pool: Pool, identifier: object) -> UserRecord:
        user = await self.find(pool, identifier)
        if user is None:
            raise UserNotFound("User does not exist.")
        return user

    # -- changing ------------------------------------------------------------------------------
    async def change(self, pool: Pool, user: UserRecord, edit: Edit) -> UserRecord:
        """Apply `edit` to the latest version of `user` and store it; aliases are recomputed.
        UserNotFound if the user is gone, AliasExists if a new alias is another user's."""
        current = user
        for _ in range(MAX_RETRIES):
            edited = edit(current)
            aliases = aliases_of(pool.settings, edited.username, edited.attributes)
            updated = replace(
                edited, aliases=aliases, version=current.version + 1, updated=self._clock.now()
            )
            try:
                if await self._store.update_user(updated):
                    return updated
            except Duplicate as exc:
                raise AliasExists(_alias_message(exc.what)) from None
            latest = await self._store.get_user(pool.id, user.username_key)
            if latest is None:
                raise UserNotFound("User does not exist.")
            current = latest
        raise ConcurrentModification("The user was changed concurrently; try again.")

    # -- passwords -----------------------------------------------------------------------------
    async def new_password(self, pool: Pool, user: UserRecord, password: str) -> PasswordMaterial:
        """Hash and SRP verifier for `password`, bound to the pool and the internal username."""
        hashed, verifier = await asyncio.gather(
            asyncio.to_thread(self.hasher.hash, password),
            asyncio.to_thread(srp.make_verifier, srp.pool_name(pool.id), user.username, password),
        )
        sealed = self._box.seal(
            verifier.salt + srp.pad(verifier.verifier),
            context=srp_context(pool.id, user.username),
        )
        return PasswordMaterial(hashed, sealed, self._clock.now())

    async def password_matches(self, user: UserRecord | None, password: str) -> bool:
        """Checks in constant work whether or not the user (or its hash) exists."""
        if user is None or user.password_hash is None:
            await asyncio.to_thread(self.hasher.burn, password)
            return False
        return await asyncio.to_thread(self.hasher.verify, user.password_hash, password)

    def verifier(self, user: UserRecord) -> srp.Verifier | None:
        if user.sealed_srp is None:
            return None
        raw = self._box.open(user.sealed_srp, context=srp_context(user.pool_id, user.username))
        salt, verifier = raw[: srp.SALT_BYTES], raw[srp.SALT_BYTES :]
        return srp.Verifier(salt, int.from_bytes(verifier, "big"))


def _alias_message(what: str) -> str:
    kind = what.partition(":")[2] or "alias"
    noun = {"email": "email", "phone_number": "phone_number"}.get(kind, kind)
    return f"An account with the {noun} already exists."
