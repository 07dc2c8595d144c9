"""User pools, their app clients and resource servers: create, read, change, delete.

A new pool gets its two signing keys (ID and access) in the same write. App-client secrets
are generated here, sealed at rest, and shown only by Create/DescribeUserPoolClient, as AWS
shows them. Deleting a pool or client moves the token status generation, so tokens it issued
stop working at the gateway at once.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Final

from authgate.clock import Clock
from authgate.identity.codes import after_key, page
from authgate.identity.errors import (
    InvalidParameter,
    ResourceNotFound,
    ScopeDoesNotExist,
    client_not_found,
    pool_not_found,
)
from authgate.identity.keyring import KeyRing
from authgate.identity.model import ClientRecord, PoolRecord, ResourceServer
from authgate.identity.oauth_client import CLIENT_CREDENTIALS, COGNITO, oauth_settings
from authgate.identity.pool_config import (
    ClientSettings,
    PoolSettings,
    client_config,
    client_settings,
    mfa_config,
    pool_config,
    pool_settings,
)
from authgate.identity.sessions import TokenStatus
from authgate.identity.store import Duplicate, UserPoolStore
from authgate.security.secrets import SecretBox

POOL_SUFFIX_LENGTH: Final = 9
CLIENT_ID_LENGTH: Final = 26
CLIENT_SECRET_LENGTH: Final = 51
MAX_CLIENTS: Final = 1000
MAX_RESOURCE_SERVERS: Final = 25
_ALNUM: Final = string.ascii_letters + string.digits
_LOWER_ALNUM: Final = string.ascii_lowercase + string.digits


def _draw(alphabet: str, length: int) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


def secret_context(client_id: str) -> bytes:
    return f"userpool client secret\x00{client_id}".encode()


@dataclass(frozen=True, slots=True)
class Pool:
    record: PoolRecord
    settings: PoolSettings

    @property
    def id(self) -> str:
        return self.record.id


@dataclass(frozen=True, slots=True)
class Client:
    record: ClientRecord
    settings: ClientSettings
    secret: str | None

    @property
    def id(self) -> str:
        return self.record.id


class PoolService:
    def __init__(
        self,
        store: UserPoolStore,
        box: SecretBox,
        keys: KeyRing,
        status: TokenStatus,
        clock: Clock,
        *,
        region: str,
        account_id: str,
    ) -> None:
        self._store = store
        self._box = box
        self._keys = keys
        self._status = status
        self._clock = clock
        self.region = region
        self.account_id = account_id

    def arn(self, pool_id: str) -> str:
        return f"arn:aws:cognito-idp:{self.region}:{self.account_id}:userpool/{pool_id}"

    # -- pools ---------------------------------------------------------------------------------
    async def create_pool(
        self, name: str, request: Mapping[str, Any], *, pool_id: str | None = None
    ) -> Pool:
        _check_name(name, "PoolName", 128)
        config = pool_config(request)
        pool_id = pool_id or f"{self.region}_{_draw(_ALNUM, POOL_SUFFIX_LENGTH)}"
        now = self._clock.now()
        record = PoolRecord(pool_id, name, now, now, config)
        try:
            await self._store.insert_pool(record, self._keys.new_rows(pool_id))
        except Duplicate:
            raise InvalidParameter(f"User pool {pool_id} already exists.") from None
        await self._keys.load(pool_id)
        self._status.changed()  # other processes load the new pool's keys
        return Pool(record, pool_settings(config))

    async def pool(self, pool_id: object) -> Pool:
        if not isinstance(pool_id, str) or not pool_id:
            raise InvalidParameter("UserPoolId is required")
        record = await self._store.get_pool(pool_id)
        if record is None:
            raise pool_not_found(pool_id)
        return Pool(record, pool_settings(record.config))

    async def list_pools(self, limit: int, token: object) -> tuple[list[PoolRecord], str | None]:
        found = await self._store.list_pools(after=after_key(token, "NextToken"), limit=limit + 1)
        return page(found, limit, lambda p: p.id)

    async def update_pool(self, pool_id: str, request: Mapping[str, Any]) -> Pool:
        pool = await self.pool(pool_id)
        config = pool_config(request, pool.record.config)
        name = request.get("PoolName", pool.record.name)
        _check_name(name, "PoolName", 128)
        record = replace(pool.record, name=name, config=config, updated=self._clock.now())
        if not await self._store.update_pool(record):
            raise pool_not_found(pool_id)
        return Pool(record, pool_settings(config))

    async def set_mfa_config(self, pool_id: str, request: Mapping[str, Any]) -> Pool:
        pool = await self.pool(pool_id)
        config = mfa_config(pool.record.config, request)
        record = replace(pool.record, config=config, updated=self._clock.now())
        await self._store.update_pool(record)
        return Pool(record, pool_settings(config))

    async def delete_pool(self, pool_id: str) -> None:
        pool = await self.pool(pool_id)
        if pool.settings.deletion_protection:
            raise InvalidParameter(
                "The user pool cannot be deleted because deletion protection is activated."
            )
        await self._store.delete_pool(pool_id)
        self._keys.forget(pool_id)
        self._status.changed()

    async def estimated_users(self, pool_id: str) -> int:
        return await self._store.count_users(pool_id)

    async def rotate_keys(self, pool_id: str) -> None:
        """New signing keys from now on; the old ones stay published until their tokens
        expire (an authgate extension: Cognito rotates its keys itself)."""
        await self.pool(pool_id)
        await self._keys.rotate(pool_id)
        self._status.changed()

    # -- app clients ---------------------------------------------------------------------------
    async def create_client(
        self,
        pool_id: str,
        name: object,
        request: Mapping[str, Any],
        *,
        generate_secret: bool = False,
        client_id: str | None = None,
    ) -> Client:
        await self.pool(pool_id)
        name = _check_name(name, "ClientName", 128)
        config = client_config(request)
        await self._check_oauth(pool_id, config, has_secret=generate_secret)
        existing = await self._store.list_clients(pool_id, after=None, limit=MAX_CLIENTS)
        if len(existing) >= MAX_CLIENTS:
            raise InvalidParameter(f"A user pool has at most {MAX_CLIENTS} app clients")
        client_id = client_id or _draw(_LOWER_ALNUM, CLIENT_ID_LENGTH)
        secret = _draw(_LOWER_ALNUM, CLIENT_SECRET_LENGTH) if generate_secret else None
        sealed = (
            None
            if secret is None
            else self._box.seal(secret.encode(), context=secret_context(client_id))
        )
        now = self._clock.now()
        record = ClientRecord(client_id, pool_id, name, now, now, config, sealed)
        try:
            await self._store.insert_client(record)
        except Duplicate:
            raise InvalidParameter(f"User pool client {client_id} already exists.") from None
        return Client(record, client_settings(config), secret)

    async def client(self, client_id: object, pool_id: str | None = None) -> Client:
        """The client, checked to belong to `pool_id` when given."""
        if not isinstance(client_id, str) or not client_id:
            raise InvalidParameter("ClientId is required")
        record = await self._store.get_client(client_id)
        if record is None or (pool_id is not None and record.pool_id != pool_id):
            raise client_not_found(client_id)
        secret = None
        if record.sealed_secret is not None:
            secret = self._box.open(
                record.sealed_secret, context=secret_context(client_id)
            ).decode()
        return Client(record, client_settings(record.config), secret)

    async def list_clients(
        self, pool_id: str, limit: int, token: object
    ) -> tuple[list[ClientRecord], str | None]:
        await self.pool(pool_id)
        after = after_key(token, "NextToken")
        found = await self._store.list_clients(pool_id, after=after, limit=limit + 1)
        return page(found, limit, lambda c: c.id)

    async def update_client(
        self, pool_id: str, client_id: str, request: Mapping[str, Any]
    ) -> Client:
        client = await self.client(client_id, pool_id)
        name = _check_name(request.get("ClientName", client.record.name), "ClientName", 128)
        config = client_config(request)
        await self._check_oauth(pool_id, config, has_secret=client.secret is not None)
        record = replace(client.record, name=name, config=config, updated=self._clock.now())
        if not await self._store.update_client(record):
            raise client_not_found(client_id)
        return Client(record, client_settings(config), client.secret)

    async def _check_oauth(
        self, pool_id: str, config: Mapping[str, Any], *, has_secret: bool
    ) -> None:
        """What `check_oauth_config` cannot see: the client's secret and the pool's
        resource servers (and identity providers)."""
        settings = oauth_settings(config)
        if CLIENT_CREDENTIALS in settings.flows and not has_secret:
            raise InvalidParameter("client_credentials flow can only be used with a client secret.")
        if settings.custom_scopes:
            servers = await self._store.list_resource_servers(pool_id)
            known = {f"{s.identifier}/{name}" for s in servers for name, _ in s.scopes}
            for scope in settings.custom_scopes:
                if scope not in known:
                    raise ScopeDoesNotExist(f"Invalid scope requested: {scope}")
        for provider in settings.providers:
            if provider != COGNITO and await self._store.get_provider(pool_id, provider) is None:
                raise InvalidParameter(
                    f"The provider {provider} does not exist for User Pool {pool_id}"
                )

    async def delete_client(self, pool_id: str, client_id: str) -> None:
        await self.pool(pool_id)
        if not await self._store.delete_client(pool_id, client_id):
            raise client_not_found(client_id)
        self._status.changed()

    # -- resource servers ----------------------------------------------------------------------
    async def create_resource_server(
        self, pool_id: str, identifier: object, name: object, scopes: object
    ) -> ResourceServer:
        await self.pool(pool_id)
        identifier = _check_name(identifier, "Identifier", 256)
        name = _check_name(name, "Name", 256)
        if len(await self._store.list_resource_servers(pool_id)) >= MAX_RESOURCE_SERVERS:
            raise InvalidParameter(
                f"A user pool has at most {MAX_RESOURCE_SERVERS} resource servers"
            )
        server = ResourceServer(pool_id, identifier, name, _scopes(scopes))
        try:
            await self._store.insert_resource_server(server)
        except Duplicate:
            raise InvalidParameter(f"{identifier} already exists in pool {pool_id}.") from None
        return server

    async def resource_server(self, pool_id: str, identifier: str) -> ResourceServer:
        await self.pool(pool_id)
        server = await self._store.get_resource_server(pool_id, identifier)
        if server is None:
            raise ResourceNotFound(f"Resource server {identifier} does not exist.")
        return server

    async def resource_servers(self, pool_id: str) -> list[ResourceServer]:
        await self.pool(pool_id)
        return await self._store.list_resource_servers(pool_id)


def _check_name(value: object, name: str, longest: int) -> str:
    if not isinstance(value, str) or not 1 <= len(value) <= longest:
        raise InvalidParameter(f"{name} must be 1 to {longest} characters")
    return value


def _scopes(raw: object) -> tuple[tuple[str, str], ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or len(raw) > 100:
        raise InvalidParameter("Scopes must be a list of at most 100 scopes")
    scopes: list[tuple[str, str]] = []
    for entry in raw:
        if not isinstance(entry, dict):
            raise InvalidParameter("every scope needs a ScopeName and a ScopeDescription")
        name = entry.get("ScopeName")
        text = entry.get("ScopeDescription")
        if not isinstance(name, str) or not isinstance(text, str) or not name:
            raise InvalidParameter("every scope needs a ScopeName and a ScopeDescription")
        if any(c.isspace() or c in '"\\' for c in name):
            raise InvalidParameter(f"invalid scope name: {name}")
        scopes.append((name, text))
    return tuple(scopes)
