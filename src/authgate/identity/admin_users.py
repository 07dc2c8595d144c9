"""What an administrator (a SigV4 caller allowed `cognito-idp:Admin*`) does to users: create
with a temporary password, set passwords, confirm, read, change attributes, disable, enable,
delete, reset, and list with a filter."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Final

from authgate.clock import Clock
from authgate.identity.attributes import (
    attribute_map,
    check_required,
    check_values,
    delivery_for,
    parse_filter,
)
from authgate.identity.codes import after_key, page_token
from authgate.identity.directory import UserDirectory
from authgate.identity.errors import InvalidParameter, NotAuthorized, UserNotFound
from authgate.identity.messenger import Messenger
from authgate.identity.model import CodePurpose, UserRecord, UserStatus
from authgate.identity.passwords import temporary_password
from authgate.identity.pools import Pool, PoolService
from authgate.identity.profile import with_attribute_changes
from authgate.identity.sessions import TokenStatus
from authgate.identity.store import Duplicate, UserPoolStore
from authgate.identity.users import (
    UserFlows,
    check_password,
    duplicate_error,
    new_user,
    recovery_delivery,
)

SCAN_BATCH: Final = 500
"""Users read at a time while a ListUsers filter looks for matches."""


@dataclass(frozen=True, slots=True)
class Located:
    pool: Pool
    user: UserRecord


class AdminUsers:
    def __init__(
        self,
        pools: PoolService,
        directory: UserDirectory,
        store: UserPoolStore,
        flows: UserFlows,
        messenger: Messenger,
        status: TokenStatus,
        clock: Clock,
    ) -> None:
        self._pools = pools
        self._directory = directory
        self._store = store
        self._flows = flows
        self._messenger = messenger
        self._status = status
        self._clock = clock

    async def locate(self, pool_id: str, username: object) -> Located:
        pool = await self._pools.pool(pool_id)
        return Located(pool, await self._directory.require(pool, username))

    async def create(self, pool_id: str, request: Mapping[str, Any]) -> UserRecord:
        pool = await self._pools.pool(pool_id)
        action = request.get("MessageAction")
        if action not in (None, "RESEND", "SUPPRESS"):
            raise InvalidParameter("MessageAction must be RESEND or SUPPRESS")
        given = request.get("TemporaryPassword")
        password = (
            temporary_password(pool.settings.password_policy)
            if given is None
            else check_password(pool, given, "TemporaryPassword")
        )
        if action == "RESEND":
            return await self._resend(pool, request, password)
        attributes = attribute_map(request.get("UserAttributes"))
        check_values(pool.settings, attributes, admin=True)
        user, typed = new_user(
            pool,
            request.get("Username"),
            attributes,
            now=self._clock.now(),
            status=UserStatus.FORCE_CHANGE_PASSWORD,
        )
        material = await self._directory.new_password(pool, user, password)
        user = material.apply(user, UserStatus.FORCE_CHANGE_PASSWORD)
        try:
            await self._store.insert_user(user)
        except Duplicate as exc:
            raise duplicate_error(pool, exc.what) from None
        if action != "SUPPRESS":
            await self._invite(pool, user, request, typed, password)
        return user

    async def _resend(self, pool: Pool, request: Mapping[str, Any], password: str) -> UserRecord:
        user = await self._directory.require(pool, request.get("Username"))
        if user.status is not UserStatus.FORCE_CHANGE_PASSWORD:
            raise InvalidParameter("User is not in FORCE_CHANGE_PASSWORD state; cannot resend")
        material = await self._directory.new_password(pool, user, password)
        user = await self._directory.change(
            pool, user, lambda u: material.apply(u, UserStatus.FORCE_CHANGE_PASSWORD)
        )
        await self._invite(pool, user, request, str(request.get("Username")), password)
        return user

    async def _invite(
        self, pool: Pool, user: UserRecord, request: Mapping[str, Any], typed: str, password: str
    ) -> None:
        mediums = request.get("DesiredDeliveryMediums") or ["SMS"]
        if not isinstance(mediums, list) or not set(mediums) <= {"SMS", "EMAIL"}:
            raise InvalidParameter("DesiredDeliveryMediums may hold SMS and EMAIL")
        kinds = ["phone_number" if m == "SMS" else "email" for m in mediums]
        delivery = delivery_for(user.attributes, kinds) or delivery_for(
            user.attributes, ("email", "phone_number")
        )
        if delivery is not None:
            await self._messenger.send_invitation(pool, user, delivery, typed, password)

    async def set_password(self, pool_id: str, request: Mapping[str, Any]) -> None:
        found = await self.locate(pool_id, request.get("Username"))
        password = check_password(found.pool, request.get("Password"))
        permanent = request.get("Permanent") is True
        material = await self._directory.new_password(found.pool, found.user, password)
        status = UserStatus.CONFIRMED if permanent else UserStatus.FORCE_CHANGE_PASSWORD

        def edit(user: UserRecord) -> UserRecord:
            changed = material.apply(user, status)
            return replace(changed, failed_attempts=0, locked_until=0.0)

        await self._directory.change(found.pool, found.user, edit)

    async def confirm_sign_up(self, pool_id: str, username: object) -> None:
        found = await self.locate(pool_id, username)
        if found.user.status is not UserStatus.UNCONFIRMED:
            raise NotAuthorized(
                f"User cannot be confirmed. Current status is {found.user.status.value}"
            )
        await self._flows.confirm(found.pool, found.user)

    async def set_enabled(self, pool_id: str, username: object, enabled: bool) -> None:
        found = await self.locate(pool_id, username)
        await self._directory.change(found.pool, found.user, lambda u: replace(u, enabled=enabled))
        self._status.changed()

    async def delete(self, pool_id: str, username: object) -> None:
        found = await self.locate(pool_id, username)
        if not await self._store.delete_user(pool_id, found.user.username):
            raise UserNotFound("User does not exist.")
        self._status.changed()

    async def update_attributes(self, pool_id: str, request: Mapping[str, Any]) -> None:
        found = await self.locate(pool_id, request.get("Username"))
        changes = attribute_map(request.get("UserAttributes"))
        check_values(found.pool.settings, changes, current=found.user.attributes, admin=True)
        await self._directory.change(
            found.pool, found.user, lambda user: with_attribute_changes(user, changes)
        )

    async def delete_attributes(self, pool_id: str, request: Mapping[str, Any]) -> None:
        found = await self.locate(pool_id, request.get("Username"))
        names = request.get("UserAttributeNames")
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise InvalidParameter("UserAttributeNames must be a list of names")
        if "sub" in names:
            raise InvalidParameter("Cannot delete the sub attribute")
        kept = {k: v for k, v in found.user.attributes.items() if k not in names}
        check_required(found.pool.settings, kept)
        await self._directory.change(
            found.pool,
            found.user,
            lambda user: replace(
                user, attributes={k: v for k, v in user.attributes.items() if k not in names}
            ),
        )

    async def reset_password(self, pool_id: str, username: object) -> None:
        """RESET_REQUIRED, and a forgot-password code to a verified email or phone."""
        found = await self.locate(pool_id, username)
        delivery = recovery_delivery(found.user)
        if delivery is None:
            raise InvalidParameter(
                "Cannot reset password for the user as there is no registered/verified email "
                "or phone_number"
            )
        user = await self._directory.change(
            found.pool, found.user, lambda u: replace(u, status=UserStatus.RESET_REQUIRED)
        )
        await self._messenger.send_code(found.pool, user, CodePurpose.FORGOT_PASSWORD, delivery)

    async def list_users(
        self, pool_id: str, request: Mapping[str, Any]
    ) -> tuple[list[UserRecord], str | None]:
        await self._pools.pool(pool_id)
        limit = request.get("Limit", 60)
        if isinstance(limit, bool) or not isinstance(limit, int) or not 0 <= limit <= 60:
            raise InvalidParameter("Limit must be from 0 to 60")
        limit = limit or 60
        matches = parse_filter(str(request.get("Filter") or ""))
        after = after_key(request.get("PaginationToken"), "PaginationToken")
        found: list[UserRecord] = []
        while len(found) <= limit:
            batch = await self._store.list_users(pool_id, after=after, limit=SCAN_BATCH)
            found += [user for user in batch if matches(user)]
            if len(batch) < SCAN_BATCH:
                break
            after = batch[-1].username
        if len(found) > limit:
            return found[:limit], page_token(found[limit - 1].username)
        return found, None
