"""The narrow storage verbs the services use. Backends implement these Protocols.

Stores hold records and enforce what a database can enforce atomically (unique names, at most
N access keys per user, no dangling references); services decide everything else (validation,
AWS errors, which check to report). Lookups by name are case-insensitive, because IAM names
are: `Alice` and `alice` are the same user, kept as first spelled.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from authgate.errors import AuthgateError
from authgate.iam.model import (
    AccessKey,
    Group,
    KeyStatus,
    ManagedPolicy,
    PrincipalKind,
    Role,
    User,
)


class StoreConflict(AuthgateError):
    """A write lost a race with another writer (e.g. a referenced row was deleted meanwhile)."""


@dataclass(frozen=True, slots=True)
class AccessKeyRecord:
    key: AccessKey
    user_id: str
    sealed_secret: bytes = field(repr=False)
    """The secret sealed by `SecretBox` with context `access_key_context(key.id)`."""


@dataclass(frozen=True, slots=True)
class TemporaryCredentialRecord:
    """Credentials from AssumeRole (`role_id` set) or GetSessionToken (`user_id` set)."""

    access_key_id: str
    sealed_secret: bytes = field(repr=False)
    token_sha256: str
    """Hex SHA-256 of the session token; the token itself is never stored."""
    created: float
    expiration: float
    session_name: str
    user_id: str | None = None
    role_id: str | None = None
    session_policy: str | None = None


@dataclass(frozen=True, slots=True)
class OwnedPolicy:
    """An identity policy as resolution needs it: whose it is, and inline or managed."""

    owner_kind: PrincipalKind
    owner_name: str
    name: str
    """The inline policy's name, or the managed policy's ARN."""
    document: str
    managed: bool


class IamStore(Protocol):
    """IAM principals, policies and credentials. Inserts answer False when the name (or id) is
    taken; deletes and updates answer False when nothing matched."""

    # users
    async def insert_user(self, user: User) -> bool: ...
    async def get_user(self, name: str) -> User | None: ...
    async def get_user_by_id(self, user_id: str) -> User | None: ...
    async def list_users(self, path_prefix: str = "/") -> list[User]: ...
    async def count_users(self) -> int: ...
    async def delete_user(self, user_id: str) -> bool: ...

    # groups and membership
    async def insert_group(self, group: Group) -> bool: ...
    async def get_group(self, name: str) -> Group | None: ...
    async def list_groups(self, path_prefix: str = "/") -> list[Group]: ...
    async def delete_group(self, group_id: str) -> bool: ...
    async def add_member(self, group_id: str, user_id: str) -> bool:
        """False if the user already was a member."""
        ...

    async def remove_member(self, group_id: str, user_id: str) -> bool: ...
    async def list_members(self, group_id: str) -> list[User]: ...
    async def list_groups_for_user(self, user_id: str) -> list[Group]: ...

    # roles
    async def insert_role(self, role: Role) -> bool: ...
    async def get_role(self, name: str) -> Role | None: ...
    async def get_role_by_id(self, role_id: str) -> Role | None: ...
    async def list_roles(self, path_prefix: str = "/") -> list[Role]: ...
    async def update_role(self, role: Role) -> bool:
        """Replace the trust policy, description and maximum session duration of `role.id`."""
        ...

    async def delete_role(self, role_id: str) -> bool:
        """Also ends the role's temporary credentials."""
        ...

    # inline policies, owned by a user, group or role id
    async def put_inline_policy(
        self, kind: PrincipalKind, owner_id: str, name: str, document: str
    ) -> None: ...
    async def get_inline_policy(
        self, kind: PrincipalKind, owner_id: str, name: str
    ) -> str | None: ...

    async def list_inline_policies(
        self, kind: PrincipalKind, owner_id: str
    ) -> list[tuple[str, str]]:
        """(name, document) pairs, by name."""
        ...

    async def delete_inline_policy(self, kind: PrincipalKind, owner_id: str, name: str) -> bool: ...

    # managed policies and their attachments
    async def insert_policy(self, policy: ManagedPolicy, description: str = "") -> bool: ...
    async def get_policy(self, arn: str) -> ManagedPolicy | None:
        """With `attachment_count` filled in."""
        ...

    async def get_policy_description(self, policy_id: str) -> str | None: ...
    async def list_policies(self, path_prefix: str = "/") -> list[ManagedPolicy]: ...
    async def delete_policy(self, policy_id: str) -> bool: ...
    async def attach_policy(self, kind: PrincipalKind, owner_id: str, policy_id: str) -> bool:
        """False if it was attached already."""
        ...

    async def detach_policy(self, kind: PrincipalKind, owner_id: str, policy_id: str) -> bool: ...
    async def list_attached_policies(
        self, kind: PrincipalKind, owner_id: str
    ) -> list[ManagedPolicy]: ...

    # long-term access keys
    async def insert_access_key(self, record: AccessKeyRecord, *, max_per_user: int) -> bool:
        """False if the user already has `max_per_user` keys (enforced atomically)."""
        ...

    async def get_access_key(self, key_id: str) -> AccessKeyRecord | None: ...
    async def list_access_keys(self, user_id: str) -> list[AccessKey]: ...
    async def set_access_key_status(self, user_id: str, key_id: str, status: KeyStatus) -> bool: ...

    async def delete_access_key(self, user_id: str, key_id: str) -> bool: ...

    # temporary credentials
    async def insert_temporary_credential(self, record: TemporaryCredentialRecord) -> None: ...
    async def get_temporary_credential(self, key_id: str) -> TemporaryCredentialRecord | None: ...

    async def delete_expired_credentials(self, now: float) -> int:
        """Forget temporary credentials that expired before `now`; how many went."""
        ...

    # resolution: each is one consistent read
    async def identity_policies(self, kind: PrincipalKind, owner_id: str) -> list[OwnedPolicy]:
        """Inline then attached policies of a role, or of a user followed by its groups' (by
        group name); within each owner inline before managed, by name."""
        ...

    async def resolve_access_key(
        self, key_id: str
    ) -> tuple[AccessKeyRecord, User, list[OwnedPolicy]] | None: ...
    async def resolve_temporary_credential(
        self, key_id: str
    ) -> tuple[TemporaryCredentialRecord, User | Role, list[OwnedPolicy]] | None:
        """The credential, the user (GetSessionToken) or role (AssumeRole) it acts for, and
        that principal's identity policies."""
        ...
