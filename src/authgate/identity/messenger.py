"""Sending codes and invitations to users, and checking the codes they bring back.

Codes expire (24 h for sign-up and attribute verification, 1 h for forgot-password), are good
once, and are burned after `MAX_CODE_ATTEMPTS` wrong answers. Messages use the pool's templates
(`{####}` is the code, `{username}` the username).
"""

from __future__ import annotations

import hmac
from typing import Final

from authgate.clock import Clock
from authgate.identity.attributes import Delivery
from authgate.identity.codes import MAX_CODE_ATTEMPTS, VALIDITY, code_digest, new_code
from authgate.identity.errors import (
    EXPIRED_CODE,
    INVALID_CODE,
    CodeMismatch,
    ExpiredCode,
    TooManyFailedAttempts,
)
from authgate.identity.model import CodePurpose, CodeRecord, UserRecord
from authgate.identity.outbox import Courier, Message
from authgate.identity.pools import Pool
from authgate.identity.store import UserPoolStore
from authgate.security.secrets import SecretBox

INVITATION: Final = "invitation"
RESET_SUBJECT: Final = "Your password reset code"
RESET_MESSAGE: Final = "Your password reset code is {####}. "


class Messenger:
    def __init__(
        self, store: UserPoolStore, box: SecretBox, courier: Courier, clock: Clock
    ) -> None:
        self._store = store
        self._box = box
        self._courier = courier
        self._clock = clock

    async def send_code(
        self,
        pool: Pool,
        user: UserRecord,
        purpose: CodePurpose,
        delivery: Delivery,
        binding: str = "",
    ) -> None:
        """A new code for `purpose` (replacing any earlier one), sent through `delivery`;
        `binding` as `code_digest` takes it."""
        code = new_code()
        now = self._clock.now()
        digest = code_digest(self._box, pool.id, user.username, purpose, code, binding)
        record = CodeRecord(pool.id, user.username, purpose, digest, now + VALIDITY[purpose])
        await self._store.put_code(record)
        if purpose is CodePurpose.FORGOT_PASSWORD:
            subject, text = RESET_SUBJECT, RESET_MESSAGE
        else:  # sign-up and attribute codes use the pool's verification message
            subject, text = pool.settings.email_subject, pool.settings.email_message
        await self._deliver(pool, user, delivery, purpose.value, subject, text, code)

    async def send_invitation(
        self, pool: Pool, user: UserRecord, delivery: Delivery, username: str, password: str
    ) -> None:
        settings = pool.settings
        text = settings.invite_message.replace("{username}", username)
        await self._deliver(
            pool, user, delivery, INVITATION, settings.invite_subject, text, password
        )

    async def _deliver(
        self,
        pool: Pool,
        user: UserRecord,
        delivery: Delivery,
        purpose: str,
        subject: str,
        text: str,
        code: str,
    ) -> None:
        message = Message(
            time=self._clock.now(),
            pool_id=pool.id,
            username=user.username,
            medium=delivery.medium,
            destination=delivery.destination,
            purpose=purpose,
            subject=subject,
            message=text.replace("{####}", code),
            code=code,
        )
        await self._courier.deliver(message)

    async def check_code(
        self,
        pool: Pool,
        user: UserRecord,
        purpose: CodePurpose,
        code: object,
        binding: str = "",
    ) -> None:
        """Accept the code (and spend it) or raise ExpiredCode, CodeMismatch or
        TooManyFailedAttempts."""
        record = await self._store.get_code(pool.id, user.username, purpose)
        if record is None or record.expires_at <= self._clock.now():
            raise ExpiredCode(EXPIRED_CODE)
        if record.attempts >= MAX_CODE_ATTEMPTS:
            await self._store.delete_code(pool.id, user.username, purpose)
            raise TooManyFailedAttempts("Too many failed attempts.")
        given = code if isinstance(code, str) else ""
        digest = code_digest(self._box, pool.id, user.username, purpose, given, binding)
        if not hmac.compare_digest(digest, record.digest):
            await self._store.count_code_attempt(pool.id, user.username, purpose)
            raise CodeMismatch(INVALID_CODE)
        if not await self._store.delete_code(pool.id, user.username, purpose):
            raise ExpiredCode(EXPIRED_CODE)  # a concurrent request spent it
