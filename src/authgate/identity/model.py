"""The records of a user pool, as the services and stores exchange them.

Pool and app-client settings are kept as the JSON objects the cognito-idp API speaks
(`CreateUserPool` / `CreateUserPoolClient` members), so Describe* echoes what was set; the
typed views the flows need are read from them by `pool_config`. Secrets never appear here in
the clear: client secrets, SRP verifiers, TOTP seeds and signing keys are sealed bytes, the
password an argon2id hash, codes and refresh tokens keyed digests.

Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

JsonObject = Mapping[str, Any]


class UserStatus(StrEnum):
    UNCONFIRMED = "UNCONFIRMED"
    CONFIRMED = "CONFIRMED"
    RESET_REQUIRED = "RESET_REQUIRED"
    FORCE_CHANGE_PASSWORD = "FORCE_CHANGE_PASSWORD"  # noqa: S105 - a status
    EXTERNAL_PROVIDER = "EXTERNAL_PROVIDER"


class CodePurpose(StrEnum):
    """What a one-time code delivered to the user confirms."""

    SIGN_UP = "sign_up"
    FORGOT_PASSWORD = "forgot_password"  # noqa: S105 - a purpose, not a password
    VERIFY_EMAIL = "verify_email"
    VERIFY_PHONE_NUMBER = "verify_phone_number"


@dataclass(frozen=True, slots=True)
class PoolRecord:
    id: str
    name: str
    created: float
    updated: float
    config: JsonObject
    """The pool's settings as CreateUserPool/UpdateUserPool members (without PoolName)."""


@dataclass(frozen=True, slots=True)
class ClientRecord:
    id: str
    pool_id: str
    name: str
    created: float
    updated: float
    config: JsonObject
    """The client's settings as CreateUserPoolClient members (without names, ids, secret)."""
    sealed_secret: bytes | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class ResourceServer:
    pool_id: str
    identifier: str
    name: str
    scopes: tuple[tuple[str, str], ...] = ()
    """(ScopeName, ScopeDescription) pairs."""


@dataclass(frozen=True, slots=True)
class GroupRecord:
    pool_id: str
    name: str
    description: str | None
    role_arn: str | None
    precedence: int | None
    created: float
    updated: float


@dataclass(frozen=True, slots=True)
class Alias:
    """A value a user can be found by besides the username: `email`, `phone_number` or
    `preferred_username`, folded as the pool compares it. Unique within a pool."""

    kind: str
    key: str


@dataclass(frozen=True, slots=True)
class UserRecord:
    pool_id: str
    username: str
    """The internal username (the `sub` UUID in pools with UsernameAttributes)."""
    username_key: str
    """`username` folded as the pool compares usernames; unique within the pool."""
    sub: str
    status: UserStatus
    enabled: bool
    created: float
    updated: float
    attributes: Mapping[str, str]
    """Every attribute but `sub`, values as strings, as the API shows them."""
    aliases: tuple[Alias, ...] = ()
    password_hash: str | None = field(default=None, repr=False)
    sealed_srp: bytes | None = field(default=None, repr=False)
    """SALT ‖ verifier, sealed (see `users.srp_context`)."""
    password_set_at: float = 0.0
    """When the current password was set: a temporary one expires from here."""
    sealed_totp: bytes | None = field(default=None, repr=False)
    totp_verified: bool = False
    totp_last_step: int | None = None
    mfa_enabled: tuple[str, ...] = ()
    """Factors the user enabled, e.g. `SOFTWARE_TOKEN_MFA`."""
    preferred_mfa: str | None = None
    failed_attempts: int = 0
    last_failure: float = 0.0
    locked_until: float = 0.0
    tokens_valid_after: float = 0.0
    """GlobalSignOut: tokens without a session issued before this moment are refused."""
    version: int = 0
    """Bumped by every update; an update names the version it read (optimistic locking)."""


@dataclass(frozen=True, slots=True)
class CodeRecord:
    pool_id: str
    username: str
    purpose: CodePurpose
    digest: str = field(repr=False)
    expires_at: float
    attempts: int = 0


@dataclass(frozen=True, slots=True)
class SessionRecord:
    """One authentication and the tokens issued from it: its id is the tokens' `origin_jti`.

    RevokeToken revokes one session, GlobalSignOut every session of the user; a revoked
    session's refresh token stops working and so do its ID and access tokens, at the gateway
    too. Kept until `expires_at` plus the longest ID/access lifetime, then pruned."""

    origin_jti: str
    pool_id: str
    username: str
    sub: str
    client_id: str
    created: float
    expires_at: float
    """When the refresh token expires."""
    auth_time: int
    refresh_digest: str | None = field(default=None, repr=False)
    revoked_at: float | None = None
    scopes: tuple[str, ...] | None = None
    """The OAuth scopes granted (hosted sign-in, federation); None for the API's sign-ins,
    whose access tokens carry `aws.cognito.signin.user.admin` only. Refreshes keep them."""


@dataclass(frozen=True, slots=True)
class KeyRow:
    """A pool signing key as stored: the private key sealed (see `pools.key_context`)."""

    pool_id: str
    kid: str
    use: str
    created: float
    retired: float | None
    sealed_key: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class AuthCodeRecord:
    """An OAuth authorization code (RFC 6749 §4.1.2), stored by the SHA-256 `digest` of the
    code: single use, short-lived, bound to its client, redirect URI and PKCE challenge."""

    digest: str = field(repr=False)
    pool_id: str
    client_id: str
    username: str
    sub: str
    redirect_uri: str
    scopes: tuple[str, ...]
    auth_time: int
    expires_at: float
    code_challenge: str | None = None
    """The S256 challenge (RFC 7636 §4.2) the token request's verifier must answer."""
    nonce: str | None = None


@dataclass(frozen=True, slots=True)
class IdentityProviderRecord:
    """An external identity provider a pool trusts (CreateIdentityProvider). `details` are
    the ProviderDetails without `client_secret`, which is sealed apart."""

    pool_id: str
    name: str
    type: str
    details: JsonObject
    attribute_mapping: Mapping[str, str]
    identifiers: tuple[str, ...]
    created: float
    updated: float
    sealed_secret: bytes | None = field(default=None, repr=False)
