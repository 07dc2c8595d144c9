"""Groups and memberships. A user's groups reach their tokens (`cognito:groups`, and the
roles of groups that name one) at the next sign-in or refresh."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any, Final

from authgate.clock import Clock
from authgate.identity.codes import after_key, page
from authgate.identity.directory import UserDirectory
from authgate.identity.errors import GroupExists, InvalidParameter, ResourceNotFound
from authgate.identity.model import GroupRecord, UserRecord
from authgate.identity.pools import PoolService
from authgate.identity.store import Duplicate, UserPoolStore

MAX_GROUPS_PER_USER: Final = 100
_ROLE_ARN: Final = re.compile(r"arn:[\w+=/,.@-]+:iam::\d{12}:role/[\w+=/,.@-]+")


def _group_fields(request: Mapping[str, Any]) -> tuple[str | None, str | None, int | None]:
    description = request.get("Description")
    role = request.get("RoleArn")
    precedence = request.get("Precedence")
    if description is not None and (not isinstance(description, str) or len(description) > 2048):
        raise InvalidParameter("Description must be a string of at most 2048 characters")
    if role is not None and (not isinstance(role, str) or not _ROLE_ARN.fullmatch(role)):
        raise InvalidParameter("RoleArn must be an IAM role ARN")
    if precedence is not None and (
        isinstance(precedence, bool) or not isinstance(precedence, int) or precedence < 0
    ):
        raise InvalidParameter("Precedence must be a non-negative integer")
    return description, role, precedence


def _name(value: object) -> str:
    if not isinstance(value, str) or not 1 <= len(value) <= 128:
        raise InvalidParameter("GroupName must be 1 to 128 characters")
    return value


class GroupService:
    def __init__(
        self, pools: PoolService, directory: UserDirectory, store: UserPoolStore, clock: Clock
    ) -> None:
        self._pools = pools
        self._directory = directory
        self._store = store
        self._clock = clock

    async def create(self, pool_id: str, request: Mapping[str, Any]) -> GroupRecord:
        await self._pools.pool(pool_id)
        name = _name(request.get("GroupName"))
        description, role, precedence = _group_fields(request)
        now = self._clock.now()
        group = GroupRecord(pool_id, name, description, role, precedence, now, now)
        try:
            await self._store.insert_group(group)
        except Duplicate:
            raise GroupExists("A group with the name already exists.") from None
        return group

    async def get(self, pool_id: str, name: object) -> GroupRecord:
        await self._pools.pool(pool_id)
        group = await self._store.get_group(pool_id, _name(name))
        if group is None:
            raise ResourceNotFound("Group not found.")
        return group

    async def list_groups(
        self, pool_id: str, limit: int, token: object
    ) -> tuple[list[GroupRecord], str | None]:
        await self._pools.pool(pool_id)
        after = after_key(token, "NextToken")
        found = await self._store.list_groups(pool_id, after=after, limit=limit + 1)
        return page(found, limit, lambda g: g.name)

    async def update(self, pool_id: str, request: Mapping[str, Any]) -> GroupRecord:
        group = await self.get(pool_id, request.get("GroupName"))
        description, role, precedence = _group_fields(request)
        updated = replace(
            group,
            description=description if "Description" in request else group.description,
            role_arn=role if "RoleArn" in request else group.role_arn,
            precedence=precedence if "Precedence" in request else group.precedence,
            updated=self._clock.now(),
        )
        await self._store.update_group(updated)
        return updated

    async def delete(self, pool_id: str, name: object) -> None:
        group = await self.get(pool_id, name)
        await self._store.delete_group(pool_id, group.name)

    async def add_user(self, pool_id: str, username: object, name: object) -> None:
        pool = await self._pools.pool(pool_id)
        group = await self.get(pool_id, name)
        user = await self._directory.require(pool, username)
        if len(await self._store.groups_of(pool_id, user.username)) >= MAX_GROUPS_PER_USER:
            raise InvalidParameter(f"A user can be in at most {MAX_GROUPS_PER_USER} groups")
        if not await self._store.add_member(pool_id, group.name, user.username):
            raise ResourceNotFound("Group not found.")

    async def remove_user(self, pool_id: str, username: object, name: object) -> None:
        pool = await self._pools.pool(pool_id)
        group = await self.get(pool_id, name)
        user = await self._directory.require(pool, username)
        await self._store.remove_member(pool_id, group.name, user.username)

    async def groups_of(
        self, pool_id: str, username: object, limit: int, token: object
    ) -> tuple[list[GroupRecord], str | None]:
        pool = await self._pools.pool(pool_id)
        user = await self._directory.require(pool, username)
        groups = await self._store.groups_of(pool_id, user.username)
        after = after_key(token, "NextToken")
        later = [g for g in groups if after is None or g.name > after]
        return page(later, limit, lambda g: g.name)

    async def users_in(
        self, pool_id: str, name: object, limit: int, token: object
    ) -> tuple[list[UserRecord], str | None]:
        group = await self.get(pool_id, name)
        after = after_key(token, "NextToken")
        found = await self._store.members_of(pool_id, group.name, after=after, limit=limit + 1)
        return page(found, limit, lambda u: u.username)
