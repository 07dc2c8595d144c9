"""InitiateAuth and RespondToAuthChallenge (and their Admin forms): password, SRP and refresh
flows, then NEW_PASSWORD_REQUIRED and software-token MFA, then tokens.

The checks run in the order of userpool-auth-flows.md §3.5: client and flow, SECRET_HASH, the
user (unknown users as PreventUserExistenceErrors says), lockout, disabled, UNCONFIRMED (before
the password, as AWS does), RESET_REQUIRED, the password (a failure counts towards lockout),
then a temporary password's challenge, MFA, and finally a new session with its tokens.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Final

from authgate.clock import Clock
from authgate.identity import lockout, mfa
from authgate.identity.attributes import check_required, check_values
from authgate.identity.challenge_session import ChallengeSessions, ChallengeState
from authgate.identity.directory import UserDirectory
from authgate.identity.errors import (
    INCORRECT_CREDENTIALS,
    USER_DOES_NOT_EXIST,
    CodeMismatch,
    CognitoError,
    InvalidParameter,
    NotAuthorized,
    PasswordResetRequired,
    UserNotConfirmed,
    UserNotFound,
)
from authgate.identity.issuing import TokenIssuer, Tokens
from authgate.identity.model import UserRecord, UserStatus
from authgate.identity.pool_config import SOFTWARE_TOKEN_MFA
from authgate.identity.pools import Client, Pool, PoolService
from authgate.identity.secret_hash import check_secret_hash
from authgate.identity.srp_flow import PASSWORD_VERIFIER, SrpFlow
from authgate.identity.store import UserPoolStore
from authgate.identity.tokens import refresh_token_digest
from authgate.identity.totp import TotpSeeds
from authgate.identity.users import check_password, identifiers

NEW_PASSWORD_REQUIRED: Final = "NEW_PASSWORD_REQUIRED"  # noqa: S105 - a challenge name
MFA_SETUP: Final = "MFA_SETUP"
PUBLIC_FLOWS: Final = frozenset(
    {
        "USER_PASSWORD_AUTH",
        "USER_SRP_AUTH",
        "REFRESH_TOKEN_AUTH",
        "REFRESH_TOKEN",
        "CUSTOM_AUTH",
        "USER_AUTH",
    }
)
ADMIN_FLOWS: Final = frozenset(
    {
        "ADMIN_USER_PASSWORD_AUTH",
        "ADMIN_NO_SRP_AUTH",
        "USER_SRP_AUTH",
        "REFRESH_TOKEN_AUTH",
        "REFRESH_TOKEN",
        "CUSTOM_AUTH",
        "USER_AUTH",
    }
)
PASSWORD_FLOWS: Final = frozenset(
    {"USER_PASSWORD_AUTH", "ADMIN_USER_PASSWORD_AUTH", "ADMIN_NO_SRP_AUTH"}
)
INVALID_REFRESH: Final = "Invalid Refresh Token."


@dataclass(frozen=True, slots=True)
class Challenge:
    name: str
    parameters: Mapping[str, str]
    session: str | None = None


AuthResult = Tokens | Challenge


def _parameters(request: Mapping[str, Any], key: str) -> dict[str, str]:
    value = request.get(key) or {}
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise InvalidParameter(f"{key} must map names to strings")
    return value


def _required(parameters: Mapping[str, str], name: str) -> str:
    value = parameters.get(name)
    if not value:
        raise InvalidParameter(f"Missing required parameter {name}")
    return value


class SignInService:
    def __init__(
        self,
        pools: PoolService,
        directory: UserDirectory,
        store: UserPoolStore,
        issuer: TokenIssuer,
        sessions: ChallengeSessions,
        srp_flow: SrpFlow,
        seeds: TotpSeeds,
        clock: Clock,
    ) -> None:
        self._pools = pools
        self._directory = directory
        self._store = store
        self._issuer = issuer
        self._sessions = sessions
        self._srp = srp_flow
        self._seeds = seeds
        self._clock = clock

    async def _client(
        self, request: Mapping[str, Any], admin_pool: str | None
    ) -> tuple[Pool, Client]:
        if admin_pool is not None:
            await self._pools.pool(admin_pool)
        client = await self._pools.client(request.get("ClientId"), admin_pool)
        return await self._pools.pool(client.record.pool_id), client

    # -- InitiateAuth ----------------------------------------------------------------------------
    async def initiate(
        self, request: Mapping[str, Any], *, admin_pool: str | None = None
    ) -> AuthResult:
        flow = request.get("AuthFlow")
        pool, client = await self._client(request, admin_pool)
        known = ADMIN_FLOWS if admin_pool is not None else PUBLIC_FLOWS
        if not isinstance(flow, str) or flow not in known:
            raise InvalidParameter(f"Initiate Auth method not supported: {flow}")
        if not client.settings.allows(flow):
            raise InvalidParameter(f"{flow} flow not enabled for this client")
        if flow in ("CUSTOM_AUTH", "USER_AUTH"):
            raise InvalidParameter(f"{flow}: authgate runs no custom or choice-based auth flows")
        parameters = _parameters(request, "AuthParameters")
        if flow in PASSWORD_FLOWS:
            return await self._password(pool, client, parameters)
        if flow == "USER_SRP_AUTH":
            return await self._srp_start(pool, client, parameters)
        return await self._refresh(pool, client, parameters)

    def _unknown(self, client: Client) -> CognitoError:
        if client.settings.prevent_user_existence_errors:
            return NotAuthorized(INCORRECT_CREDENTIALS)
        return UserNotFound(USER_DOES_NOT_EXIST)

    async def _password(
        self, pool: Pool, client: Client, parameters: Mapping[str, str]
    ) -> AuthResult:
        username = _required(parameters, "USERNAME")
        password = _required(parameters, "PASSWORD")
        user = await self._directory.find(pool, username)
        check_secret_hash(
            client.secret, client.id, parameters.get("SECRET_HASH"), identifiers(user, username)
        )
        user = await self._verify_password(pool, client, user, password)
        return await self._after_password(pool, client, user)

    async def hosted_password(
        self, pool: Pool, client: Client, username: str, password: str
    ) -> UserRecord:
        """The password checks of the hosted sign-in page, which is the pool's own page: no
        ExplicitAuthFlows or SECRET_HASH apply, and no tokens are issued here (the OAuth
        endpoints issue them). Then `next_step` says what is left to do."""
        user = await self._directory.find(pool, username)
        return await self._verify_password(pool, client, user, password)

    async def _verify_password(
        self, pool: Pool, client: Client, user: UserRecord | None, password: str
    ) -> UserRecord:
        if user is None:
            await self._directory.password_matches(None, password)
            raise self._unknown(client)
        self._before_password(client, user)
        if not await self._directory.password_matches(user, password):
            await self._failed(pool, user)
            raise NotAuthorized(INCORRECT_CREDENTIALS)
        return await self._succeeded(pool, user)

    def _before_password(self, client: Client, user: UserRecord) -> None:
        if lockout.locked(user, self._clock.now()):
            raise NotAuthorized("Password attempts exceeded")
        self._check_state(client, user)

    def _check_state(self, client: Client, user: UserRecord) -> None:
        if not user.enabled:
            raise NotAuthorized("User is disabled.")
        if user.status is UserStatus.UNCONFIRMED:
            raise UserNotConfirmed("User is not confirmed.")
        if user.status is UserStatus.RESET_REQUIRED:
            if client.settings.prevent_user_existence_errors:
                raise NotAuthorized(INCORRECT_CREDENTIALS)
            raise PasswordResetRequired("Password reset required for the user")

    async def _failed(self, pool: Pool, user: UserRecord) -> None:
        now = self._clock.now()
        await self._directory.change(pool, user, lambda u: lockout.after_failure(u, now))

    async def _succeeded(self, pool: Pool, user: UserRecord) -> UserRecord:
        if user.failed_attempts == 0 and user.locked_until == 0.0:
            return user
        return await self._directory.change(pool, user, lockout.after_success)

    async def _srp_start(
        self, pool: Pool, client: Client, parameters: Mapping[str, str]
    ) -> AuthResult:
        username = _required(parameters, "USERNAME")
        srp_a = _required(parameters, "SRP_A")
        user = await self._directory.find(pool, username)
        check_secret_hash(
            client.secret, client.id, parameters.get("SECRET_HASH"), identifiers(user, username)
        )
        verifier = None if user is None else self._directory.verifier(user)
        if user is None or verifier is None:
            if client.settings.prevent_user_existence_errors:
                return Challenge(PASSWORD_VERIFIER, self._srp.decoy(pool, client, username, srp_a))
            raise UserNotFound(USER_DOES_NOT_EXIST)
        return Challenge(
            PASSWORD_VERIFIER, self._srp.start(pool, client, user.username, srp_a, verifier)
        )

    async def _refresh(
        self, pool: Pool, client: Client, parameters: Mapping[str, str]
    ) -> AuthResult:
        digest = refresh_token_digest(_required(parameters, "REFRESH_TOKEN"))
        session = None if digest is None else await self._store.session_by_refresh(digest)
        if session is None or session.client_id != client.id or session.pool_id != pool.id:
            raise NotAuthorized(INVALID_REFRESH)
        user = await self._store.get_user(pool.id, pool.settings.fold(session.username))
        check_secret_hash(
            client.secret,
            client.id,
            parameters.get("SECRET_HASH"),
            identifiers(user, parameters.get("USERNAME")),
        )
        if session.revoked_at is not None or user is None:
            raise NotAuthorized("Refresh Token has been revoked")
        if self._clock.now() >= session.expires_at:
            raise NotAuthorized("Refresh Token has expired")
        if not user.enabled:
            raise NotAuthorized("User is disabled.")
        return await self._issuer.refresh(pool, client, user, session)

    # -- after the password ----------------------------------------------------------------------
    async def _after_password(
        self, pool: Pool, client: Client, user: UserRecord, auth_time: int | None = None
    ) -> AuthResult:
        auth_time = int(self._clock.now()) if auth_time is None else auth_time
        needed = self.next_step(pool, user)
        if needed == NEW_PASSWORD_REQUIRED:
            return self._challenge(
                pool,
                client,
                user,
                NEW_PASSWORD_REQUIRED,
                auth_time,
                {
                    "USER_ID_FOR_SRP": user.username,
                    "requiredAttributes": json.dumps(
                        [
                            f"userAttributes.{n}"
                            for n in sorted(pool.settings.required)
                            if not user.attributes.get(n)
                        ]
                    ),
                    "userAttributes": json.dumps(dict(user.attributes)),
                },
            )
        if needed == SOFTWARE_TOKEN_MFA:
            return self._challenge(
                pool,
                client,
                user,
                SOFTWARE_TOKEN_MFA,
                auth_time,
                {"USER_ID_FOR_SRP": user.username},
            )
        if needed == MFA_SETUP:
            return self._challenge(
                pool,
                client,
                user,
                MFA_SETUP,
                auth_time,
                {
                    "MFAS_CAN_SETUP": json.dumps([SOFTWARE_TOKEN_MFA]),
                    "USER_ID_FOR_SRP": user.username,
                },
            )
        return await self._issuer.sign_in(pool, client, user, auth_time)

    def next_step(self, pool: Pool, user: UserRecord) -> str | None:
        """What a user whose password checked out must still do: NEW_PASSWORD_REQUIRED,
        SOFTWARE_TOKEN_MFA or MFA_SETUP; None when nothing is left."""
        if user.status is UserStatus.FORCE_CHANGE_PASSWORD:
            days = pool.settings.password_policy.temporary_password_validity_days
            if self._clock.now() > user.password_set_at + days * 86400:
                raise NotAuthorized(
                    "Temporary password has expired and must be reset by an administrator."
                )
            return NEW_PASSWORD_REQUIRED
        return self._mfa_needed(pool, user)

    def _mfa_needed(self, pool: Pool, user: UserRecord) -> str | None:
        settings = pool.settings
        if not settings.totp_usable:
            return None
        has_totp = user.totp_verified and SOFTWARE_TOKEN_MFA in user.mfa_enabled
        if has_totp or (settings.mfa == "ON" and user.totp_verified):
            return SOFTWARE_TOKEN_MFA
        return MFA_SETUP if settings.mfa == "ON" else None

    def _challenge(
        self,
        pool: Pool,
        client: Client,
        user: UserRecord,
        name: str,
        auth_time: int,
        parameters: Mapping[str, str],
    ) -> Challenge:
        session = self._sessions.issue(
            ChallengeState(pool.id, client.id, user.username, name, auth_time)
        )
        return Challenge(name, parameters, session)

    # -- RespondToAuthChallenge ------------------------------------------------------------------
    async def respond(
        self, request: Mapping[str, Any], *, admin_pool: str | None = None
    ) -> AuthResult:
        name = request.get("ChallengeName")
        pool, client = await self._client(request, admin_pool)
        responses = _parameters(request, "ChallengeResponses")
        if name == PASSWORD_VERIFIER:
            return await self._password_verifier(pool, client, responses)
        if name not in (NEW_PASSWORD_REQUIRED, SOFTWARE_TOKEN_MFA, MFA_SETUP):
            raise InvalidParameter(f"Unsupported challenge: {name}")
        state = await self._sessions.open(
            request.get("Session"),
            client_id=client.id,
            challenges=(str(name),),
            minutes=client.settings.auth_session_minutes,
        )
        user = await self._store.get_user(pool.id, pool.settings.fold(state.username))
        if user is None or state.pool_id != pool.id:
            raise NotAuthorized(INCORRECT_CREDENTIALS)
        typed = responses.get("USERNAME")
        check_secret_hash(
            client.secret, client.id, responses.get("SECRET_HASH"), identifiers(user, typed)
        )
        if typed is not None and typed not in identifiers(user, None):
            found = await self._directory.find(pool, typed)
            if found is None or found.username != user.username:
                raise NotAuthorized(INCORRECT_CREDENTIALS)
        self._check_state(client, user)
        if name == NEW_PASSWORD_REQUIRED:
            return await self._new_password(pool, client, user, state, responses)
        if name == SOFTWARE_TOKEN_MFA:
            return await self._totp(pool, client, user, state, responses)
        if not state.extra.get("verified"):
            raise NotAuthorized("Invalid session for the user.")
        user = await self.finish_mfa_setup(pool, user)
        return await self._issuer.sign_in(pool, client, user, state.auth_time)

    async def finish_mfa_setup(self, pool: Pool, user: UserRecord) -> UserRecord:
        """MFA_SETUP answered: a verified software token becomes the user's MFA (the hosted
        pages' set-up step too)."""
        if not user.totp_verified:
            raise NotAuthorized("Invalid session for the user.")
        return await self._directory.change(pool, user, _enable_totp)

    async def _password_verifier(
        self, pool: Pool, client: Client, responses: Mapping[str, str]
    ) -> AuthResult:
        proof = self._srp.open(pool, client, dict(responses))
        user = await self._store.get_user(pool.id, pool.settings.fold(proof.user_id))
        typed = responses.get("USERNAME")
        check_secret_hash(
            client.secret, client.id, responses.get("SECRET_HASH"), identifiers(user, typed)
        )
        if user is None:
            raise NotAuthorized(INCORRECT_CREDENTIALS)
        if typed and typed not in identifiers(user, None):
            found = await self._directory.find(pool, typed)
            if found is None or found.username != user.username:
                raise NotAuthorized(INCORRECT_CREDENTIALS)
        await self._srp.spend(proof)
        if lockout.locked(user, self._clock.now()):
            raise NotAuthorized("Password attempts exceeded")
        verifier = self._directory.verifier(user)
        if verifier is None or not await self._srp.verify(pool, proof, user, verifier):
            await self._failed(pool, user)
            raise NotAuthorized(INCORRECT_CREDENTIALS)
        self._check_state(client, user)
        return await self._after_password(pool, client, await self._succeeded(pool, user))

    async def _new_password(
        self,
        pool: Pool,
        client: Client,
        user: UserRecord,
        state: ChallengeState,
        responses: Mapping[str, str],
    ) -> AuthResult:
        user = await self.set_new_password(pool, client, user, responses)
        return await self._after_password(pool, client, user, state.auth_time)

    async def set_new_password(
        self, pool: Pool, client: Client, user: UserRecord, responses: Mapping[str, str]
    ) -> UserRecord:
        """NEW_PASSWORD_REQUIRED answered (`NEW_PASSWORD`, `userAttributes.*`): the user is
        CONFIRMED with the new password (the hosted pages' new-password step too)."""
        if user.status is not UserStatus.FORCE_CHANGE_PASSWORD:
            raise NotAuthorized("Invalid session for the user.")
        password = check_password(pool, responses.get("NEW_PASSWORD"), "NEW_PASSWORD")
        prefix = "userAttributes."
        changes = {k[len(prefix) :]: v for k, v in responses.items() if k.startswith(prefix)}
        check_values(
            pool.settings,
            changes,
            current=user.attributes,
            allowed=client.settings.write_attributes,
        )
        check_required(pool.settings, {**user.attributes, **changes})
        material = await self._directory.new_password(pool, user, password)

        def edit(current: UserRecord) -> UserRecord:
            changed = material.apply(current, UserStatus.CONFIRMED)
            return replace(changed, attributes={**current.attributes, **changes})

        return await self._directory.change(pool, user, edit)

    async def _totp(
        self,
        pool: Pool,
        client: Client,
        user: UserRecord,
        state: ChallengeState,
        responses: Mapping[str, str],
    ) -> AuthResult:
        user = await self.check_totp(pool, user, responses.get("SOFTWARE_TOKEN_MFA_CODE", ""))
        return await self._issuer.sign_in(pool, client, user, state.auth_time)

    async def check_totp(self, pool: Pool, user: UserRecord, code: str) -> UserRecord:
        """A software-token MFA code, good once (a failure counts towards lockout)."""
        secret = self._seeds.open(user)
        now = self._clock.now()
        step = (
            None
            if secret is None
            else mfa.verify(secret, code, now=now, last_used_step=user.totp_last_step)
        )
        if step is None:
            await self._failed(pool, user)
            raise CodeMismatch("Invalid code received for user")

        def use(current: UserRecord) -> UserRecord:
            if current.totp_last_step is not None and current.totp_last_step >= step:
                raise CodeMismatch("Invalid code received for user")  # a concurrent reuse
            return lockout.after_success(replace(current, totp_last_step=step))

        return await self._directory.change(pool, user, use)


def _enable_totp(user: UserRecord) -> UserRecord:
    enabled = tuple(dict.fromkeys((*user.mfa_enabled, SOFTWARE_TOKEN_MFA)))
    return replace(
        user, mfa_enabled=enabled, preferred_mfa=user.preferred_mfa or SOFTWARE_TOKEN_MFA
    )
