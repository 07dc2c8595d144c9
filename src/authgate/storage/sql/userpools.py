"""`UserPoolStore` on SQLAlchemy Core (SQLite or PostgreSQL).

Uniqueness (names, `sub`, aliases, one-use ids) is left to the database's keys, so two racing
writers cannot both win; the loser's IntegrityError becomes `Duplicate`. A user update is a
compare-and-set on `version`, in one transaction with the rewrite of the user's aliases.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from authgate.identity.model import (
    Alias,
    AuthCodeRecord,
    ClientRecord,
    CodePurpose,
    CodeRecord,
    GroupRecord,
    IdentityProviderRecord,
    KeyRow,
    PoolRecord,
    ResourceServer,
    SessionRecord,
    UserRecord,
)
from authgate.identity.store import Duplicate
from authgate.storage.sql.engine import SqlStore
from authgate.storage.sql.schema import (
    userpool_aliases,
    userpool_auth_codes,
    userpool_clients,
    userpool_codes,
    userpool_groups,
    userpool_identity_providers,
    userpool_keys,
    userpool_members,
    userpool_resource_servers,
    userpool_session_scopes,
    userpool_sessions,
    userpool_spent,
    userpool_users,
    userpools,
)
from authgate.storage.sql.userpool_rows import (
    auth_code_of,
    auth_code_values,
    client_of,
    client_values,
    code_of,
    dump,
    group_of,
    group_values,
    key_of,
    key_values,
    pool_of,
    pool_values,
    provider_of,
    provider_values,
    server_of,
    session_of,
    session_values,
    user_of,
    user_values,
)

users = userpool_users
aliases = userpool_aliases


class SqlUserPoolStore(SqlStore):
    WRITE_LOCK = "userpools"

    # -- pools -----------------------------------------------------------------------------------
    async def insert_pool(self, pool: PoolRecord, keys: Sequence[KeyRow]) -> None:
        try:
            async with self._writer.begin() as conn:
                await conn.execute(insert(userpools).values(**pool_values(pool)))
                for key in keys:
                    await conn.execute(insert(userpool_keys).values(**key_values(key)))
        except IntegrityError:
            raise Duplicate("pool") from None

    async def get_pool(self, pool_id: str) -> PoolRecord | None:
        row = await self._row(select(userpools).where(userpools.c.id == pool_id))
        return None if row is None else pool_of(row)

    async def list_pools(self, *, after: str | None, limit: int) -> list[PoolRecord]:
        query = select(userpools).order_by(userpools.c.id).limit(limit)
        if after is not None:
            query = query.where(userpools.c.id > after)
        return [pool_of(row) for row in await self._rows(query)]

    async def update_pool(self, pool: PoolRecord) -> bool:
        values = pool_values(pool)
        del values["created"]
        return await self._update(userpools, userpools.c.id == pool.id, values)

    async def delete_pool(self, pool_id: str) -> bool:
        async with self._writer.begin() as conn:  # the rest goes by ON DELETE CASCADE
            result = await conn.execute(delete(userpools).where(userpools.c.id == pool_id))
        return result.rowcount > 0

    async def count_users(self, pool_id: str) -> int:
        query = select(func.count()).select_from(users).where(users.c.pool_id == pool_id)
        row = await self._row(query)
        return int(row[0]) if row is not None else 0

    # -- clients and resource servers ------------------------------------------------------------
    async def insert_client(self, client: ClientRecord) -> None:
        try:
            async with self._writer.begin() as conn:
                await conn.execute(insert(userpool_clients).values(**client_values(client)))
        except IntegrityError:
            raise Duplicate("client") from None

    async def get_client(self, client_id: str) -> ClientRecord | None:
        row = await self._row(select(userpool_clients).where(userpool_clients.c.id == client_id))
        return None if row is None else client_of(row)

    async def list_clients(
        self, pool_id: str, *, after: str | None, limit: int
    ) -> list[ClientRecord]:
        c = userpool_clients.c
        query = select(userpool_clients).where(c.pool_id == pool_id).order_by(c.id).limit(limit)
        if after is not None:
            query = query.where(c.id > after)
        return [client_of(row) for row in await self._rows(query)]

    async def update_client(self, client: ClientRecord) -> bool:
        values = client_values(client)
        del values["created"]
        c = userpool_clients.c
        return await self._update(
            userpool_clients, (c.id == client.id) & (c.pool_id == client.pool_id), values
        )

    async def delete_client(self, pool_id: str, client_id: str) -> bool:
        c = userpool_clients.c
        async with self._writer.begin() as conn:
            result = await conn.execute(
                delete(userpool_clients).where((c.id == client_id) & (c.pool_id == pool_id))
            )
        return result.rowcount > 0

    async def insert_resource_server(self, server: ResourceServer) -> None:
        values = {
            "pool_id": server.pool_id,
            "identifier": server.identifier,
            "name": server.name,
            "scopes": dump([list(scope) for scope in server.scopes]),
        }
        try:
            async with self._writer.begin() as conn:
                await conn.execute(insert(userpool_resource_servers).values(**values))
        except IntegrityError:
            raise Duplicate("resource_server") from None

    async def get_resource_server(self, pool_id: str, identifier: str) -> ResourceServer | None:
        c = userpool_resource_servers.c
        query = select(userpool_resource_servers).where(
            (c.pool_id == pool_id) & (c.identifier == identifier)
        )
        row = await self._row(query)
        return None if row is None else server_of(row)

    async def list_resource_servers(self, pool_id: str) -> list[ResourceServer]:
        c = userpool_resource_servers.c
        query = select(userpool_resource_servers).where(c.pool_id == pool_id).order_by(c.identifier)
        return [server_of(row) for row in await self._rows(query)]

    # -- signing keys ----------------------------------------------------------------------------
    async def signing_keys(self, pool_id: str | None = None) -> list[KeyRow]:
        c = userpool_keys.c
        query = select(userpool_keys).order_by(c.pool_id, c.created, c.kid)
        if pool_id is not None:
            query = query.where(c.pool_id == pool_id)
        return [key_of(row) for row in await self._rows(query)]

    async def replace_signing_keys(self, pool_id: str, keys: Sequence[KeyRow]) -> None:
        async with self._writer.begin() as conn:
            await conn.execute(delete(userpool_keys).where(userpool_keys.c.pool_id == pool_id))
            for key in keys:
                await conn.execute(insert(userpool_keys).values(**key_values(key)))

    # -- groups and memberships ------------------------------------------------------------------
    async def insert_group(self, group: GroupRecord) -> None:
        try:
            async with self._writer.begin() as conn:
                await conn.execute(insert(userpool_groups).values(**group_values(group)))
        except IntegrityError:
            raise Duplicate("group") from None

    async def get_group(self, pool_id: str, name: str) -> GroupRecord | None:
        c = userpool_groups.c
        row = await self._row(
            select(userpool_groups).where((c.pool_id == pool_id) & (c.name == name))
        )
        return None if row is None else group_of(row)

    async def list_groups(
        self, pool_id: str, *, after: str | None, limit: int
    ) -> list[GroupRecord]:
        c = userpool_groups.c
        query = select(userpool_groups).where(c.pool_id == pool_id).order_by(c.name).limit(limit)
        if after is not None:
            query = query.where(c.name > after)
        return [group_of(row) for row in await self._rows(query)]

    async def update_group(self, group: GroupRecord) -> bool:
        values = group_values(group)
        del values["created"]
        c = userpool_groups.c
        return await self._update(
            userpool_groups, (c.pool_id == group.pool_id) & (c.name == group.name), values
        )

    async def delete_group(self, pool_id: str, name: str) -> bool:
        c = userpool_groups.c
        async with self._writer.begin() as conn:
            result = await conn.execute(
                delete(userpool_groups).where((c.pool_id == pool_id) & (c.name == name))
            )
        return result.rowcount > 0

    async def add_member(self, pool_id: str, group: str, username: str) -> bool:
        m = userpool_members.c
        try:
            async with self._writer.begin() as conn:
                present = await conn.execute(
                    select(m.username).where(
                        (m.pool_id == pool_id) & (m.group_name == group) & (m.username == username)
                    )
                )
                if present.first() is None:
                    await conn.execute(
                        insert(userpool_members).values(
                            pool_id=pool_id, group_name=group, username=username
                        )
                    )
        except IntegrityError:
            return False
        return True

    async def remove_member(self, pool_id: str, group: str, username: str) -> None:
        m = userpool_members.c
        async with self._writer.begin() as conn:
            await conn.execute(
                delete(userpool_members).where(
                    (m.pool_id == pool_id) & (m.group_name == group) & (m.username == username)
                )
            )

    async def groups_of(self, pool_id: str, username: str) -> list[GroupRecord]:
        g, m = userpool_groups.c, userpool_members.c
        query = (
            select(userpool_groups)
            .join(
                userpool_members,
                (m.pool_id == g.pool_id) & (m.group_name == g.name),
            )
            .where((m.pool_id == pool_id) & (m.username == username))
            .order_by(g.name)
        )
        return [group_of(row) for row in await self._rows(query)]

    async def members_of(
        self, pool_id: str, group: str, *, after: str | None, limit: int
    ) -> list[UserRecord]:
        m = userpool_members.c
        query = (
            select(users)
            .join(
                userpool_members,
                (m.pool_id == users.c.pool_id) & (m.username == users.c.username),
            )
            .where((m.pool_id == pool_id) & (m.group_name == group))
            .order_by(users.c.username)
            .limit(limit)
        )
        if after is not None:
            query = query.where(users.c.username > after)
        return await self._users(query)

    # -- users -----------------------------------------------------------------------------------
    async def insert_user(self, user: UserRecord) -> None:
        async with self._writer.connect() as conn:
            try:
                async with conn.begin():
                    await conn.execute(insert(users).values(**user_values(user)))
                    await _write_aliases(conn, user, user.aliases)
            except IntegrityError:
                raise await _which_duplicate(conn, user) from None

    async def get_user(self, pool_id: str, username_key: str) -> UserRecord | None:
        c = users.c
        return await self._user(
            select(users).where((c.pool_id == pool_id) & (c.username_key == username_key))
        )

    async def find_by_alias(self, pool_id: str, alias: Alias) -> UserRecord | None:
        a = aliases.c
        query = (
            select(users)
            .join(aliases, (a.pool_id == users.c.pool_id) & (a.username == users.c.username))
            .where((a.pool_id == pool_id) & (a.kind == alias.kind) & (a.value_key == alias.key))
        )
        return await self._user(query)

    async def find_by_sub(self, pool_id: str, sub: str) -> UserRecord | None:
        c = users.c
        return await self._user(select(users).where((c.pool_id == pool_id) & (c.sub == sub)))

    async def update_user(self, user: UserRecord) -> bool:
        values = user_values(user)
        c = users.c
        condition = (
            (c.pool_id == user.pool_id)
            & (c.username == user.username)
            & (c.version == user.version - 1)
        )
        async with self._writer.connect() as conn:
            try:
                async with conn.begin():
                    result = await conn.execute(update(users).where(condition).values(**values))
                    if result.rowcount == 0:
                        return False
                    a = aliases.c
                    await conn.execute(
                        delete(aliases).where(
                            (a.pool_id == user.pool_id) & (a.username == user.username)
                        )
                    )
                    await _write_aliases(conn, user, user.aliases)
            except IntegrityError:
                raise await _which_duplicate(conn, user) from None
        return True

    async def delete_user(self, pool_id: str, username: str) -> bool:
        c = users.c
        async with self._writer.begin() as conn:
            result = await conn.execute(
                delete(users).where((c.pool_id == pool_id) & (c.username == username))
            )
        return result.rowcount > 0

    async def list_users(self, pool_id: str, *, after: str | None, limit: int) -> list[UserRecord]:
        c = users.c
        query = select(users).where(c.pool_id == pool_id).order_by(c.username).limit(limit)
        if after is not None:
            query = query.where(c.username > after)
        return await self._users(query)

    async def _user(self, query: Any) -> UserRecord | None:
        found = await self._users(query)
        return found[0] if found else None

    async def _users(self, query: Any) -> list[UserRecord]:
        """Users with their aliases, read in one snapshot."""
        async with self._snapshots.connect() as conn:
            rows = (await conn.execute(query)).all()
            if not rows:
                return []
            a = aliases.c
            names = [row.username for row in rows]
            found = await conn.execute(
                select(a.username, a.kind, a.value_key).where(
                    (a.pool_id == rows[0].pool_id) & a.username.in_(names)
                )
            )
            by_user: dict[str, list[Alias]] = {}
            for username, kind, key in found.all():
                by_user.setdefault(username, []).append(Alias(kind, key))
        return [
            user_of(row, tuple(sorted(by_user.get(row.username, []), key=lambda x: x.kind)))
            for row in rows
        ]

    # -- codes -----------------------------------------------------------------------------------
    async def put_code(self, code: CodeRecord) -> None:
        k = userpool_codes.c
        async with self._writer.begin() as conn:
            await conn.execute(
                delete(userpool_codes).where(
                    (k.pool_id == code.pool_id)
                    & (k.username == code.username)
                    & (k.purpose == code.purpose.value)
                )
            )
            await conn.execute(
                insert(userpool_codes).values(
                    pool_id=code.pool_id,
                    username=code.username,
                    purpose=code.purpose.value,
                    digest=code.digest,
                    expires_at=code.expires_at,
                    attempts=code.attempts,
                )
            )

    def _code_row(self, pool_id: str, username: str, purpose: CodePurpose) -> Any:
        k = userpool_codes.c
        return (k.pool_id == pool_id) & (k.username == username) & (k.purpose == purpose.value)

    async def get_code(
        self, pool_id: str, username: str, purpose: CodePurpose
    ) -> CodeRecord | None:
        row = await self._row(
            select(userpool_codes).where(self._code_row(pool_id, username, purpose))
        )
        return None if row is None else code_of(row)

    async def count_code_attempt(self, pool_id: str, username: str, purpose: CodePurpose) -> None:
        async with self._writer.begin() as conn:
            await conn.execute(
                update(userpool_codes)
                .where(self._code_row(pool_id, username, purpose))
                .values(attempts=userpool_codes.c.attempts + 1)
            )

    async def delete_code(self, pool_id: str, username: str, purpose: CodePurpose) -> bool:
        async with self._writer.begin() as conn:
            result = await conn.execute(
                delete(userpool_codes).where(self._code_row(pool_id, username, purpose))
            )
        return result.rowcount > 0

    # -- sessions and one-use ids ----------------------------------------------------------------
    async def insert_session(self, session: SessionRecord) -> None:
        async with self._writer.begin() as conn:
            await conn.execute(insert(userpool_sessions).values(**session_values(session)))
            if session.scopes is not None:
                await conn.execute(
                    insert(userpool_session_scopes).values(
                        origin_jti=session.origin_jti, scopes=dump(list(session.scopes))
                    )
                )

    async def get_session(self, origin_jti: str) -> SessionRecord | None:
        return await self._session(userpool_sessions.c.origin_jti == origin_jti)

    async def session_by_refresh(self, digest: str) -> SessionRecord | None:
        return await self._session(userpool_sessions.c.refresh_digest == digest)

    async def _session(self, where: Any) -> SessionRecord | None:
        """One session with its OAuth scopes, if it has any (one statement)."""
        scopes = userpool_session_scopes.c
        query = (
            select(userpool_sessions, scopes.scopes)
            .outerjoin(userpool_session_scopes, scopes.origin_jti == userpool_sessions.c.origin_jti)
            .where(where)
        )
        row = await self._row(query)
        return None if row is None else session_of(row)

    async def revoke_session(self, origin_jti: str, at: float) -> bool:
        s = userpool_sessions.c
        async with self._writer.begin() as conn:
            result = await conn.execute(
                update(userpool_sessions)
                .where((s.origin_jti == origin_jti) & s.revoked_at.is_(None))
                .values(revoked_at=at)
            )
        return result.rowcount > 0

    async def revoke_sessions_of(self, pool_id: str, username: str, at: float) -> int:
        s = userpool_sessions.c
        async with self._writer.begin() as conn:
            result = await conn.execute(
                update(userpool_sessions)
                .where((s.pool_id == pool_id) & (s.username == username) & s.revoked_at.is_(None))
                .values(revoked_at=at)
            )
        return int(result.rowcount)

    async def spend(self, one_use_id: str, expires_at: float) -> bool:
        try:
            async with self._writer.begin() as conn:
                await conn.execute(
                    insert(userpool_spent).values(id=one_use_id, expires_at=expires_at)
                )
        except IntegrityError:
            return False
        return True

    # -- OAuth authorization codes ---------------------------------------------------------------
    async def insert_auth_code(self, code: AuthCodeRecord) -> None:
        async with self._writer.begin() as conn:
            await conn.execute(insert(userpool_auth_codes).values(**auth_code_values(code)))

    async def take_auth_code(self, digest: str) -> AuthCodeRecord | None:
        codes = userpool_auth_codes.c
        async with self._writer.begin() as conn:
            row = (
                await conn.execute(select(userpool_auth_codes).where(codes.digest == digest))
            ).first()
            if row is None:
                return None
            deleted = await conn.execute(delete(userpool_auth_codes).where(codes.digest == digest))
            if deleted.rowcount != 1:  # another request took it first
                return None
        return auth_code_of(row)

    # -- identity providers ----------------------------------------------------------------------
    async def insert_provider(self, provider: IdentityProviderRecord) -> None:
        try:
            async with self._writer.begin() as conn:
                await conn.execute(
                    insert(userpool_identity_providers).values(**provider_values(provider))
                )
        except IntegrityError:
            raise Duplicate("identity_provider") from None

    async def get_provider(self, pool_id: str, name: str) -> IdentityProviderRecord | None:
        p = userpool_identity_providers.c
        row = await self._row(
            select(userpool_identity_providers).where((p.pool_id == pool_id) & (p.name == name))
        )
        return None if row is None else provider_of(row)

    async def list_providers(
        self, pool_id: str, *, after: str | None, limit: int
    ) -> list[IdentityProviderRecord]:
        p = userpool_identity_providers.c
        query = (
            select(userpool_identity_providers)
            .where(p.pool_id == pool_id)
            .order_by(p.name)
            .limit(limit)
        )
        if after is not None:
            query = query.where(p.name > after)
        return [provider_of(row) for row in await self._rows(query)]

    async def update_provider(self, provider: IdentityProviderRecord) -> bool:
        values = provider_values(provider)
        del values["created"]
        p = userpool_identity_providers.c
        return await self._update(
            userpool_identity_providers,
            (p.pool_id == provider.pool_id) & (p.name == provider.name),
            values,
        )

    async def delete_provider(self, pool_id: str, name: str) -> bool:
        p = userpool_identity_providers.c
        async with self._writer.begin() as conn:
            result = await conn.execute(
                delete(userpool_identity_providers).where((p.pool_id == pool_id) & (p.name == name))
            )
        return result.rowcount > 0

    async def prune(self, now: float, *, session_grace: float) -> None:
        async with self._writer.begin() as conn:
            await conn.execute(
                delete(userpool_auth_codes).where(userpool_auth_codes.c.expires_at < now)
            )
            await conn.execute(delete(userpool_codes).where(userpool_codes.c.expires_at < now))
            await conn.execute(delete(userpool_spent).where(userpool_spent.c.expires_at < now))
            await conn.execute(
                delete(userpool_sessions).where(
                    userpool_sessions.c.expires_at < now - session_grace
                )
            )

    async def _update(self, table: Table, where: Any, values: dict[str, object]) -> bool:
        async with self._writer.begin() as conn:
            result = await conn.execute(update(table).where(where).values(**values))
        return result.rowcount > 0


async def _write_aliases(conn: AsyncConnection, user: UserRecord, found: Sequence[Alias]) -> None:
    for alias in found:
        await conn.execute(
            insert(aliases).values(
                pool_id=user.pool_id, kind=alias.kind, value_key=alias.key, username=user.username
            )
        )


async def _which_duplicate(conn: AsyncConnection, user: UserRecord) -> Duplicate:
    """After a failed write: name the alias another user holds, else the username or sub."""
    a = aliases.c
    for alias in user.aliases:
        holder = await conn.execute(
            select(a.username).where(
                (a.pool_id == user.pool_id) & (a.kind == alias.kind) & (a.value_key == alias.key)
            )
        )
        row = holder.first()
        if row is not None and row.username != user.username:
            return Duplicate(f"alias:{alias.kind}")
    return Duplicate("user")
