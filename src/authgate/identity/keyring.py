"""Each pool's signing keys in memory: the ones that sign, and the ones the JWKS publishes.

A pool has one active key per token use (ID, access), as Cognito does. Keys are stored sealed
under the master key; this process keeps them opened, loaded at start, when a pool appears,
and again whenever another process may have changed them (the change feed). Rotation keeps a
retired key published until every token it signed has expired (`keys.published`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from cryptography.hazmat.primitives.asymmetric import rsa

from authgate.clock import Clock
from authgate.identity.keys import (
    KeyRecord,
    SigningKey,
    TokenUse,
    active_record,
    generate_signing_key,
    private_key_bytes,
    published,
    rotate,
    signing_key_from_bytes,
)
from authgate.identity.model import KeyRow
from authgate.identity.store import UserPoolStore
from authgate.security.secrets import SecretBox

MAX_TOKEN_LIFETIME = 86_400
"""The longest an ID or access token can live (one day): how long a retired key stays published."""
VERIFIER_SKEW = 300.0


def key_context(pool_id: str, kid: str) -> bytes:
    return f"userpool signing key\x00{pool_id}\x00{kid}".encode()


@dataclass(frozen=True, slots=True)
class PoolKeys:
    """One pool's opened keys: who signs each use, and what is published."""

    signers: Mapping[TokenUse, SigningKey]
    published: tuple[SigningKey, ...]
    public: Mapping[str, rsa.RSAPublicKey]


_EMPTY = PoolKeys(MappingProxyType({}), (), MappingProxyType({}))


class KeyRing:
    def __init__(self, store: UserPoolStore, box: SecretBox, clock: Clock) -> None:
        self._store = store
        self._box = box
        self._clock = clock
        self._pools: dict[str, PoolKeys] = {}
        self._reload: asyncio.Task[None] | None = None

    # -- reading -----------------------------------------------------------------------------
    def public_keys(self, pool_id: str) -> Mapping[str, rsa.RSAPublicKey]:
        """kid → public key of every key the pool publishes; empty for an unknown pool."""
        return self._pools.get(pool_id, _EMPTY).public

    def jwks(self, pool_id: str) -> dict[str, list[dict[str, str]]] | None:
        keys = self._pools.get(pool_id)
        return None if keys is None else {"keys": [k.public_jwk() for k in keys.published]}

    async def signer(self, pool_id: str, use: TokenUse) -> SigningKey | None:
        """The key that signs new tokens of `use`; loads the pool's keys if not known yet."""
        keys = self._pools.get(pool_id)
        if keys is None:
            await self.load(pool_id)
            keys = self._pools.get(pool_id, _EMPTY)
        return keys.signers.get(use)

    async def known(self, pool_id: str) -> bool:
        if pool_id not in self._pools:
            await self.load(pool_id)
        return pool_id in self._pools

    # -- loading -----------------------------------------------------------------------------
    async def load(self, pool_id: str | None = None) -> None:
        """(Re)load one pool's keys, or every pool's."""
        rows = await self._store.signing_keys(pool_id)
        by_pool: dict[str, list[KeyRow]] = {}
        for row in rows:
            by_pool.setdefault(row.pool_id, []).append(row)
        if pool_id is None:
            self._pools = {pid: self._open(found) for pid, found in by_pool.items()}
        elif pool_id in by_pool:
            self._pools[pool_id] = self._open(by_pool[pool_id])
        else:
            self._pools.pop(pool_id, None)

    def reload_soon(self) -> None:
        """Reload every pool in the background (another process may have changed keys)."""
        if self._reload is None or self._reload.done():
            self._reload = asyncio.get_running_loop().create_task(self.load())

    def forget(self, pool_id: str) -> None:
        self._pools.pop(pool_id, None)

    def _open(self, rows: Iterable[KeyRow]) -> PoolKeys:
        opened: dict[str, SigningKey] = {}
        records: list[KeyRecord] = []
        for row in rows:
            plain = self._box.open(row.sealed_key, context=key_context(row.pool_id, row.kid))
            opened[row.kid] = signing_key_from_bytes(plain)
            records.append(KeyRecord(row.kid, TokenUse(row.use), row.created, row.retired))
        signers: dict[TokenUse, SigningKey] = {}
        for use in TokenUse:
            record = active_record(records, use)
            if record is not None:
                signers[use] = opened[record.kid]
        shown = published(
            records,
            now=self._clock.now(),
            max_token_lifetime=MAX_TOKEN_LIFETIME,
            skew=VERIFIER_SKEW,
        )
        keys = tuple(opened[r.kid] for r in shown)
        public = {key.kid: key.private_key.public_key() for key in keys}
        return PoolKeys(MappingProxyType(signers), keys, MappingProxyType(public))

    # -- making ------------------------------------------------------------------------------
    def new_rows(self, pool_id: str) -> list[KeyRow]:
        """A new pool's first keys, one per token use, sealed for storing."""
        now = self._clock.now()
        return [self._row(pool_id, use, generate_signing_key(), now) for use in TokenUse]

    def _row(self, pool_id: str, use: TokenUse, key: SigningKey, now: float) -> KeyRow:
        sealed = self._box.seal(private_key_bytes(key), context=key_context(pool_id, key.kid))
        return KeyRow(pool_id, key.kid, use.value, now, None, sealed)

    async def rotate(self, pool_id: str, uses: Iterable[TokenUse] = tuple(TokenUse)) -> None:
        """New keys sign from now on; the old ones stay published until their tokens expire,
        then are dropped from the store."""
        now = self._clock.now()
        rows = {row.kid: row for row in await self._store.signing_keys(pool_id)}
        records = tuple(
            KeyRecord(r.kid, TokenUse(r.use), r.created, r.retired) for r in rows.values()
        )
        for use in uses:
            key = generate_signing_key()
            records = rotate(records, use, key.kid, now)
            rows[key.kid] = self._row(pool_id, use, key, now)
        keep = published(
            records, now=now, max_token_lifetime=MAX_TOKEN_LIFETIME, skew=VERIFIER_SKEW
        )
        stored = [
            KeyRow(pool_id, r.kid, r.use.value, r.created_at, r.retired_at, rows[r.kid].sealed_key)
            for r in keep
        ]
        await self._store.replace_signing_keys(pool_id, stored)
        await self.load(pool_id)
