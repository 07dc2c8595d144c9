"""STS: temporary credentials from AssumeRole and GetSessionToken.

The secret is sealed by the `SecretBox` (bound to its key id) and the session token is kept
only as its SHA-256 digest, so a copy of the database yields no usable credential.
AssumeRole is decided here in full (trust policy, the caller's identity policies and session
policy; see `authgate.iam.trust`), so the management API should not pre-authorize
`sts:AssumeRole` on identity policies alone: a role whose trust policy names the caller needs
no identity permission. GetSessionToken needs no permission at all, as on AWS.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from authgate.clock import Clock
from authgate.iam import validation as check
from authgate.iam.errors import (
    AccessDenied,
    ConcurrentModification,
    InvalidClientTokenId,
    MalformedPolicyDocument,
    ValidationError,
)
from authgate.iam.model import Caller, TemporaryCredentials
from authgate.iam.service import (
    ASSUMED_ROLE_TYPE,
    USER_TYPE,
    IamService,
    assumed_role_caller,
    split_session_policy,
    temporary_context,
)
from authgate.iam.trust import ASSUME_ROLE, may_assume, parse_trust_policy
from authgate.policy import (
    ContextKeys,
    PolicyError,
    PolicyKind,
    Principal,
    RequestContext,
    parse_policy,
)
from authgate.security import ids
from authgate.security.compare import token_digest
from authgate.security.secrets import SecretBox
from authgate.storage.base import IamStore, StoreConflict, TemporaryCredentialRecord

MIN_DURATION = 900
MAX_ROLE_DURATION = 43_200
ROLE_CHAINING_MAX_DURATION = 3600
MAX_SESSION_TOKEN_DURATION = 129_600
DEFAULT_SESSION_TOKEN_DURATION = 43_200

MSG_EXCEEDS_ROLE_MAX = (
    "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
)
MSG_EXCEEDS_CHAINING = (
    "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by "
    "role chaining."
)
MSG_SESSION_CREDENTIALS = "Cannot call GetSessionToken with session credentials"


class StsService:
    def __init__(
        self,
        iam: IamService,
        store: IamStore,
        box: SecretBox,
        *,
        account_id: str,
        clock: Clock,
    ) -> None:
        self._iam = iam
        self._store = store
        self._box = box
        self._account = account_id
        self._clock = clock

    async def assume_role(
        self,
        caller: Caller,
        role_arn: str,
        session_name: str,
        duration_seconds: int = 3600,
        session_policy: str | None = None,
        *,
        identity_policies: Sequence[tuple[str, str]] | None = None,
    ) -> tuple[TemporaryCredentials, Caller]:
        """Credentials for a session of `role_arn`, and who they act as.

        `identity_policies`: the caller's policies as `resolve()` returned them (a session
        policy among them is honoured); if None they are looked up from `caller`.
        """
        check.length(role_arn, "roleArn", 20, 2048)
        check.session_name(session_name)
        check.number(duration_seconds, "durationSeconds", MIN_DURATION, MAX_ROLE_DURATION)
        if session_policy is not None:
            _check_session_policy(session_policy)
        denied = AccessDenied.not_authorized(caller.arn, ASSUME_ROLE, role_arn)
        role = await self._iam.find_role(role_arn)
        if role is None:
            raise denied
        if identity_policies is None:
            identity_policies = await self._iam.identity_policies(caller)
        own, own_session = split_session_policy(identity_policies)
        try:
            principal = Principal.from_arn(caller.arn)
            trust = parse_trust_policy(role.trust_policy, role.arn)
            identity = [parse_policy(doc, name=name) for name, doc in own]
            limit = None if own_session is None else parse_policy(own_session, name="session")
        except (ValueError, PolicyError):
            raise denied from None
        request = RequestContext(
            ASSUME_ROLE, role.arn, principal, self._context_keys(caller, session_name)
        )
        if not may_assume(trust, identity, limit, request):
            raise denied
        if duration_seconds > role.max_session_duration:
            raise ValidationError(MSG_EXCEEDS_ROLE_MAX)
        if caller.kind == ASSUMED_ROLE_TYPE and duration_seconds > ROLE_CHAINING_MAX_DURATION:
            raise ValidationError(MSG_EXCEEDS_CHAINING)
        credentials = await self._issue(
            duration_seconds,
            session_name,
            role_id=role.id,
            session_policy=session_policy,
        )
        return credentials, assumed_role_caller(role, session_name, self._account)

    async def get_session_token(
        self,
        caller: Caller,
        duration_seconds: int = DEFAULT_SESSION_TOKEN_DURATION,
        *,
        temporary: bool = False,
    ) -> TemporaryCredentials:
        """Temporary credentials for an IAM user. `temporary`: the caller signed with
        temporary credentials (refused, as AWS refuses)."""
        if temporary or caller.kind != USER_TYPE:
            raise AccessDenied(MSG_SESSION_CREDENTIALS)
        check.number(duration_seconds, "durationSeconds", MIN_DURATION, MAX_SESSION_TOKEN_DURATION)
        user = await self._store.get_user_by_id(caller.user_id)
        if user is None:
            raise InvalidClientTokenId()
        return await self._issue(duration_seconds, user.name, user_id=user.id)

    async def _issue(
        self,
        duration: int,
        session_name: str,
        *,
        role_id: str | None = None,
        user_id: str | None = None,
        session_policy: str | None = None,
    ) -> TemporaryCredentials:
        key_id = ids.access_key_id(temporary=True)
        secret = ids.secret_access_key()
        token = ids.session_token()
        now = self._clock.now()
        record = TemporaryCredentialRecord(
            access_key_id=key_id,
            sealed_secret=self._box.seal(secret.encode("ascii"), context=temporary_context(key_id)),
            token_sha256=token_digest(token),
            created=now,
            expiration=now + duration,
            session_name=session_name,
            user_id=user_id,
            role_id=role_id,
            session_policy=session_policy,
        )
        try:
            await self._store.insert_temporary_credential(record)
        except StoreConflict:
            raise ConcurrentModification() from None
        self._iam.bump_generation()
        return TemporaryCredentials(key_id, secret, token, record.expiration)

    def _context_keys(self, caller: Caller, session_name: str) -> ContextKeys:
        now = self._clock.now()
        return ContextKeys(
            {
                "aws:userid": caller.user_id,
                "aws:CurrentTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)),
                "aws:EpochTime": int(now),
                "sts:RoleSessionName": session_name,
            }
        )


def _check_session_policy(document: str) -> None:
    try:
        parse_policy(document, kind=PolicyKind.IDENTITY, name="session")
    except PolicyError as exc:
        raise MalformedPolicyDocument(str(exc)) from None
