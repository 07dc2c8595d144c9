"""Software-token MFA enrolment: AssociateSoftwareToken, VerifySoftwareToken, and
Set/AdminSetUserMFAPreference.

Enrolment runs either for a signed-in user (AccessToken) or in the middle of a sign-in that
answered MFA_SETUP (Session): then each step hands back a new Session, and the one from a
successful VerifySoftwareToken is what RespondToAuthChallenge(MFA_SETUP) accepts. A code that
verified the seed cannot be used again to sign in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, TypeGuard

from authgate.clock import Clock
from authgate.identity import mfa
from authgate.identity.access import AccessTokens
from authgate.identity.challenge_session import ChallengeSessions, ChallengeState
from authgate.identity.directory import UserDirectory
from authgate.identity.errors import (
    EnableSoftwareTokenMfa,
    InvalidParameter,
    NotAuthorized,
    SoftwareTokenMfaNotFound,
)
from authgate.identity.model import UserRecord
from authgate.identity.pool_config import SOFTWARE_TOKEN_MFA
from authgate.identity.pools import Pool, PoolService
from authgate.identity.store import UserPoolStore
from authgate.identity.totp import TotpSeeds

MFA_SETUP = "MFA_SETUP"


@dataclass(frozen=True, slots=True)
class Enrolling:
    pool: Pool
    user: UserRecord
    state: ChallengeState | None
    """Set when enrolling during a sign-in (Session), None for a signed-in user."""


class MfaSetup:
    def __init__(
        self,
        pools: PoolService,
        directory: UserDirectory,
        store: UserPoolStore,
        access: AccessTokens,
        sessions: ChallengeSessions,
        seeds: TotpSeeds,
        clock: Clock,
    ) -> None:
        self._pools = pools
        self._directory = directory
        self._store = store
        self._access = access
        self._sessions = sessions
        self._seeds = seeds
        self._clock = clock

    async def _enrolling(self, request: Mapping[str, Any]) -> Enrolling:
        token, session = request.get("AccessToken"), request.get("Session")
        if (token is None) == (session is None):
            raise InvalidParameter("Provide either AccessToken or Session, not both")
        if token is not None:
            caller = await self._access.caller(token)
            return Enrolling(await self._pools.pool(caller.pool_id), caller.user, None)
        ticket = self._sessions.read(session, (MFA_SETUP,))
        client = await self._pools.client(ticket.state.client_id)
        state = await self._sessions.redeem(
            ticket, client_id=client.id, minutes=client.settings.auth_session_minutes
        )
        pool = await self._pools.pool(state.pool_id)
        user = await self._store.get_user(pool.id, pool.settings.fold(state.username))
        if user is None:
            raise NotAuthorized("Invalid session for the user.")
        return Enrolling(pool, user, state)

    def _next_session(self, enrolling: Enrolling, *, verified: bool) -> str | None:
        if enrolling.state is None:
            return None
        return self._sessions.issue(replace(enrolling.state, extra={"verified": verified}))

    async def associate(self, request: Mapping[str, Any]) -> tuple[str, str | None]:
        """A new seed (SecretCode), replacing the last; unverified until verified."""
        enrolling = await self._enrolling(request)
        secret = await self.new_seed(enrolling.pool, enrolling.user)
        return secret, self._next_session(enrolling, verified=False)

    async def new_seed(self, pool: Pool, user: UserRecord) -> str:
        """`associate` for a user already known (the hosted pages' set-up step too)."""
        if not pool.settings.totp_usable:
            raise SoftwareTokenMfaNotFound(
                "Software Token MFA has not been enabled by the userPool"
            )
        secret = mfa.generate_secret()
        sealed = self._seeds.seal(user, secret)

        def edit(user: UserRecord) -> UserRecord:
            return replace(
                user,
                sealed_totp=sealed,
                totp_verified=False,
                totp_last_step=None,
                mfa_enabled=tuple(f for f in user.mfa_enabled if f != SOFTWARE_TOKEN_MFA),
                preferred_mfa=None
                if user.preferred_mfa == SOFTWARE_TOKEN_MFA
                else user.preferred_mfa,
            )

        await self._directory.change(pool, user, edit)
        return secret

    async def verify(self, request: Mapping[str, Any]) -> tuple[str, str | None]:
        code = request.get("UserCode")
        if not _six_digits(code):
            raise InvalidParameter("UserCode must be 6 digits")
        enrolling = await self._enrolling(request)
        await self.confirm_seed(enrolling.pool, enrolling.user, code)
        return "SUCCESS", self._next_session(enrolling, verified=True)

    def pending_seed(self, user: UserRecord) -> str | None:
        """The seed associated but not verified yet, if there is one."""
        return None if user.totp_verified else self._seeds.open(user)

    async def confirm_seed(self, pool: Pool, user: UserRecord, code: str) -> UserRecord:
        """`verify` for a user already known: the seed is verified by a code from it (a code
        that cannot then sign in again)."""
        if not _six_digits(code):
            raise InvalidParameter("UserCode must be 6 digits")
        secret = self._seeds.open(user)
        if secret is None:
            raise InvalidParameter("The user has no software token to verify; associate one first")
        step = mfa.verify(secret, code, now=self._clock.now(), last_used_step=user.totp_last_step)
        if step is None:
            raise EnableSoftwareTokenMfa("Code mismatch")

        def edit(current: UserRecord) -> UserRecord:
            return replace(current, totp_verified=True, totp_last_step=step)

        return await self._directory.change(pool, user, edit)

    async def set_preference(self, request: Mapping[str, Any]) -> None:
        caller = await self._access.caller(request.get("AccessToken"))
        await self._apply(await self._pools.pool(caller.pool_id), caller.user, request)

    async def admin_set_preference(self, pool_id: str, request: Mapping[str, Any]) -> None:
        pool = await self._pools.pool(pool_id)
        user = await self._directory.require(pool, request.get("Username"))
        await self._apply(pool, user, request)

    async def _apply(self, pool: Pool, user: UserRecord, request: Mapping[str, Any]) -> None:
        for unsupported in ("SMSMfaSettings", "EmailMfaSettings", "WebAuthnMfaSettings"):
            settings = request.get(unsupported) or {}
            if isinstance(settings, dict) and settings.get("Enabled"):
                raise InvalidParameter(f"{unsupported}: authgate offers software-token MFA only")
        totp = request.get("SoftwareTokenMfaSettings")
        if totp is None:
            return
        if not isinstance(totp, dict):
            raise InvalidParameter("SoftwareTokenMfaSettings must be an object")
        enabled, preferred = totp.get("Enabled") is True, totp.get("PreferredMfa") is True
        if enabled and not user.totp_verified:
            raise InvalidParameter("User has not verified software token mfa")

        def edit(current: UserRecord) -> UserRecord:
            factors = [f for f in current.mfa_enabled if f != SOFTWARE_TOKEN_MFA]
            choice = None if current.preferred_mfa == SOFTWARE_TOKEN_MFA else current.preferred_mfa
            if enabled:
                factors.append(SOFTWARE_TOKEN_MFA)
                if preferred:
                    choice = SOFTWARE_TOKEN_MFA
            return replace(current, mfa_enabled=tuple(factors), preferred_mfa=choice)

        await self._directory.change(pool, user, edit)


def _six_digits(code: object) -> TypeGuard[str]:
    return isinstance(code, str) and len(code) == mfa.DIGITS and code.isdigit()
