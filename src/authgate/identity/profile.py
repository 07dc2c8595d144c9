"""What a signed-in user does with their own access token: GetUser, UpdateUserAttributes,
ChangePassword, DeleteUser. The token is checked by `access` (signature, expiry, scope,
revocation, enabled user) before anything else.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from authgate.clock import Clock
from authgate.identity import lockout
from authgate.identity.access import AccessTokens
from authgate.identity.attributes import VERIFIED_FLAG, attribute_map, check_values
from authgate.identity.directory import UserDirectory
from authgate.identity.errors import INCORRECT_CREDENTIALS, InvalidParameter, NotAuthorized
from authgate.identity.model import UserRecord
from authgate.identity.pools import Pool, PoolService
from authgate.identity.sessions import TokenStatus
from authgate.identity.store import UserPoolStore
from authgate.identity.users import check_password


@dataclass(frozen=True, slots=True)
class Profile:
    pool: Pool
    user: UserRecord


def with_attribute_changes(user: UserRecord, changes: Mapping[str, str]) -> UserRecord:
    """A changed email or phone number is no longer verified, unless the change says so."""
    attributes = {**user.attributes, **changes}
    for kind, flag in VERIFIED_FLAG.items():
        if kind in changes and changes[kind] != user.attributes.get(kind) and flag not in changes:
            attributes[flag] = "false"
    return replace(user, attributes=attributes)


class ProfileService:
    def __init__(
        self,
        pools: PoolService,
        directory: UserDirectory,
        store: UserPoolStore,
        access: AccessTokens,
        status: TokenStatus,
        clock: Clock,
    ) -> None:
        self._pools = pools
        self._directory = directory
        self._store = store
        self._access = access
        self._status = status
        self._clock = clock

    async def get_user(self, token: object) -> Profile:
        caller = await self._access.caller(token)
        return Profile(await self._pools.pool(caller.pool_id), caller.user)

    async def update_attributes(self, request: Mapping[str, Any]) -> None:
        caller = await self._access.caller(request.get("AccessToken"))
        pool = await self._pools.pool(caller.pool_id)
        client = await self._pools.client(caller.claims.get("client_id"), pool.id)
        changes = attribute_map(request.get("UserAttributes"))
        if any(flag in changes for flag in VERIFIED_FLAG.values()):
            raise InvalidParameter("A user cannot set email_verified or phone_number_verified")
        check_values(
            pool.settings,
            changes,
            current=caller.user.attributes,
            allowed=client.settings.write_attributes,
        )
        await self._directory.change(
            pool, caller.user, lambda user: with_attribute_changes(user, changes)
        )

    async def change_password(self, request: Mapping[str, Any]) -> None:
        caller = await self._access.caller(request.get("AccessToken"))
        pool, user = await self._pools.pool(caller.pool_id), caller.user
        if lockout.locked(user, self._clock.now()):
            raise NotAuthorized("Password attempts exceeded")
        previous = request.get("PreviousPassword")
        if not isinstance(previous, str) or not await self._directory.password_matches(
            user, previous
        ):
            now = self._clock.now()
            await self._directory.change(pool, user, lambda u: lockout.after_failure(u, now))
            raise NotAuthorized(INCORRECT_CREDENTIALS)
        password = check_password(pool, request.get("ProposedPassword"), "ProposedPassword")
        material = await self._directory.new_password(pool, user, password)
        await self._directory.change(
            pool, user, lambda u: lockout.after_success(material.apply(u, u.status))
        )

    async def delete_user(self, token: object) -> None:
        caller = await self._access.caller(token)
        await self._store.delete_user(caller.pool_id, caller.user.username)
        self._status.changed()
