"""Sign-in lockout as Cognito applies it (Developer Guide, "User pool authentication flow"):
after 5 failed sign-ins a user is locked out for 1 second, and each further failure doubles the
time, up to about 15 minutes; attempts during a lockout fail without extending it, and the
count starts over after 15 minutes without a failure. Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Final

from authgate.identity.model import UserRecord

FREE_FAILURES: Final = 4
"""Failures that lock nothing: the fifth locks for 1 s."""
MAX_LOCK_SECONDS: Final = 900.0
FORGET_AFTER: Final = 900.0


def locked(user: UserRecord, now: float) -> bool:
    return now < user.locked_until


def after_failure(user: UserRecord, now: float) -> UserRecord:
    count = user.failed_attempts
    if now - user.last_failure > FORGET_AFTER:
        count = 0
    count += 1
    locked_until = user.locked_until
    if count > FREE_FAILURES:
        locked_until = now + min(2.0 ** (count - FREE_FAILURES - 1), MAX_LOCK_SECONDS)
    return replace(user, failed_attempts=count, last_failure=now, locked_until=locked_until)


def after_success(user: UserRecord) -> UserRecord:
    if user.failed_attempts == 0 and user.locked_until == 0.0:
        return user
    return replace(user, failed_attempts=0, locked_until=0.0)
