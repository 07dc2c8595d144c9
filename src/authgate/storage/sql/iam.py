"""`IamStore` on SQLAlchemy Core (SQLite or PostgreSQL).

Single-statement reads go through `single_reads(engine)`, reads of several statements through
`snapshot_reads(engine)` (one snapshot), writes through `writer(engine, "iam")`, serialized
with each other (see engine.py). A unique or foreign-key violation is read back as an answer
(False) when it means "already there", and as `StoreConflict` when a concurrent writer removed
a row this one refers to.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Row,
    Select,
    String,
    Table,
    bindparam,
    delete,
    func,
    insert,
    literal_column,
    select,
    union_all,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from authgate.iam.model import (
    AccessKey,
    Group,
    KeyStatus,
    ManagedPolicy,
    PrincipalKind,
    Role,
    User,
)
from authgate.storage.base import (
    AccessKeyRecord,
    OwnedPolicy,
    StoreConflict,
    TemporaryCredentialRecord,
)
from authgate.storage.sql.engine import SqlStore
from authgate.storage.sql.schema import (
    OWNERS,
    access_keys,
    attachments,
    group_members,
    groups,
    inline_policies,
    managed_policies,
    roles,
    temporary_credentials,
    users,
)

_RETRIES = 3


class SqlIamStore(SqlStore):
    WRITE_LOCK = "iam"

    # -- helpers -------------------------------------------------------------------------------

    async def _insert_unique(self, table: Table, values: dict[str, object]) -> bool:
        try:
            async with self._writer.begin() as conn:
                await conn.execute(insert(table).values(**values))
        except IntegrityError:
            return False
        return True

    async def _delete(self, *statements: Any) -> bool:
        """Run the statements in one transaction; True if the last one deleted anything."""
        try:
            async with self._writer.begin() as conn:
                result = None
                for statement in statements:
                    result = await conn.execute(statement)
        except IntegrityError as exc:
            raise StoreConflict("the row is still referenced") from exc
        return result is not None and result.rowcount > 0

    # -- users ---------------------------------------------------------------------------------

    async def insert_user(self, user: User) -> bool:
        return await self._insert_unique(
            users,
            {
                "id": user.id,
                "name": user.name,
                "name_key": user.name.lower(),
                "path": user.path,
                "arn": user.arn,
                "created": user.created,
                "tags": json.dumps([list(tag) for tag in user.tags]),
            },
        )

    async def get_user(self, name: str) -> User | None:
        row = await self._row(select(users).where(users.c.name_key == name.lower()))
        return None if row is None else _user(row)

    async def get_user_by_id(self, user_id: str) -> User | None:
        row = await self._row(select(users).where(users.c.id == user_id))
        return None if row is None else _user(row)

    async def list_users(self, path_prefix: str = "/") -> list[User]:
        query = select(users).where(_under(users, path_prefix)).order_by(users.c.name_key)
        return [_user(row) for row in await self._rows(query)]

    async def count_users(self) -> int:
        row = await self._row(select(func.count()).select_from(users))
        return 0 if row is None else int(row[0])

    async def delete_user(self, user_id: str) -> bool:
        return await self._delete(
            delete(temporary_credentials).where(temporary_credentials.c.user_id == user_id),
            delete(users).where(users.c.id == user_id),
        )

    # -- groups --------------------------------------------------------------------------------

    async def insert_group(self, group: Group) -> bool:
        return await self._insert_unique(
            groups,
            {
                "id": group.id,
                "name": group.name,
                "name_key": group.name.lower(),
                "path": group.path,
                "arn": group.arn,
                "created": group.created,
            },
        )

    async def get_group(self, name: str) -> Group | None:
        row = await self._row(select(groups).where(groups.c.name_key == name.lower()))
        return None if row is None else _group(row)

    async def list_groups(self, path_prefix: str = "/") -> list[Group]:
        query = select(groups).where(_under(groups, path_prefix)).order_by(groups.c.name_key)
        return [_group(row) for row in await self._rows(query)]

    async def delete_group(self, group_id: str) -> bool:
        return await self._delete(delete(groups).where(groups.c.id == group_id))

    async def add_member(self, group_id: str, user_id: str) -> bool:
        member = (group_members.c.group_id == group_id) & (group_members.c.user_id == user_id)
        try:
            async with self._writer.begin() as conn:
                found = (await conn.execute(select(group_members).where(member))).first()
                if found is not None:
                    return False
                await conn.execute(insert(group_members).values(group_id=group_id, user_id=user_id))
        except IntegrityError as exc:
            if await self._row(select(group_members).where(member)) is not None:
                return False
            raise StoreConflict("the user or the group was deleted meanwhile") from exc
        return True

    async def remove_member(self, group_id: str, user_id: str) -> bool:
        return await self._delete(
            delete(group_members).where(
                (group_members.c.group_id == group_id) & (group_members.c.user_id == user_id)
            )
        )

    async def list_members(self, group_id: str) -> list[User]:
        query = (
            select(users)
            .join(group_members, group_members.c.user_id == users.c.id)
            .where(group_members.c.group_id == group_id)
            .order_by(users.c.name_key)
        )
        return [_user(row) for row in await self._rows(query)]

    async def list_groups_for_user(self, user_id: str) -> list[Group]:
        query = (
            select(groups)
            .join(group_members, group_members.c.group_id == groups.c.id)
            .where(group_members.c.user_id == user_id)
            .order_by(groups.c.name_key)
        )
        return [_group(row) for row in await self._rows(query)]

    # -- roles ---------------------------------------------------------------------------------

    async def insert_role(self, role: Role) -> bool:
        return await self._insert_unique(
            roles,
            {
                "id": role.id,
                "name": role.name,
                "name_key": role.name.lower(),
                "path": role.path,
                "arn": role.arn,
                "created": role.created,
                "trust_policy": role.trust_policy,
                "max_session_duration": role.max_session_duration,
                "description": role.description,
            },
        )

    async def get_role(self, name: str) -> Role | None:
        row = await self._row(select(roles).where(roles.c.name_key == name.lower()))
        return None if row is None else _role(row)

    async def get_role_by_id(self, role_id: str) -> Role | None:
        row = await self._row(select(roles).where(roles.c.id == role_id))
        return None if row is None else _role(row)

    async def list_roles(self, path_prefix: str = "/") -> list[Role]:
        query = select(roles).where(_under(roles, path_prefix)).order_by(roles.c.name_key)
        return [_role(row) for row in await self._rows(query)]

    async def update_role(self, role: Role) -> bool:
        async with self._writer.begin() as conn:
            result = await conn.execute(
                update(roles)
                .where(roles.c.id == role.id)
                .values(
                    trust_policy=role.trust_policy,
                    description=role.description,
                    max_session_duration=role.max_session_duration,
                )
            )
        return result.rowcount > 0

    async def delete_role(self, role_id: str) -> bool:
        return await self._delete(
            delete(temporary_credentials).where(temporary_credentials.c.role_id == role_id),
            delete(roles).where(roles.c.id == role_id),
        )

    # -- inline policies -----------------------------------------------------------------------

    async def put_inline_policy(
        self, kind: PrincipalKind, owner_id: str, name: str, document: str
    ) -> None:
        table = inline_policies[kind]
        where = (table.c.owner_id == owner_id) & (table.c.name == name)
        for _ in range(_RETRIES):
            try:
                async with self._writer.begin() as conn:
                    result = await conn.execute(
                        update(table).where(where).values(document=document)
                    )
                    if result.rowcount == 0:
                        await conn.execute(
                            insert(table).values(owner_id=owner_id, name=name, document=document)
                        )
                return
            except IntegrityError:
                continue  # a concurrent put created it (retry as an update), or the owner went
        raise StoreConflict(f"the {kind.value} was deleted meanwhile")

    async def get_inline_policy(self, kind: PrincipalKind, owner_id: str, name: str) -> str | None:
        table = inline_policies[kind]
        row = await self._row(
            select(table.c.document).where((table.c.owner_id == owner_id) & (table.c.name == name))
        )
        return None if row is None else str(row.document)

    async def list_inline_policies(
        self, kind: PrincipalKind, owner_id: str
    ) -> list[tuple[str, str]]:
        table = inline_policies[kind]
        query = (
            select(table.c.name, table.c.document)
            .where(table.c.owner_id == owner_id)
            .order_by(table.c.name)
        )
        return [(str(row.name), str(row.document)) for row in await self._rows(query)]

    async def delete_inline_policy(self, kind: PrincipalKind, owner_id: str, name: str) -> bool:
        table = inline_policies[kind]
        return await self._delete(
            delete(table).where((table.c.owner_id == owner_id) & (table.c.name == name))
        )

    # -- managed policies ----------------------------------------------------------------------

    async def insert_policy(self, policy: ManagedPolicy, description: str = "") -> bool:
        return await self._insert_unique(
            managed_policies,
            {
                "id": policy.id,
                "name": policy.name,
                "name_key": policy.name.lower(),
                "path": policy.path,
                "arn": policy.arn,
                "created": policy.created,
                "document": policy.document,
                "default_version_id": policy.default_version_id,
                "description": description,
            },
        )

    async def get_policy(self, arn: str) -> ManagedPolicy | None:
        row = await self._row(_policies().where(managed_policies.c.arn == arn))
        return None if row is None else _policy(row)

    async def get_policy_description(self, policy_id: str) -> str | None:
        row = await self._row(
            select(managed_policies.c.description).where(managed_policies.c.id == policy_id)
        )
        return None if row is None else str(row.description)

    async def list_policies(self, path_prefix: str = "/") -> list[ManagedPolicy]:
        query = (
            _policies()
            .where(_under(managed_policies, path_prefix))
            .order_by(managed_policies.c.name_key)
        )
        return [_policy(row) for row in await self._rows(query)]

    async def delete_policy(self, policy_id: str) -> bool:
        return await self._delete(
            delete(managed_policies).where(managed_policies.c.id == policy_id)
        )

    async def attach_policy(self, kind: PrincipalKind, owner_id: str, policy_id: str) -> bool:
        table = attachments[kind]
        where = (table.c.owner_id == owner_id) & (table.c.policy_id == policy_id)
        try:
            async with self._writer.begin() as conn:
                if (await conn.execute(select(table).where(where))).first() is not None:
                    return False
                await conn.execute(insert(table).values(owner_id=owner_id, policy_id=policy_id))
        except IntegrityError as exc:
            if await self._row(select(table).where(where)) is not None:
                return False
            raise StoreConflict(f"the policy or the {kind.value} was deleted meanwhile") from exc
        return True

    async def detach_policy(self, kind: PrincipalKind, owner_id: str, policy_id: str) -> bool:
        table = attachments[kind]
        return await self._delete(
            delete(table).where((table.c.owner_id == owner_id) & (table.c.policy_id == policy_id))
        )

    async def list_attached_policies(
        self, kind: PrincipalKind, owner_id: str
    ) -> list[ManagedPolicy]:
        table = attachments[kind]
        query = (
            _policies()
            .join(table, table.c.policy_id == managed_policies.c.id)
            .where(table.c.owner_id == owner_id)
            .order_by(managed_policies.c.name_key)
        )
        return [_policy(row) for row in await self._rows(query)]

    # -- access keys ---------------------------------------------------------------------------

    async def insert_access_key(self, record: AccessKeyRecord, *, max_per_user: int) -> bool:
        key = record.key
        for _ in range(max_per_user + 1):
            try:
                async with self._writer.begin() as conn:
                    taken = {
                        int(row.slot)
                        for row in await conn.execute(
                            select(access_keys.c.slot).where(
                                access_keys.c.user_id == record.user_id
                            )
                        )
                    }
                    free = [slot for slot in range(1, max_per_user + 1) if slot not in taken]
                    if not free:
                        return False
                    await conn.execute(
                        insert(access_keys).values(
                            id=key.id,
                            user_id=record.user_id,
                            slot=free[0],
                            status=key.status.value,
                            created=key.created,
                            secret=record.sealed_secret,
                        )
                    )
                return True
            except IntegrityError:
                continue  # another key took the slot meanwhile, or the user was deleted
        raise StoreConflict("the access key could not be added")

    async def get_access_key(self, key_id: str) -> AccessKeyRecord | None:
        row = await self._row(_keys().where(access_keys.c.id == key_id))
        return None if row is None else _key_record(row)

    async def list_access_keys(self, user_id: str) -> list[AccessKey]:
        query = (
            _keys()
            .where(access_keys.c.user_id == user_id)
            .order_by(access_keys.c.created, access_keys.c.id)
        )
        return [_key(row) for row in await self._rows(query)]

    async def set_access_key_status(self, user_id: str, key_id: str, status: KeyStatus) -> bool:
        async with self._writer.begin() as conn:
            result = await conn.execute(
                update(access_keys).where(_owned_key(user_id, key_id)).values(status=status.value)
            )
        return result.rowcount > 0

    async def delete_access_key(self, user_id: str, key_id: str) -> bool:
        return await self._delete(delete(access_keys).where(_owned_key(user_id, key_id)))

    # -- temporary credentials -----------------------------------------------------------------

    async def insert_temporary_credential(self, record: TemporaryCredentialRecord) -> None:
        try:
            async with self._writer.begin() as conn:
                await conn.execute(
                    insert(temporary_credentials).values(
                        id=record.access_key_id,
                        user_id=record.user_id,
                        role_id=record.role_id,
                        session_name=record.session_name,
                        secret=record.sealed_secret,
                        token_sha256=record.token_sha256,
                        created=record.created,
                        expiration=record.expiration,
                        session_policy=record.session_policy,
                    )
                )
        except IntegrityError as exc:
            raise StoreConflict("the role or user was deleted meanwhile") from exc

    async def get_temporary_credential(self, key_id: str) -> TemporaryCredentialRecord | None:
        t = temporary_credentials
        row = await self._row(select(t).where(t.c.id == key_id))
        return None if row is None else _temporary(row)

    async def delete_expired_credentials(self, now: float) -> int:
        async with self._writer.begin() as conn:
            result = await conn.execute(
                delete(temporary_credentials).where(temporary_credentials.c.expiration < now)
            )
        return int(result.rowcount)

    # -- resolution ----------------------------------------------------------------------------

    async def identity_policies(self, kind: PrincipalKind, owner_id: str) -> list[OwnedPolicy]:
        async with self._snapshots.connect() as conn:
            return await _identity_policies(conn, PrincipalKind(kind), owner_id)

    async def resolve_access_key(
        self, key_id: str
    ) -> tuple[AccessKeyRecord, User, list[OwnedPolicy]] | None:
        query = select(access_keys, users).join(users, users.c.id == access_keys.c.user_id)
        async with self._snapshots.connect() as conn:
            row = (await conn.execute(query.where(access_keys.c.id == key_id))).first()
            if row is None:
                return None
            record = _key_record(row)
            user = _user(row)
            return record, user, await _identity_policies(conn, PrincipalKind.USER, user.id)

    async def resolve_temporary_credential(
        self, key_id: str
    ) -> tuple[TemporaryCredentialRecord, User | Role, list[OwnedPolicy]] | None:
        t = temporary_credentials
        async with self._snapshots.connect() as conn:
            row = (await conn.execute(select(t).where(t.c.id == key_id))).first()
            if row is None:
                return None
            record = _temporary(row)
            owner: User | Role
            if record.role_id is not None:
                found = (
                    await conn.execute(select(roles).where(roles.c.id == record.role_id))
                ).first()
                if found is None:
                    return None
                owner = _role(found)
                kind = PrincipalKind.ROLE
            elif record.user_id is not None:
                found = (
                    await conn.execute(select(users).where(users.c.id == record.user_id))
                ).first()
                if found is None:
                    return None
                owner = _user(found)
                kind = PrincipalKind.USER
            else:
                return None
            return record, owner, await _identity_policies(conn, kind, owner.id)


# -- queries and row mapping -------------------------------------------------------------------


async def _identity_policies(
    conn: AsyncConnection, kind: PrincipalKind, owner_id: str
) -> list[OwnedPolicy]:
    query = _IDENTITY_POLICY_QUERIES[kind]
    rows = (await conn.execute(query, {"owner_id": owner_id})).all()
    return [
        OwnedPolicy(
            owner_kind=PrincipalKind(row.owner_kind),
            owner_name=str(row.owner_name),
            name=str(row.name),
            document=str(row.document),
            managed=bool(row.managed),
        )
        for row in rows
    ]


def _identity_policy_query(kind: PrincipalKind) -> CompoundSelect[Any]:
    """One UNION ALL over the owner's inline and attached policies (and, for a user, those of
    its groups), ordered: the owner first, then groups by name; inline before managed."""
    owner = OWNERS[kind]
    owner_id = bindparam("owner_id", type_=String)
    parts = _owned_policy_selects(kind, owner, 0, owner.c.id == owner_id)
    if kind is PrincipalKind.USER:
        member = groups.c.id.in_(
            select(group_members.c.group_id).where(group_members.c.user_id == owner_id)
        )
        parts += _owned_policy_selects(PrincipalKind.GROUP, groups, 1, member)
    return union_all(*parts).order_by(
        literal_column("level"),
        literal_column("owner_key"),
        literal_column("managed"),
        literal_column("sort_key"),
    )


def _owned_policy_selects(
    kind: PrincipalKind, owner: Table, level: int, which: ColumnElement[bool]
) -> list[Select[Any]]:
    inline, attached = inline_policies[kind], attachments[kind]
    common: tuple[ColumnElement[Any], ...] = (
        literal_column(str(level)).label("level"),
        owner.c.name_key.label("owner_key"),
        literal_column(f"'{kind.value}'").label("owner_kind"),
        owner.c.name.label("owner_name"),
    )
    own_inline = (
        select(
            *common,
            literal_column("0").label("managed"),
            inline.c.name.label("sort_key"),
            inline.c.name.label("name"),
            inline.c.document.label("document"),
        )
        .join_from(inline, owner, inline.c.owner_id == owner.c.id)
        .where(which)
    )
    own_managed = (
        select(
            *common,
            literal_column("1").label("managed"),
            managed_policies.c.name_key.label("sort_key"),
            managed_policies.c.arn.label("name"),
            managed_policies.c.document.label("document"),
        )
        .join_from(attached, owner, attached.c.owner_id == owner.c.id)
        .join(managed_policies, managed_policies.c.id == attached.c.policy_id)
        .where(which)
    )
    return [own_inline, own_managed]


_IDENTITY_POLICY_QUERIES = {kind: _identity_policy_query(kind) for kind in PrincipalKind}
"""Built once: resolution runs them on every authorizer cache miss."""


def _temporary(row: Row[Any]) -> TemporaryCredentialRecord:
    return TemporaryCredentialRecord(
        access_key_id=str(row.id),
        sealed_secret=bytes(row.secret),
        token_sha256=str(row.token_sha256),
        created=float(row.created),
        expiration=float(row.expiration),
        session_name=str(row.session_name),
        user_id=row.user_id,
        role_id=row.role_id,
        session_policy=row.session_policy,
    )


def _under(table: Table, path_prefix: str) -> ColumnElement[bool]:
    """Paths that start with `path_prefix`, exactly: case counts, as in IAM (LIKE would ignore
    case on SQLite and not on PostgreSQL)."""
    return func.substr(table.c.path, 1, len(path_prefix)) == path_prefix


def _owned_key(user_id: str, key_id: str) -> ColumnElement[bool]:
    return (access_keys.c.id == key_id) & (access_keys.c.user_id == user_id)


def _attachment_count() -> ColumnElement[int]:
    counts = [
        select(func.count())
        .select_from(table)
        .where(table.c.policy_id == managed_policies.c.id)
        .correlate(managed_policies)
        .scalar_subquery()
        for table in attachments.values()
    ]
    total: ColumnElement[int] = counts[0]
    for count in counts[1:]:
        total = total + count
    return total.label("attachment_count")


def _policies() -> Select[Any]:
    return select(managed_policies, _attachment_count())


def _keys() -> Select[Any]:
    return select(access_keys, users.c.name).join(users, users.c.id == access_keys.c.user_id)


def _user(row: Row[Any]) -> User:
    """From any row that holds the users columns (alone or joined, so looked up by column)."""
    m, c = row._mapping, users.c
    tags = tuple((str(k), str(v)) for k, v in json.loads(m[c.tags]))
    return User(
        name=m[c.name], id=m[c.id], arn=m[c.arn], path=m[c.path], created=m[c.created], tags=tags
    )


def _group(row: Row[Any]) -> Group:
    return Group(name=row.name, id=row.id, arn=row.arn, path=row.path, created=row.created)


def _role(row: Row[Any]) -> Role:
    return Role(
        name=row.name,
        id=row.id,
        arn=row.arn,
        path=row.path,
        created=row.created,
        trust_policy=row.trust_policy,
        max_session_duration=row.max_session_duration,
        description=row.description,
    )


def _policy(row: Row[Any]) -> ManagedPolicy:
    return ManagedPolicy(
        name=row.name,
        id=row.id,
        arn=row.arn,
        path=row.path,
        created=row.created,
        document=row.document,
        default_version_id=row.default_version_id,
        attachment_count=int(row.attachment_count),
    )


def _key(row: Row[Any]) -> AccessKey:
    """From a row of access_keys joined with users (for the user's name)."""
    m, c = row._mapping, access_keys.c
    return AccessKey(
        id=m[c.id], user_name=m[users.c.name], status=KeyStatus(m[c.status]), created=m[c.created]
    )


def _key_record(row: Row[Any]) -> AccessKeyRecord:
    m, c = row._mapping, access_keys.c
    return AccessKeyRecord(_key(row), str(m[c.user_id]), bytes(m[c.secret]))
