"""User pools and app clients declared in authgate.yaml, created at start when absent.

A seed never changes or deletes what exists: once created, the pool is managed through the
API like any other. Settings a seed gives that the API would refuse stop the start, naming
where they are.
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping, Sequence
from typing import Any, Protocol

from authgate.errors import ConfigError, Problem
from authgate.identity.errors import CognitoError, ResourceNotFound
from authgate.identity.pools import PoolService


class ClientSeed(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def generate_secret(self) -> bool: ...
    @property
    def settings(self) -> Mapping[str, Any]: ...


class PoolSeed(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def location(self) -> str: ...
    @property
    def settings(self) -> Mapping[str, Any]: ...
    @property
    def clients(self) -> Sequence[ClientSeed]: ...


async def apply_seeds(pools: PoolService, seeds: Sequence[PoolSeed]) -> None:
    problems: list[Problem] = []
    for seed in seeds:
        try:
            await _pool(pools, seed)
        except CognitoError as error:
            problems.append(Problem(seed.location, f"{error.type}: {error.message}"))
    if problems:
        raise ConfigError(problems)


async def _pool(pools: PoolService, seed: PoolSeed) -> None:
    try:
        await pools.pool(seed.id)
    except ResourceNotFound:
        try:
            await pools.create_pool(seed.name, seed.settings, pool_id=seed.id)
        except CognitoError:
            if not await _exists(pools.pool(seed.id)):  # another process may have made it
                raise
    for client in seed.clients:
        try:
            await pools.client(client.id, seed.id)
        except ResourceNotFound:
            try:
                await pools.create_client(
                    seed.id,
                    client.name,
                    client.settings,
                    generate_secret=client.generate_secret,
                    client_id=client.id,
                )
            except CognitoError:
                if not await _exists(pools.client(client.id, seed.id)):
                    raise


async def _exists(lookup: Awaitable[object]) -> bool:
    try:
        await lookup
    except ResourceNotFound:
        return False
    return True
