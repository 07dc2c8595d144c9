"""What a signed-in user does with their own access token: GetUser, UpdateUserAttributes,
GetUserAttributeVerificationCode, VerifyUserAttribute, ChangePassword, DeleteUser. The token is
checked by `access` (signature, expiry, scope, revocation, enabled user) before anything else.

A changed email or phone number is no longer verified. When the pool verifies that attribute
automatically, a code goes to the new address at once (as Cognito sends one); the user can ask
for another with GetUserAttributeVerificationCode, and VerifyUserAttribute marks the address
verified. A code is bound to the address it went to: after a further change it verifies nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from authgate.clock import Clock
from authgate.identity import lockout
from authgate.identity.access import AccessTokens
from authgate.identity.attributes import (
    VERIFIED_FLAG,
    Delivery,
    attribute_map,
    check_values,
    delivery_for,
)
from authgate.identity.directory import UserDirectory
from authgate.identity.errors import (
    INCORRECT_CREDENTIALS,
    INVALID_CODE,
    CodeMismatch,
    InvalidParameter,
    NotAuthorized,
)
from authgate.identity.messenger import Messenger
from authgate.identity.model import CodePurpose, UserRecord
from authgate.identity.pools import Pool, PoolService
from authgate.identity.sessions import TokenStatus
from authgate.identity.store import UserPoolStore
from authgate.identity.users import check_password

_VERIFIES: dict[str, CodePurpose] = {
    "email": CodePurpose.VERIFY_EMAIL,
    "phone_number": CodePurpose.VERIFY_PHONE_NUMBER,
}


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
        messenger: Messenger,
        clock: Clock,
    ) -> None:
        self._pools = pools
        self._directory = directory
        self._store = store
        self._access = access
        self._status = status
        self._messenger = messenger
        self._clock = clock

    async def get_user(self, token: object) -> Profile:
        caller = await self._access.caller(token)
        return Profile(await self._pools.pool(caller.pool_id), caller.user)

    async def update_attributes(self, request: Mapping[str, Any]) -> list[dict[str, str]]:
        """Apply the changes; the delivery details of the verification codes sent."""
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
        user = await self._directory.change(
            pool, caller.user, lambda user: with_attribute_changes(user, changes)
        )
        sent: list[dict[str, str]] = []
        for kind in _VERIFIES:
            if kind in changes and kind in pool.settings.auto_verified:
                delivery = delivery_for(user.attributes, (kind,))
                if delivery is not None and user.attributes.get(VERIFIED_FLAG[kind]) != "true":
                    await self._send(pool, user, delivery)
                    sent.append(delivery.details())
        return sent

    async def attribute_verification_code(self, request: Mapping[str, Any]) -> dict[str, str]:
        """GetUserAttributeVerificationCode: a code to the user's email or phone number."""
        caller = await self._access.caller(request.get("AccessToken"))
        pool = await self._pools.pool(caller.pool_id)
        delivery = _verifiable(caller.user, request.get("AttributeName"))
        await self._send(pool, caller.user, delivery)
        return delivery.details()

    async def verify_attribute(self, request: Mapping[str, Any]) -> None:
        """VerifyUserAttribute: the code sent for the attribute's current value verifies it."""
        caller = await self._access.caller(request.get("AccessToken"))
        pool = await self._pools.pool(caller.pool_id)
        delivery = _verifiable(caller.user, request.get("AttributeName"))
        kind = delivery.attribute
        await self._messenger.check_code(
            pool, caller.user, _VERIFIES[kind], request.get("Code"), delivery.destination
        )
        flag = VERIFIED_FLAG[kind]

        def verified(user: UserRecord) -> UserRecord:
            if user.attributes.get(kind) != delivery.destination:
                raise CodeMismatch(INVALID_CODE)  # changed while the code was being checked
            return replace(user, attributes={**user.attributes, flag: "true"})

        await self._directory.change(pool, caller.user, verified)

    async def _send(self, pool: Pool, user: UserRecord, delivery: Delivery) -> None:
        purpose = _VERIFIES[delivery.attribute]
        await self._messenger.send_code(pool, user, purpose, delivery, delivery.destination)

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


def _verifiable(user: UserRecord, name: object) -> Delivery:
    """Where a code for attribute `name` of `user` goes."""
    if not isinstance(name, str) or not name:
        raise InvalidParameter("Missing required parameter AttributeName")
    if name not in _VERIFIES:
        raise InvalidParameter(f"Invalid attribute name: {name}")
    delivery = delivery_for(user.attributes, (name,))
    if delivery is None:
        raise InvalidParameter(f"User does not have a value for the attribute: {name}")
    return delivery
