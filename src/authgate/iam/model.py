"""IAM records: users, groups, roles, policies and credentials, as authgate stores them.

Pure: no I/O. Secrets never appear here in clear except in the one object returned when a
credential is created (`NewAccessKey`, `TemporaryCredentials`), which the caller shows once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class PrincipalKind(StrEnum):
    USER = "user"
    GROUP = "group"
    ROLE = "role"


class KeyStatus(StrEnum):
    ACTIVE = "Active"
    INACTIVE = "Inactive"


@dataclass(frozen=True, slots=True)
class User:
    name: str
    id: str
    """AIDA… (21 characters), as IAM assigns."""
    arn: str
    path: str
    created: float
    tags: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Group:
    name: str
    id: str
    """AGPA…"""
    arn: str
    path: str
    created: float


@dataclass(frozen=True, slots=True)
class Role:
    name: str
    id: str
    """AROA…"""
    arn: str
    path: str
    created: float
    trust_policy: str
    """The AssumeRolePolicyDocument, as JSON text."""
    max_session_duration: int = 3600
    description: str = ""


@dataclass(frozen=True, slots=True)
class ManagedPolicy:
    name: str
    id: str
    """ANPA…"""
    arn: str
    path: str
    created: float
    document: str
    default_version_id: str = "v1"
    attachment_count: int = 0


@dataclass(frozen=True, slots=True)
class InlinePolicy:
    owner_kind: PrincipalKind
    owner: str
    name: str
    document: str


@dataclass(frozen=True, slots=True)
class AccessKey:
    """An access key without its secret (list and get operations)."""

    id: str
    """AKIA… for long-term keys."""
    user_name: str
    status: KeyStatus
    created: float


@dataclass(frozen=True, slots=True)
class NewAccessKey:
    key: AccessKey
    secret: str = field(repr=False)
    """Shown once, at creation; stored only encrypted."""


@dataclass(frozen=True, slots=True)
class TemporaryCredentials:
    access_key_id: str
    """ASIA…"""
    secret: str = field(repr=False)
    session_token: str = field(repr=False)
    expiration: float = 0.0


@dataclass(frozen=True, slots=True)
class Caller:
    """Who a credential belongs to, resolved for authorization.

    For a user: arn `arn:aws:iam::ACCOUNT:user/PATH/NAME`, user_id AIDA…
    For an assumed role: arn `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`,
    user_id `AROA…:SESSION`, role_arn the role's IAM ARN.
    """

    arn: str
    user_id: str
    account: str
    kind: str
    """`IAMUser`, `AssumedRole` or `FederatedUser`, as in aws:PrincipalType."""
    name: str
    """User name, or the role session name."""
    role_arn: str | None = None


@dataclass(frozen=True, slots=True)
class ResolvedCredential:
    """What SigV4 verification needs about an access key id, and whose it is.

    `secret` is the clear secret (decrypted) and must never be logged; this object lives only
    in the authorizer's in-memory cache.
    """

    access_key_id: str
    secret: str = field(repr=False)
    active: bool
    caller: Caller
    session_token_sha256: str | None = None
    """For temporary credentials: the digest of their session token."""
    expiration: float | None = None
    policies: tuple[tuple[str, str], ...] = ()
    """(name, JSON document) of every identity policy that applies to the caller: inline and
    attached policies of the user, of each of the user's groups, or of the assumed role."""
