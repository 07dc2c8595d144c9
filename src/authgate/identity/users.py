"""Self-service account flows: SignUp, ConfirmSignUp, ResendConfirmationCode, ForgotPassword,
ConfirmForgotPassword — and the rules for a new user that AdminCreateUser shares.

Unknown users are answered as the app client's PreventUserExistenceErrors says
(userpool-protocol.md §1.5): LEGACY names the problem, ENABLED answers as if the user existed
(a simulated delivery, a code mismatch), so the API cannot be used to list accounts.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Final

from authgate.clock import Clock
from authgate.identity.attributes import (
    EMAIL,
    PHONE,
    VERIFIED_FLAG,
    Delivery,
    aliases_of,
    attribute_map,
    check_required,
    check_values,
    delivery_for,
    mask,
)
from authgate.identity.directory import UserDirectory
from authgate.identity.errors import (
    USERNAME_CLIENT_NOT_FOUND,
    AliasExists,
    CodeMismatch,
    InvalidParameter,
    InvalidPassword,
    NotAuthorized,
    UsernameExists,
    UserNotFound,
)
from authgate.identity.messenger import Messenger
from authgate.identity.model import CodePurpose, UserRecord, UserStatus
from authgate.identity.passwords import MAX_PASSWORD_LENGTH, check_policy
from authgate.identity.pools import Client, Pool, PoolService
from authgate.identity.secret_hash import check_secret_hash
from authgate.identity.sessions import TokenStatus
from authgate.identity.store import Duplicate, UserPoolStore

USERNAME: Final = re.compile(r"[^\s]{1,128}")
SIGN_UP_ORDER: Final = ("phone_number", "email")
"""With both auto-verified, the sign-up code goes by SMS (Developer Guide,
user-pool-settings-email-phone-verification)."""


def check_password(pool: Pool, password: object, name: str = "Password") -> str:
    if not isinstance(password, str) or not password:
        raise InvalidParameter(f"Missing required parameter {name}")
    if len(password) > MAX_PASSWORD_LENGTH or any(c.isspace() and c != " " for c in password):
        raise InvalidParameter(
            f"1 validation error detected: Value at '{name[:1].lower()}{name[1:]}' "
            "failed to satisfy constraint: Member must satisfy regular expression pattern: "
            "^[\\S]+.*[\\S]+$"
        )
    violation = check_policy(password, pool.settings.password_policy)
    if violation is not None:
        raise InvalidPassword(violation.message)
    return password


def new_user(
    pool: Pool, username: object, attributes: Mapping[str, str], *, now: float, status: UserStatus
) -> tuple[UserRecord, str]:
    """A user record (no password yet) and the name it was created under.

    In pools with UsernameAttributes the name must be an email or phone number, which becomes
    that attribute, and the internal username is a new UUID equal to `sub`.
    """
    if not isinstance(username, str) or not USERNAME.fullmatch(username):
        raise InvalidParameter("Username must be 1 to 128 characters without spaces")
    settings = pool.settings
    attributes = dict(attributes)
    sub = str(uuid.uuid4())
    internal = username
    if settings.username_attributes:
        if "email" in settings.username_attributes and EMAIL.fullmatch(username):
            kind = "email"
        elif "phone_number" in settings.username_attributes and PHONE.fullmatch(username):
            kind = "phone_number"
        else:
            raise InvalidParameter("Username should be either an email or a phone number.")
        if attributes.get(kind, username) != username:
            raise InvalidParameter(f"The {kind} attribute must equal the username")
        attributes[kind] = username
        internal = sub
    else:
        if "email" in settings.alias_attributes and EMAIL.fullmatch(username):
            raise InvalidParameter(
                "Username cannot be of email format, since user pool is configured for email alias."
            )
        if "phone_number" in settings.alias_attributes and PHONE.fullmatch(username):
            raise InvalidParameter(
                "Username cannot be of phone number format, since user pool is configured for "
                "phone number alias."
            )
    check_required(settings, attributes)
    user = UserRecord(
        pool_id=pool.id,
        username=internal,
        username_key=settings.fold(internal),
        sub=sub,
        status=status,
        enabled=True,
        created=now,
        updated=now,
        attributes=attributes,
        aliases=aliases_of(settings, internal, attributes),
    )
    return user, username


def duplicate_error(pool: Pool, what: str) -> Exception:
    if what.startswith("alias:"):
        kind = what.partition(":")[2]
        if kind in pool.settings.username_attributes:
            noun = "email" if kind == "email" else "phone number"
            return UsernameExists(f"An account with the given {noun} already exists.")
        return AliasExists(f"An account with the {kind} already exists.")
    return UsernameExists("User already exists")


def identifiers(user: UserRecord | None, typed: object) -> list[str]:
    """Every name a SECRET_HASH may have been computed with for this user."""
    names = [typed] if isinstance(typed, str) else []
    if user is not None:
        names += [user.username, user.sub]
        names += [
            v
            for k, v in user.attributes.items()
            if k in ("email", "phone_number", "preferred_username")
        ]
    return [str(n) for n in names]


def simulated(identifier: object) -> dict[str, str]:
    """CodeDeliveryDetails for a user that may not exist (PreventUserExistenceErrors)."""
    text = identifier if isinstance(identifier, str) else ""
    if PHONE.fullmatch(text):
        return Delivery("SMS", text, "phone_number").details()
    return {
        "Destination": mask("EMAIL", text if "@" in text else "x@x"),
        "DeliveryMedium": "EMAIL",
        "AttributeName": "email",
    }


def verified(attributes: Mapping[str, str], kind: str) -> bool:
    return attributes.get(VERIFIED_FLAG[kind]) == "true"


def recovery_delivery(user: UserRecord) -> Delivery | None:
    """Where a forgot-password code goes: a verified phone, else a verified email (the legacy
    recovery order, when no AccountRecoverySetting says otherwise)."""
    kinds = [k for k in ("phone_number", "email") if verified(user.attributes, k)]
    return delivery_for(user.attributes, kinds)


def _unverify(flag: str) -> Callable[[UserRecord], UserRecord]:
    return lambda user: replace(user, attributes={**user.attributes, flag: "false"})


@dataclass(frozen=True, slots=True)
class SignedUp:
    user: UserRecord
    delivery: Delivery | None


class UserFlows:
    def __init__(
        self,
        pools: PoolService,
        directory: UserDirectory,
        store: UserPoolStore,
        messenger: Messenger,
        status: TokenStatus,
        clock: Clock,
    ) -> None:
        self._pools = pools
        self._directory = directory
        self._store = store
        self._messenger = messenger
        self._status = status
        self._clock = clock

    async def _client(self, request: Mapping[str, Any]) -> tuple[Pool, Client]:
        client = await self._pools.client(request.get("ClientId"))
        pool = await self._pools.pool(client.record.pool_id)
        return pool, client

    async def sign_up(self, request: Mapping[str, Any]) -> SignedUp:
        pool, client = await self._client(request)
        if pool.settings.admin_create_only:
            raise NotAuthorized("SignUp is not permitted for this user pool")
        username = request.get("Username")
        check_secret_hash(
            client.secret, client.id, request.get("SecretHash"), identifiers(None, username)
        )
        attributes = attribute_map(request.get("UserAttributes"))
        check_values(pool.settings, attributes, allowed=client.settings.write_attributes)
        for flag in VERIFIED_FLAG.values():
            attributes.pop(flag, None)
        password = check_password(pool, request.get("Password"))
        user, _ = new_user(
            pool, username, attributes, now=self._clock.now(), status=UserStatus.UNCONFIRMED
        )
        material = await self._directory.new_password(pool, user, password)
        user = material.apply(user, UserStatus.UNCONFIRMED)
        try:
            await self._store.insert_user(user)
        except Duplicate as exc:
            raise duplicate_error(pool, exc.what) from None
        delivery = self._sign_up_delivery(pool, user)
        if delivery is not None:
            await self._messenger.send_code(pool, user, CodePurpose.SIGN_UP, delivery)
        return SignedUp(user, delivery)

    def _sign_up_delivery(self, pool: Pool, user: UserRecord) -> Delivery | None:
        kinds = [k for k in SIGN_UP_ORDER if k in pool.settings.auto_verified]
        return delivery_for(user.attributes, kinds)

    async def _known(
        self, pool: Pool, client: Client, request: Mapping[str, Any]
    ) -> UserRecord | None:
        username = request.get("Username")
        if not isinstance(username, str) or not username:
            raise InvalidParameter("Missing required parameter Username")
        user = await self._directory.find(pool, username)
        check_secret_hash(
            client.secret, client.id, request.get("SecretHash"), identifiers(user, username)
        )
        return user

    async def confirm_sign_up(self, request: Mapping[str, Any]) -> None:
        pool, client = await self._client(request)
        user = await self._known(pool, client, request)
        if user is None:
            if client.settings.prevent_user_existence_errors:
                raise CodeMismatch("Invalid verification code provided, please try again.")
            raise UserNotFound(USERNAME_CLIENT_NOT_FOUND)
        if user.status is not UserStatus.UNCONFIRMED:
            raise NotAuthorized(f"User cannot be confirmed. Current status is {user.status.value}")
        await self._messenger.check_code(
            pool, user, CodePurpose.SIGN_UP, request.get("ConfirmationCode")
        )
        await self.confirm(pool, user, force_alias=request.get("ForceAliasCreation") is True)

    async def confirm(
        self, pool: Pool, user: UserRecord, *, force_alias: bool = False
    ) -> UserRecord:
        """UNCONFIRMED → CONFIRMED, the delivered attribute verified (AdminConfirmSignUp too)."""
        delivery = self._sign_up_delivery(pool, user)

        def edit(current: UserRecord) -> UserRecord:
            attributes = dict(current.attributes)
            if delivery is not None:
                attributes[VERIFIED_FLAG[delivery.attribute]] = "true"
            return replace(current, status=UserStatus.CONFIRMED, attributes=attributes)

        if force_alias:
            await self._release_aliases(pool, user, edit(user))
        return await self._directory.change(pool, user, edit)

    async def _release_aliases(self, pool: Pool, user: UserRecord, wanted: UserRecord) -> None:
        """ForceAliasCreation: another user holding one of these aliases loses it (their
        attribute becomes unverified)."""
        for alias in aliases_of(pool.settings, wanted.username, wanted.attributes):
            holder = await self._store.find_by_alias(pool.id, alias)
            if (
                holder is None
                or holder.username == user.username
                or alias.kind not in VERIFIED_FLAG
            ):
                continue
            await self._directory.change(pool, holder, _unverify(VERIFIED_FLAG[alias.kind]))

    async def resend_confirmation_code(self, request: Mapping[str, Any]) -> dict[str, str]:
        pool, client = await self._client(request)
        user = await self._known(pool, client, request)
        if user is None:
            if client.settings.prevent_user_existence_errors:
                return simulated(request.get("Username"))
            raise UserNotFound(USERNAME_CLIENT_NOT_FOUND)
        if user.status is not UserStatus.UNCONFIRMED:
            raise InvalidParameter("User is already confirmed.")
        delivery = self._sign_up_delivery(pool, user)
        if delivery is None:
            raise InvalidParameter("Auto verification not turned on.")
        await self._messenger.send_code(pool, user, CodePurpose.SIGN_UP, delivery)
        return delivery.details()

    async def forgot_password(self, request: Mapping[str, Any]) -> dict[str, str]:
        pool, client = await self._client(request)
        user = await self._known(pool, client, request)
        hide = client.settings.prevent_user_existence_errors
        if user is None:
            if hide:
                return simulated(request.get("Username"))
            raise UserNotFound(USERNAME_CLIENT_NOT_FOUND)
        delivery = recovery_delivery(user)
        if not user.enabled or delivery is None:
            if hide:
                return simulated(request.get("Username"))
            if not user.enabled:
                raise NotAuthorized("User is disabled.")
            raise InvalidParameter(
                "Cannot reset password for the user as there is no registered/verified email "
                "or phone_number"
            )
        await self._messenger.send_code(pool, user, CodePurpose.FORGOT_PASSWORD, delivery)
        return delivery.details()

    async def confirm_forgot_password(self, request: Mapping[str, Any]) -> None:
        pool, client = await self._client(request)
        user = await self._known(pool, client, request)
        hide = client.settings.prevent_user_existence_errors
        if user is None or not user.enabled:
            if hide:
                raise CodeMismatch("Invalid verification code provided, please try again.")
            if user is None:
                raise UserNotFound(USERNAME_CLIENT_NOT_FOUND)
            raise NotAuthorized("User is disabled.")
        password = check_password(pool, request.get("Password"))
        await self._messenger.check_code(
            pool, user, CodePurpose.FORGOT_PASSWORD, request.get("ConfirmationCode")
        )
        material = await self._directory.new_password(pool, user, password)

        def edit(current: UserRecord) -> UserRecord:
            status = current.status
            if status in (UserStatus.RESET_REQUIRED, UserStatus.FORCE_CHANGE_PASSWORD):
                status = UserStatus.CONFIRMED
            changed = material.apply(current, status)
            return replace(changed, failed_attempts=0, locked_until=0.0)

        await self._directory.change(pool, user, edit)
