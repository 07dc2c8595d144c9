"""IAM: users, groups, roles, access keys and policies, and what a credential resolves to.

The service validates input, applies IAM's rules and limits, and answers with AWS's errors; the
store keeps records and enforces what needs atomicity. Secrets are sealed with the `SecretBox`
before they reach the store, bound to their key id.

`resolve()` returns, in `ResolvedCredential.policies`, every identity policy as a (name, JSON)
pair. Names tell where each came from: `user/NAME/POLICY`, `group/NAME/POLICY` and
`role/NAME/POLICY` for inline policies, the policy ARN for managed ones, and `SESSION_POLICY`
(`"session"`, which no other name can be) for the session policy passed to AssumeRole. The
session policy is not one more allow: a request is allowed only if the other policies allow it
*and* the session policy allows it, and an explicit deny in either refuses it.
`split_session_policy()` separates it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence

from authgate.clock import Clock
from authgate.iam import validation as check
from authgate.iam.errors import (
    ConcurrentModification,
    DeleteConflict,
    EntityAlreadyExists,
    InvalidInput,
    LimitExceeded,
    MalformedPolicyDocument,
    NoSuchEntity,
    ValidationError,
)
from authgate.iam.model import (
    AccessKey,
    Caller,
    Group,
    InlinePolicy,
    KeyStatus,
    ManagedPolicy,
    NewAccessKey,
    PrincipalKind,
    ResolvedCredential,
    Role,
    User,
)
from authgate.iam.trust import parse_trust_policy
from authgate.policy import PolicyError, PolicyKind, parse_policy
from authgate.security import ids
from authgate.security.secrets import SecretBox
from authgate.storage.base import AccessKeyRecord, IamStore, OwnedPolicy, StoreConflict

SESSION_POLICY = "session"
"""The name under which `resolve()` returns an AssumeRole session policy."""

MAX_ACCESS_KEYS_PER_USER = 2
MAX_GROUPS_PER_USER = 10
MAX_ATTACHED_POLICIES = 10
MAX_MANAGED_POLICY_CHARS = 6144
"""Counted without whitespace, as IAM counts."""

USER_TYPE = "IAMUser"
ASSUMED_ROLE_TYPE = "AssumedRole"

_NAME_LIMITS = {PrincipalKind.USER: 64, PrincipalKind.GROUP: 128, PrincipalKind.ROLE: 64}
_NAME_FIELDS = {
    PrincipalKind.USER: "userName",
    PrincipalKind.GROUP: "groupName",
    PrincipalKind.ROLE: "roleName",
}


def access_key_context(key_id: str) -> bytes:
    """What a long-term secret is sealed to: it opens only for its own key id."""
    return b"authgate:iam:access-key:" + key_id.encode("ascii")


def temporary_context(key_id: str) -> bytes:
    return b"authgate:iam:temporary-credential:" + key_id.encode("ascii")


def split_session_policy(
    policies: Sequence[tuple[str, str]],
) -> tuple[list[tuple[str, str]], str | None]:
    """(identity policies, session policy or None) from `ResolvedCredential.policies`."""
    identity = [item for item in policies if item[0] != SESSION_POLICY]
    session = next((doc for name, doc in policies if name == SESSION_POLICY), None)
    return identity, session


def assumed_role_caller(role: Role, session_name: str, account: str) -> Caller:
    return Caller(
        arn=f"arn:aws:sts::{account}:assumed-role/{role.name}/{session_name}",
        user_id=f"{role.id}:{session_name}",
        account=account,
        kind=ASSUMED_ROLE_TYPE,
        name=session_name,
        role_arn=role.arn,
    )


def user_caller(user: User, account: str) -> Caller:
    return Caller(arn=user.arn, user_id=user.id, account=account, kind=USER_TYPE, name=user.name)


def _identity_policy(document: str, name: str) -> None:
    try:
        parse_policy(document, kind=PolicyKind.IDENTITY, name=name)
    except PolicyError as exc:
        raise MalformedPolicyDocument(str(exc)) from None


@contextlib.contextmanager
def _racing() -> Iterator[None]:
    """A write that lost a race with another writer is reported as AWS does."""
    try:
        yield
    except StoreConflict:
        raise ConcurrentModification() from None


class IamService:
    def __init__(self, store: IamStore, box: SecretBox, *, account_id: str, clock: Clock) -> None:
        self._store = store
        self._box = box
        self._account = account_id
        self._clock = clock
        self._generation = 0

    @property
    def account_id(self) -> str:
        return self._account

    @property
    def generation(self) -> int:
        """Bumped on every write in this process; in-memory caches compare it."""
        return self._generation

    def bump_generation(self) -> None:
        """Record a write made on the service's behalf (STS issuing credentials)."""
        self._generation += 1

    def _arn(self, kind: str, path: str, name: str) -> str:
        return f"arn:aws:iam::{self._account}:{kind}{path}{name}"

    # -- users ---------------------------------------------------------------------------------

    async def create_user(
        self, name: str, path: str = "/", tags: Sequence[tuple[str, str]] = ()
    ) -> User:
        check.name(name, "userName", 64)
        check.path(path)
        user = User(
            name=name,
            id=ids.unique_id(ids.USER_PREFIX),
            arn=self._arn("user", path, name),
            path=path,
            created=self._clock.now(),
            tags=check.tags(tags),
        )
        if not await self._store.insert_user(user):
            raise EntityAlreadyExists.named("User", name)
        self.bump_generation()
        return user

    async def get_user(self, name: str) -> User:
        user = await self._store.get_user(name)
        if user is None:
            raise NoSuchEntity.user(name)
        return user

    async def list_users(self, path_prefix: str = "/") -> list[User]:
        check.path_prefix(path_prefix)
        return await self._store.list_users(path_prefix)

    async def has_users(self) -> bool:
        return await self._store.count_users() > 0

    async def delete_user(self, name: str) -> None:
        user = await self.get_user(name)
        store = self._store
        if await store.list_access_keys(user.id):
            raise DeleteConflict.must("delete access keys")
        if await store.list_inline_policies(PrincipalKind.USER, user.id):
            raise DeleteConflict.must("delete policies")
        if await store.list_attached_policies(PrincipalKind.USER, user.id):
            raise DeleteConflict.must("detach all policies")
        if await store.list_groups_for_user(user.id):
            raise DeleteConflict.must("remove user from group")
        try:
            deleted = await store.delete_user(user.id)
        except StoreConflict:
            raise DeleteConflict.must(
                "delete access keys, policies and group memberships"
            ) from None
        if not deleted:
            raise NoSuchEntity.user(name)
        self.bump_generation()

    # -- access keys ---------------------------------------------------------------------------

    async def create_access_key(self, user_name: str) -> NewAccessKey:
        user = await self.get_user(user_name)
        key = AccessKey(
            id=ids.access_key_id(),
            user_name=user.name,
            status=KeyStatus.ACTIVE,
            created=self._clock.now(),
        )
        secret = ids.secret_access_key()
        sealed = self._box.seal(secret.encode("ascii"), context=access_key_context(key.id))
        with _racing():
            added = await self._store.insert_access_key(
                AccessKeyRecord(key, user.id, sealed), max_per_user=MAX_ACCESS_KEYS_PER_USER
            )
        if not added:
            raise LimitExceeded.quota("AccessKeysPerUser", MAX_ACCESS_KEYS_PER_USER)
        self.bump_generation()
        return NewAccessKey(key, secret)

    async def list_access_keys(self, user_name: str) -> list[AccessKey]:
        user = await self.get_user(user_name)
        return await self._store.list_access_keys(user.id)

    async def update_access_key(self, user_name: str, key_id: str, status: KeyStatus) -> None:
        try:
            status = KeyStatus(status)
        except ValueError:
            raise ValidationError.constraint(
                status, "status", "satisfy enum value set: [Active, Inactive]"
            ) from None
        user = await self.get_user(user_name)
        if not await self._store.set_access_key_status(user.id, key_id, status):
            raise NoSuchEntity.access_key(key_id)
        self.bump_generation()

    async def delete_access_key(self, user_name: str, key_id: str) -> None:
        user = await self.get_user(user_name)
        if not await self._store.delete_access_key(user.id, key_id):
            raise NoSuchEntity.access_key(key_id)
        self.bump_generation()

    # -- groups --------------------------------------------------------------------------------

    async def create_group(self, name: str, path: str = "/") -> Group:
        check.name(name, "groupName", 128)
        check.path(path)
        group = Group(
            name=name,
            id=ids.unique_id(ids.GROUP_PREFIX),
            arn=self._arn("group", path, name),
            path=path,
            created=self._clock.now(),
        )
        if not await self._store.insert_group(group):
            raise EntityAlreadyExists.named("Group", name)
        self.bump_generation()
        return group

    async def _group(self, name: str) -> Group:
        group = await self._store.get_group(name)
        if group is None:
            raise NoSuchEntity.group(name)
        return group

    async def get_group(self, name: str) -> tuple[Group, list[User]]:
        group = await self._group(name)
        return group, await self._store.list_members(group.id)

    async def list_groups(self, path_prefix: str = "/") -> list[Group]:
        check.path_prefix(path_prefix)
        return await self._store.list_groups(path_prefix)

    async def delete_group(self, name: str) -> None:
        group = await self._group(name)
        store = self._store
        if await store.list_members(group.id):
            raise DeleteConflict.must("remove users from group")
        if await store.list_inline_policies(PrincipalKind.GROUP, group.id):
            raise DeleteConflict.must("delete policies")
        if await store.list_attached_policies(PrincipalKind.GROUP, group.id):
            raise DeleteConflict.must("detach all policies")
        try:
            deleted = await store.delete_group(group.id)
        except StoreConflict:
            raise DeleteConflict.must("remove users and policies from the group") from None
        if not deleted:
            raise NoSuchEntity.group(name)
        self.bump_generation()

    async def add_user_to_group(self, group_name: str, user_name: str) -> None:
        group = await self._group(group_name)
        user = await self.get_user(user_name)
        current = await self._store.list_groups_for_user(user.id)
        if any(g.id == group.id for g in current):
            return
        if len(current) >= MAX_GROUPS_PER_USER:
            raise LimitExceeded.quota("GroupsPerUser", MAX_GROUPS_PER_USER)
        with _racing():
            await self._store.add_member(group.id, user.id)
        self.bump_generation()

    async def remove_user_from_group(self, group_name: str, user_name: str) -> None:
        group = await self._group(group_name)
        user = await self.get_user(user_name)
        if not await self._store.remove_member(group.id, user.id):
            raise NoSuchEntity.user(user_name)
        self.bump_generation()

    async def list_groups_for_user(self, user_name: str) -> list[Group]:
        user = await self.get_user(user_name)
        return await self._store.list_groups_for_user(user.id)

    # -- roles ---------------------------------------------------------------------------------

    async def create_role(
        self,
        name: str,
        trust_policy: str,
        path: str = "/",
        description: str = "",
        max_session_duration: int = 3600,
    ) -> Role:
        check.name(name, "roleName", 64)
        check.path(path)
        check.description(description)
        check.number(max_session_duration, "maxSessionDuration", 3600, 43200)
        arn = self._arn("role", path, name)
        _trust_policy(trust_policy, arn)
        role = Role(
            name=name,
            id=ids.unique_id(ids.ROLE_PREFIX),
            arn=arn,
            path=path,
            created=self._clock.now(),
            trust_policy=trust_policy,
            max_session_duration=max_session_duration,
            description=description,
        )
        if not await self._store.insert_role(role):
            raise EntityAlreadyExists.named("Role", name)
        self.bump_generation()
        return role

    async def get_role(self, name: str) -> Role:
        role = await self._store.get_role(name)
        if role is None:
            raise NoSuchEntity.role(name)
        return role

    async def find_role(self, arn: str) -> Role | None:
        """The role an ARN names in this account, or None (the caller decides the error)."""
        prefix = f"arn:aws:iam::{self._account}:role/"
        if not arn.startswith(prefix):
            return None
        role = await self._store.get_role(arn.rsplit("/", 1)[-1])
        return role if role is not None and role.arn == arn else None

    async def list_roles(self, path_prefix: str = "/") -> list[Role]:
        check.path_prefix(path_prefix)
        return await self._store.list_roles(path_prefix)

    async def update_assume_role_policy(self, name: str, trust_policy: str) -> None:
        role = await self.get_role(name)
        _trust_policy(trust_policy, role.arn)
        updated = Role(
            name=role.name,
            id=role.id,
            arn=role.arn,
            path=role.path,
            created=role.created,
            trust_policy=trust_policy,
            max_session_duration=role.max_session_duration,
            description=role.description,
        )
        if not await self._store.update_role(updated):
            raise NoSuchEntity.role(name)
        self.bump_generation()

    async def delete_role(self, name: str) -> None:
        role = await self.get_role(name)
        store = self._store
        if await store.list_inline_policies(PrincipalKind.ROLE, role.id):
            raise DeleteConflict.must("delete policies")
        if await store.list_attached_policies(PrincipalKind.ROLE, role.id):
            raise DeleteConflict.must("detach all policies")
        try:
            deleted = await store.delete_role(role.id)
        except StoreConflict:
            raise DeleteConflict.must("delete policies") from None
        if not deleted:
            raise NoSuchEntity.role(name)
        self.bump_generation()

    # -- inline policies -----------------------------------------------------------------------

    async def _owner(self, kind: PrincipalKind, name: str) -> tuple[str, str]:
        """(id, name as stored) of the user, group or role called `name`."""
        kind = PrincipalKind(kind)
        check.name(name, _NAME_FIELDS[kind], _NAME_LIMITS[kind])
        if kind is PrincipalKind.USER:
            user = await self.get_user(name)
            return user.id, user.name
        if kind is PrincipalKind.GROUP:
            group = await self._group(name)
            return group.id, group.name
        role = await self.get_role(name)
        return role.id, role.name

    async def put_inline_policy(
        self, kind: PrincipalKind, owner: str, policy_name: str, document: str
    ) -> None:
        check.name(policy_name, "policyName", 128)
        _identity_policy(document, policy_name)
        owner_id, _ = await self._owner(kind, owner)
        with _racing():
            await self._store.put_inline_policy(kind, owner_id, policy_name, document)
        self.bump_generation()

    async def get_inline_policy(
        self, kind: PrincipalKind, owner: str, policy_name: str
    ) -> InlinePolicy:
        check.name(policy_name, "policyName", 128)
        owner_id, owner_name = await self._owner(kind, owner)
        document = await self._store.get_inline_policy(kind, owner_id, policy_name)
        if document is None:
            raise NoSuchEntity.inline_policy(PrincipalKind(kind).value, policy_name)
        return InlinePolicy(PrincipalKind(kind), owner_name, policy_name, document)

    async def list_inline_policies(self, kind: PrincipalKind, owner: str) -> list[str]:
        owner_id, _ = await self._owner(kind, owner)
        return [name for name, _ in await self._store.list_inline_policies(kind, owner_id)]

    async def delete_inline_policy(self, kind: PrincipalKind, owner: str, policy_name: str) -> None:
        check.name(policy_name, "policyName", 128)
        owner_id, _ = await self._owner(kind, owner)
        if not await self._store.delete_inline_policy(kind, owner_id, policy_name):
            raise NoSuchEntity.inline_policy(PrincipalKind(kind).value, policy_name)
        self.bump_generation()

    # -- managed policies ----------------------------------------------------------------------

    async def create_policy(
        self, name: str, document: str, path: str = "/", description: str = ""
    ) -> ManagedPolicy:
        check.name(name, "policyName", 128)
        check.path(path)
        check.description(description)
        _identity_policy(document, name)
        if sum(not c.isspace() for c in document) > MAX_MANAGED_POLICY_CHARS:
            raise LimitExceeded.quota("PolicySize", MAX_MANAGED_POLICY_CHARS)
        policy = ManagedPolicy(
            name=name,
            id=ids.unique_id(ids.POLICY_PREFIX),
            arn=self._arn("policy", path, name),
            path=path,
            created=self._clock.now(),
            document=document,
        )
        if not await self._store.insert_policy(policy, description):
            raise EntityAlreadyExists.policy(name)
        self.bump_generation()
        return policy

    async def get_policy(self, arn: str) -> ManagedPolicy:
        if not (arn.startswith("arn:") and ":policy/" in arn):
            raise InvalidInput(f"ARN {arn} is not valid.")
        policy = await self._store.get_policy(arn)
        if policy is None:
            raise NoSuchEntity.policy(arn)
        return policy

    async def get_policy_description(self, arn: str) -> str:
        policy = await self.get_policy(arn)
        return await self._store.get_policy_description(policy.id) or ""

    async def list_policies(self, path_prefix: str = "/") -> list[ManagedPolicy]:
        check.path_prefix(path_prefix)
        return await self._store.list_policies(path_prefix)

    async def delete_policy(self, arn: str) -> None:
        policy = await self.get_policy(arn)
        if policy.attachment_count:
            raise DeleteConflict("Cannot delete a policy attached to entities.")
        try:
            deleted = await self._store.delete_policy(policy.id)
        except StoreConflict:
            raise DeleteConflict("Cannot delete a policy attached to entities.") from None
        if not deleted:
            raise NoSuchEntity.policy(arn)
        self.bump_generation()

    async def attach_policy(self, kind: PrincipalKind, owner: str, policy_arn: str) -> None:
        owner_id, _ = await self._owner(kind, owner)
        policy = await self.get_policy(policy_arn)
        attached = await self._store.list_attached_policies(kind, owner_id)
        if any(p.id == policy.id for p in attached):
            return
        if len(attached) >= MAX_ATTACHED_POLICIES:
            quota = f"PoliciesPer{PrincipalKind(kind).value.capitalize()}"
            raise LimitExceeded.quota(quota, MAX_ATTACHED_POLICIES)
        with _racing():
            await self._store.attach_policy(kind, owner_id, policy.id)
        self.bump_generation()

    async def detach_policy(self, kind: PrincipalKind, owner: str, policy_arn: str) -> None:
        owner_id, _ = await self._owner(kind, owner)
        policy = await self.get_policy(policy_arn)
        if not await self._store.detach_policy(kind, owner_id, policy.id):
            raise NoSuchEntity.attachment(policy_arn)
        self.bump_generation()

    async def list_attached_policies(self, kind: PrincipalKind, owner: str) -> list[ManagedPolicy]:
        owner_id, _ = await self._owner(kind, owner)
        return await self._store.list_attached_policies(kind, owner_id)

    # -- resolution for authorization ----------------------------------------------------------

    async def resolve(self, access_key_id: str) -> ResolvedCredential | None:
        """Everything SigV4 verification and authorization need about a key id; None if
        unknown. `active` is False for a disabled key or an expired temporary one (whose
        `expiration` tells the authorizer to answer ExpiredToken). One consistent read."""
        if access_key_id.startswith(ids.TEMPORARY_KEY_PREFIX):
            return await self._resolve_temporary(access_key_id)
        found = await self._store.resolve_access_key(access_key_id)
        if found is None:
            return None
        record, user, policies = found
        secret = self._box.open(record.sealed_secret, context=access_key_context(record.key.id))
        return ResolvedCredential(
            access_key_id=record.key.id,
            secret=secret.decode("ascii"),
            active=record.key.status is KeyStatus.ACTIVE,
            caller=user_caller(user, self._account),
            policies=tuple(_named(policies)),
        )

    async def _resolve_temporary(self, access_key_id: str) -> ResolvedCredential | None:
        found = await self._store.resolve_temporary_credential(access_key_id)
        if found is None:
            return None
        record, owner, owned = found
        if isinstance(owner, Role):
            caller = assumed_role_caller(owner, record.session_name, self._account)
        else:
            caller = user_caller(owner, self._account)
        policies = _named(owned)
        if record.session_policy is not None:
            policies.append((SESSION_POLICY, record.session_policy))
        secret = self._box.open(record.sealed_secret, context=temporary_context(access_key_id))
        return ResolvedCredential(
            access_key_id=access_key_id,
            secret=secret.decode("ascii"),
            active=self._clock.now() < record.expiration,
            caller=caller,
            session_token_sha256=record.token_sha256,
            expiration=record.expiration,
            policies=tuple(policies),
        )

    async def delete_expired_credentials(self) -> int:
        """Housekeeping: forget temporary credentials past their expiry; how many went."""
        count = await self._store.delete_expired_credentials(self._clock.now())
        if count:
            self.bump_generation()
        return count

    async def caller_for_user(self, name: str) -> Caller:
        return user_caller(await self.get_user(name), self._account)

    async def identity_policies(self, caller: Caller) -> list[tuple[str, str]]:
        """The identity policies of a user or a role session's role (without any session
        policy: only `resolve()` knows that)."""
        if caller.kind == ASSUMED_ROLE_TYPE and caller.role_arn is not None:
            role = await self.find_role(caller.role_arn)
            if role is None or caller.user_id.split(":", 1)[0] != role.id:
                return []
            return _named(await self._store.identity_policies(PrincipalKind.ROLE, role.id))
        user = await self._store.get_user_by_id(caller.user_id)
        if user is None:
            return []
        return _named(await self._store.identity_policies(PrincipalKind.USER, user.id))


def _named(policies: Sequence[OwnedPolicy]) -> list[tuple[str, str]]:
    """(name, document) pairs as `resolve()` returns them; a managed policy attached both to
    a user and to one of its groups counts once."""
    named: dict[str, str] = {}
    for p in policies:
        name = p.name if p.managed else f"{p.owner_kind.value}/{p.owner_name}/{p.name}"
        named.setdefault(name, p.document)
    return list(named.items())


def _trust_policy(document: str, role_arn: str) -> None:
    try:
        parse_trust_policy(document, role_arn)
    except PolicyError as exc:
        raise MalformedPolicyDocument(str(exc)) from None
