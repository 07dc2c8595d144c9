"""The IamStore contract, run against every records backend.

Backends are listed in BACKENDS; each entry knows how to open a fresh, empty store (and to
reopen the same one). A PostgreSQL entry only needs a URL to a throwaway database.
"""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from authgate.errors import ConfigError
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
from authgate.storage.sql.engine import async_url, open_engine
from authgate.storage.sql.iam import SqlIamStore
from tests.contract import records

ACCOUNT = "123456789012"


Backend = records.Backend[SqlIamStore]
backend = records.backend_fixture(SqlIamStore)


@pytest.fixture
async def store(backend: Backend) -> SqlIamStore:
    return await backend.open()


def user(
    name: str, uid: str | None = None, path: str = "/", tags: tuple[tuple[str, str], ...] = ()
) -> User:
    return User(
        name=name,
        id=uid or f"AIDA{name.upper():X<17}"[:21],
        arn=f"arn:aws:iam::{ACCOUNT}:user{path}{name}",
        path=path,
        created=1_700_000_000.5,
        tags=tags,
    )


def group(name: str, path: str = "/") -> Group:
    return Group(
        name,
        f"AGPA{name.upper():X<17}"[:21],
        f"arn:aws:iam::{ACCOUNT}:group{path}{name}",
        path,
        1.0,
    )


def role(name: str, path: str = "/") -> Role:
    return Role(
        name=name,
        id=f"AROA{name.upper():X<17}"[:21],
        arn=f"arn:aws:iam::{ACCOUNT}:role{path}{name}",
        path=path,
        created=2.0,
        trust_policy='{"Statement": []}',
        max_session_duration=7200,
        description="a role",
    )


def policy(name: str, path: str = "/") -> ManagedPolicy:
    return ManagedPolicy(
        name=name,
        id=f"ANPA{name.upper():X<17}"[:21],
        arn=f"arn:aws:iam::{ACCOUNT}:policy{path}{name}",
        path=path,
        created=3.0,
        document='{"Version": "2012-10-17"}',
    )


def key(key_id: str, owner: User, status: KeyStatus = KeyStatus.ACTIVE) -> AccessKeyRecord:
    return AccessKeyRecord(
        AccessKey(key_id, owner.name, status, 4.0), owner.id, b"sealed:" + key_id.encode()
    )


def temporary(
    key_id: str,
    *,
    role_id: str | None = None,
    user_id: str | None = None,
    expiration: float = 100.0,
) -> TemporaryCredentialRecord:
    return TemporaryCredentialRecord(
        access_key_id=key_id,
        sealed_secret=b"sealed-temp",
        token_sha256="ab" * 32,
        created=10.0,
        expiration=expiration,
        session_name="sess",
        user_id=user_id,
        role_id=role_id,
        session_policy='{"Statement": []}' if role_id else None,
    )


# -- users -------------------------------------------------------------------------------------


async def test_users_insert_get_list_delete(store: SqlIamStore) -> None:
    alice = user("Alice", tags=(("team", "a"), ("cost", "")))
    assert await store.insert_user(alice)
    assert await store.get_user("Alice") == alice
    assert await store.get_user("aLICE") == alice, "names are case-insensitive"
    assert await store.get_user_by_id(alice.id) == alice
    assert await store.get_user("bob") is None
    assert await store.get_user_by_id("AIDANOPE") is None
    assert await store.count_users() == 1
    assert await store.delete_user(alice.id)
    assert not await store.delete_user(alice.id)
    assert await store.get_user("alice") is None
    assert await store.count_users() == 0


async def test_user_names_are_unique_ignoring_case(store: SqlIamStore) -> None:
    assert await store.insert_user(user("alice", "AIDA1"))
    assert not await store.insert_user(user("ALICE", "AIDA2"))
    assert not await store.insert_user(user("alice", "AIDA3", path="/other/"))
    assert [u.id for u in await store.list_users()] == ["AIDA1"]


async def test_list_users_by_path_prefix(store: SqlIamStore) -> None:
    for name, path in [
        ("c", "/"),
        ("b", "/eng/"),
        ("a", "/eng/web/"),
        ("d", "/e_g/"),
        ("e", "/sales/"),
        ("f", "/Eng/"),
    ]:
        assert await store.insert_user(user(name, path=path))
    assert [u.name for u in await store.list_users()] == ["a", "b", "c", "d", "e", "f"]
    assert [u.name for u in await store.list_users("/eng/")] == ["a", "b"], "case counts"
    assert [u.name for u in await store.list_users("/Eng/")] == ["f"]
    assert [u.name for u in await store.list_users("/eng/web/")] == ["a"]
    assert [u.name for u in await store.list_users("/e_")] == ["d"], "_ is not a wildcard"
    assert [u.name for u in await store.list_users("/e%")] == []
    assert await store.list_users("/nobody/") == []


async def test_records_survive_reopening(backend: Backend, store: SqlIamStore) -> None:
    alice = user("alice")
    assert await store.insert_user(alice)
    assert await store.insert_access_key(key("AKIA1", alice), max_per_user=2)
    await backend.close()
    reopened = await backend.open()
    assert await reopened.get_user("alice") == alice
    record = await reopened.get_access_key("AKIA1")
    assert record is not None
    assert record.sealed_secret == b"sealed:AKIA1"


# -- groups and membership ---------------------------------------------------------------------


async def test_groups_and_members(store: SqlIamStore) -> None:
    alice, bob = user("alice"), user("bob")
    devs, ops = group("devs"), group("ops", "/x/")
    for u in (alice, bob):
        assert await store.insert_user(u)
    for g in (devs, ops):
        assert await store.insert_group(g)
    assert not await store.insert_group(group("DEVS"))
    assert await store.get_group("Devs") == devs
    assert await store.get_group("nope") is None
    assert [g.name for g in await store.list_groups()] == ["devs", "ops"]
    assert [g.name for g in await store.list_groups("/x/")] == ["ops"]

    assert await store.add_member(devs.id, alice.id)
    assert not await store.add_member(devs.id, alice.id), "already a member"
    assert await store.add_member(devs.id, bob.id)
    assert await store.add_member(ops.id, bob.id)
    assert await store.list_members(devs.id) == [alice, bob]
    assert await store.list_groups_for_user(bob.id) == [devs, ops]
    assert await store.list_groups_for_user(alice.id) == [devs]

    assert await store.remove_member(devs.id, bob.id)
    assert not await store.remove_member(devs.id, bob.id)
    assert await store.list_members(devs.id) == [alice]


async def test_membership_blocks_deletes(store: SqlIamStore) -> None:
    alice, devs = user("alice"), group("devs")
    assert await store.insert_user(alice)
    assert await store.insert_group(devs)
    assert await store.add_member(devs.id, alice.id)
    with pytest.raises(StoreConflict):
        await store.delete_user(alice.id)
    with pytest.raises(StoreConflict):
        await store.delete_group(devs.id)
    assert await store.remove_member(devs.id, alice.id)
    assert await store.delete_group(devs.id)
    assert not await store.delete_group(devs.id)
    assert await store.delete_user(alice.id)


async def test_membership_of_missing_rows_conflicts(store: SqlIamStore) -> None:
    devs = group("devs")
    assert await store.insert_group(devs)
    with pytest.raises(StoreConflict):
        await store.add_member(devs.id, "AIDAMISSING")
    with pytest.raises(StoreConflict):
        await store.add_member("AGPAMISSING", "AIDAMISSING")


# -- roles -------------------------------------------------------------------------------------


async def test_roles(store: SqlIamStore) -> None:
    admin, reader = role("Admin"), role("reader", "/ro/")
    assert await store.insert_role(admin)
    assert await store.insert_role(reader)
    assert not await store.insert_role(role("admin"))
    assert await store.get_role("ADMIN") == admin
    assert await store.get_role_by_id(reader.id) == reader
    assert await store.get_role("nope") is None
    assert [r.name for r in await store.list_roles()] == ["Admin", "reader"]
    assert [r.name for r in await store.list_roles("/ro/")] == ["reader"]

    changed = replace(admin, trust_policy="{}", description="new", max_session_duration=3600)
    assert await store.update_role(changed)
    assert await store.get_role("admin") == changed
    assert not await store.update_role(role("ghost"))

    assert await store.delete_role(admin.id)
    assert not await store.delete_role(admin.id)
    assert await store.get_role("admin") is None


# -- inline policies ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(PrincipalKind))
async def test_inline_policies(store: SqlIamStore, kind: PrincipalKind) -> None:
    owner_id = await _owner(store, kind)
    assert await store.list_inline_policies(kind, owner_id) == []
    await store.put_inline_policy(kind, owner_id, "b", "doc-b")
    await store.put_inline_policy(kind, owner_id, "a", "doc-a")
    await store.put_inline_policy(kind, owner_id, "b", "doc-b2")
    assert await store.list_inline_policies(kind, owner_id) == [("a", "doc-a"), ("b", "doc-b2")]
    assert await store.get_inline_policy(kind, owner_id, "b") == "doc-b2"
    assert await store.get_inline_policy(kind, owner_id, "c") is None
    for other in PrincipalKind:
        if other is not kind:
            assert await store.list_inline_policies(other, owner_id) == []
    with pytest.raises(StoreConflict):
        await _delete_owner(store, kind, owner_id)
    assert await store.delete_inline_policy(kind, owner_id, "a")
    assert not await store.delete_inline_policy(kind, owner_id, "a")
    assert await store.delete_inline_policy(kind, owner_id, "b")
    assert await _delete_owner(store, kind, owner_id)


@pytest.mark.parametrize("kind", list(PrincipalKind))
async def test_inline_policy_of_missing_owner_conflicts(
    store: SqlIamStore, kind: PrincipalKind
) -> None:
    with pytest.raises(StoreConflict):
        await store.put_inline_policy(kind, "MISSING", "p", "doc")


async def _owner(store: SqlIamStore, kind: PrincipalKind) -> str:
    if kind is PrincipalKind.USER:
        assert await store.insert_user(user("owner"))
        return user("owner").id
    if kind is PrincipalKind.GROUP:
        assert await store.insert_group(group("owner"))
        return group("owner").id
    assert await store.insert_role(role("owner"))
    return role("owner").id


async def _delete_owner(store: SqlIamStore, kind: PrincipalKind, owner_id: str) -> bool:
    if kind is PrincipalKind.USER:
        return await store.delete_user(owner_id)
    if kind is PrincipalKind.GROUP:
        return await store.delete_group(owner_id)
    return await store.delete_role(owner_id)


# -- managed policies and attachments ----------------------------------------------------------


async def test_managed_policies(store: SqlIamStore) -> None:
    read, write = policy("Read"), policy("write", "/team/")
    assert await store.insert_policy(read, "reads things")
    assert await store.insert_policy(write)
    assert not await store.insert_policy(replace(policy("read", "/other/"), id="ANPAOTHER"))
    assert await store.get_policy(read.arn) == read
    assert await store.get_policy(read.arn.lower()) is None, "ARNs are exact"
    assert await store.get_policy_description(read.id) == "reads things"
    assert await store.get_policy_description(write.id) == ""
    assert await store.get_policy_description("ANPANOPE") is None
    assert [p.name for p in await store.list_policies()] == ["Read", "write"]
    assert [p.name for p in await store.list_policies("/team/")] == ["write"]
    assert await store.delete_policy(write.id)
    assert not await store.delete_policy(write.id)


async def test_attachments_count_and_block_deletes(store: SqlIamStore) -> None:
    read = policy("read")
    owners = {kind: await _owner(store, kind) for kind in PrincipalKind}
    assert await store.insert_policy(read)
    for kind, owner_id in owners.items():
        assert await store.attach_policy(kind, owner_id, read.id)
        assert not await store.attach_policy(kind, owner_id, read.id)
        assert await store.list_attached_policies(kind, owner_id) == [
            replace(read, attachment_count=list(owners).index(kind) + 1)
        ]
    fetched = await store.get_policy(read.arn)
    assert fetched is not None
    assert fetched.attachment_count == 3
    assert [p.attachment_count for p in await store.list_policies()] == [3]
    with pytest.raises(StoreConflict):
        await store.delete_policy(read.id)
    for kind, owner_id in owners.items():
        with pytest.raises(StoreConflict):
            await _delete_owner(store, kind, owner_id)
        assert await store.detach_policy(kind, owner_id, read.id)
        assert not await store.detach_policy(kind, owner_id, read.id)
        assert await store.list_attached_policies(kind, owner_id) == []
    assert await store.delete_policy(read.id)


async def test_attaching_missing_rows_conflicts(store: SqlIamStore) -> None:
    owner_id = await _owner(store, PrincipalKind.USER)
    with pytest.raises(StoreConflict):
        await store.attach_policy(PrincipalKind.USER, owner_id, "ANPAMISSING")


# -- access keys -------------------------------------------------------------------------------


async def test_access_keys(store: SqlIamStore) -> None:
    alice, bob = user("alice"), user("bob")
    assert await store.insert_user(alice)
    assert await store.insert_user(bob)
    assert await store.insert_access_key(key("AKIA1", alice), max_per_user=2)
    assert await store.insert_access_key(key("AKIA2", alice, KeyStatus.INACTIVE), max_per_user=2)
    assert not await store.insert_access_key(key("AKIA3", alice), max_per_user=2)
    assert await store.insert_access_key(key("AKIA4", bob), max_per_user=2)

    record = await store.get_access_key("AKIA2")
    assert record == key("AKIA2", alice, KeyStatus.INACTIVE)
    assert await store.get_access_key("AKIA3") is None
    assert [k.id for k in await store.list_access_keys(alice.id)] == ["AKIA1", "AKIA2"]

    assert not await store.set_access_key_status(bob.id, "AKIA1", KeyStatus.INACTIVE)
    assert await store.set_access_key_status(alice.id, "AKIA1", KeyStatus.INACTIVE)
    again = await store.get_access_key("AKIA1")
    assert again is not None
    assert again.key.status is KeyStatus.INACTIVE

    with pytest.raises(StoreConflict):
        await store.delete_user(alice.id)
    assert not await store.delete_access_key(bob.id, "AKIA1"), "only the owner's keys"
    assert await store.delete_access_key(alice.id, "AKIA1")
    assert not await store.delete_access_key(alice.id, "AKIA1")
    assert await store.insert_access_key(key("AKIA5", alice), max_per_user=2), "a slot freed"
    assert [k.id for k in await store.list_access_keys(alice.id)] == ["AKIA2", "AKIA5"]


async def test_access_key_limit_holds_under_concurrency(store: SqlIamStore) -> None:
    alice = user("alice")
    assert await store.insert_user(alice)
    results = await asyncio.wait_for(
        asyncio.gather(
            *(store.insert_access_key(key(f"AKIA{i}", alice), max_per_user=2) for i in range(6))
        ),
        timeout=20,
    )
    assert sorted(results) == [False, False, False, False, True, True]
    assert len(await store.list_access_keys(alice.id)) == 2


async def test_access_key_of_missing_user_conflicts(store: SqlIamStore) -> None:
    with pytest.raises(StoreConflict):
        await store.insert_access_key(key("AKIA1", user("ghost")), max_per_user=2)


# -- temporary credentials ---------------------------------------------------------------------


async def test_temporary_credentials(store: SqlIamStore) -> None:
    alice, admin = user("alice"), role("admin")
    assert await store.insert_user(alice)
    assert await store.insert_role(admin)
    by_role = temporary("ASIA1", role_id=admin.id, expiration=100.0)
    by_user = temporary("ASIA2", user_id=alice.id, expiration=200.0)
    await store.insert_temporary_credential(by_role)
    await store.insert_temporary_credential(by_user)
    assert await store.get_temporary_credential("ASIA1") == by_role
    assert await store.get_temporary_credential("ASIA2") == by_user
    assert await store.get_temporary_credential("ASIA3") is None

    assert await store.delete_expired_credentials(100.0) == 0, "expiring at 100 is not before 100"
    assert await store.delete_expired_credentials(150.0) == 1
    assert await store.get_temporary_credential("ASIA1") is None
    assert await store.get_temporary_credential("ASIA2") == by_user


async def test_temporary_credentials_go_with_their_role_or_user(store: SqlIamStore) -> None:
    alice, admin = user("alice"), role("admin")
    assert await store.insert_user(alice)
    assert await store.insert_role(admin)
    await store.insert_temporary_credential(temporary("ASIA1", role_id=admin.id))
    await store.insert_temporary_credential(temporary("ASIA2", user_id=alice.id))
    assert await store.delete_role(admin.id)
    assert await store.delete_user(alice.id)
    assert await store.get_temporary_credential("ASIA1") is None
    assert await store.get_temporary_credential("ASIA2") is None


async def test_temporary_credentials_of_missing_role_conflict(store: SqlIamStore) -> None:
    with pytest.raises(StoreConflict):
        await store.insert_temporary_credential(temporary("ASIA1", role_id="AROAMISSING"))


# -- resolution --------------------------------------------------------------------------------


async def test_identity_policies_of_a_user_and_its_groups(store: SqlIamStore) -> None:
    alice = user("alice")
    zeta, alpha, other = group("zeta"), group("Alpha"), group("other")
    read, write = policy("read"), policy("Write")
    assert await store.insert_user(alice)
    for g in (zeta, alpha, other):
        assert await store.insert_group(g)
    for p in (read, write):
        assert await store.insert_policy(p)
    assert await store.add_member(zeta.id, alice.id)
    assert await store.add_member(alpha.id, alice.id)
    await store.put_inline_policy(PrincipalKind.USER, alice.id, "own-b", "ub")
    await store.put_inline_policy(PrincipalKind.USER, alice.id, "own-a", "ua")
    assert await store.attach_policy(PrincipalKind.USER, alice.id, write.id)
    assert await store.attach_policy(PrincipalKind.USER, alice.id, read.id)
    await store.put_inline_policy(PrincipalKind.GROUP, zeta.id, "z", "gz")
    assert await store.attach_policy(PrincipalKind.GROUP, zeta.id, read.id)
    await store.put_inline_policy(PrincipalKind.GROUP, alpha.id, "a", "ga")
    await store.put_inline_policy(PrincipalKind.GROUP, other.id, "o", "not alice's")
    doc = read.document
    assert await store.identity_policies(PrincipalKind.USER, alice.id) == [
        OwnedPolicy(PrincipalKind.USER, "alice", "own-a", "ua", managed=False),
        OwnedPolicy(PrincipalKind.USER, "alice", "own-b", "ub", managed=False),
        OwnedPolicy(PrincipalKind.USER, "alice", read.arn, doc, managed=True),
        OwnedPolicy(PrincipalKind.USER, "alice", write.arn, doc, managed=True),
        OwnedPolicy(PrincipalKind.GROUP, "Alpha", "a", "ga", managed=False),
        OwnedPolicy(PrincipalKind.GROUP, "zeta", "z", "gz", managed=False),
        OwnedPolicy(PrincipalKind.GROUP, "zeta", read.arn, doc, managed=True),
    ]
    assert await store.identity_policies(PrincipalKind.USER, "AIDANOBODY") == []


async def test_identity_policies_of_a_role(store: SqlIamStore) -> None:
    admin, read = role("admin"), policy("read")
    assert await store.insert_role(admin)
    assert await store.insert_policy(read)
    assert await store.attach_policy(PrincipalKind.ROLE, admin.id, read.id)
    await store.put_inline_policy(PrincipalKind.ROLE, admin.id, "inline", "ri")
    assert await store.identity_policies(PrincipalKind.ROLE, admin.id) == [
        OwnedPolicy(PrincipalKind.ROLE, "admin", "inline", "ri", managed=False),
        OwnedPolicy(PrincipalKind.ROLE, "admin", read.arn, read.document, managed=True),
    ]


async def test_resolve_access_key(store: SqlIamStore) -> None:
    alice = user("alice", tags=(("t", "v"),))
    assert await store.insert_user(alice)
    assert await store.insert_access_key(key("AKIA1", alice), max_per_user=2)
    await store.put_inline_policy(PrincipalKind.USER, alice.id, "p", "doc")
    assert await store.resolve_access_key("AKIA1") == (
        key("AKIA1", alice),
        alice,
        [OwnedPolicy(PrincipalKind.USER, "alice", "p", "doc", managed=False)],
    )
    assert await store.resolve_access_key("AKIA2") is None


async def test_resolve_temporary_credential(store: SqlIamStore) -> None:
    alice, admin = user("alice"), role("admin")
    assert await store.insert_user(alice)
    assert await store.insert_role(admin)
    await store.put_inline_policy(PrincipalKind.ROLE, admin.id, "r", "role doc")
    await store.put_inline_policy(PrincipalKind.USER, alice.id, "u", "user doc")
    by_role = temporary("ASIA1", role_id=admin.id)
    by_user = temporary("ASIA2", user_id=alice.id)
    await store.insert_temporary_credential(by_role)
    await store.insert_temporary_credential(by_user)
    assert await store.resolve_temporary_credential("ASIA1") == (
        by_role,
        admin,
        [OwnedPolicy(PrincipalKind.ROLE, "admin", "r", "role doc", managed=False)],
    )
    assert await store.resolve_temporary_credential("ASIA2") == (
        by_user,
        alice,
        [OwnedPolicy(PrincipalKind.USER, "alice", "u", "user doc", managed=False)],
    )
    assert await store.resolve_temporary_credential("ASIA3") is None


# -- the SQL engine ----------------------------------------------------------------------------


def test_sqlite_urls_resolve_against_the_base_dir(tmp_path: Path) -> None:
    relative = async_url("sqlite:///data/authgate.db", base_dir=tmp_path)
    assert relative.drivername == "sqlite+aiosqlite"
    assert relative.database == str((tmp_path / "data" / "authgate.db").resolve())
    absolute = async_url(f"sqlite:///{tmp_path}/abs.db", base_dir=Path("/elsewhere"))
    assert absolute.database == str(tmp_path / "abs.db")
    assert async_url("sqlite+aiosqlite:///x.db", base_dir=tmp_path).database == str(
        (tmp_path / "x.db").resolve()
    )
    assert async_url("sqlite://", base_dir=tmp_path).database == ""
    assert async_url("sqlite:///:memory:", base_dir=tmp_path).database == ":memory:"


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://u:p@db:5432/authgate",
        "postgres://u:p@db/authgate",
        "postgresql+psycopg://u:p@db/authgate",
    ],
)
def test_postgresql_urls_use_psycopg(url: str, tmp_path: Path) -> None:
    mapped = async_url(url, base_dir=tmp_path)
    assert mapped.drivername == "postgresql+psycopg"
    assert (mapped.host, mapped.database, mapped.username) == ("db", "authgate", "u")


@pytest.mark.parametrize("url", ["mysql://u:secretpw@h/db", "redis://h", "not a url"])
def test_unsupported_urls_are_configuration_errors(url: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        async_url(url, base_dir=tmp_path)
    assert caught.value.problems[0].location == "records"
    assert "secretpw" not in str(caught.value)


async def test_sqlite_file_runs_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    engine = await open_engine("sqlite:///deep/dir/records.db", base_dir=tmp_path)
    try:
        async with engine.connect() as conn:
            mode = (await conn.exec_driver_sql("PRAGMA journal_mode")).scalar()
            keys = (await conn.exec_driver_sql("PRAGMA foreign_keys")).scalar()
        assert (mode, keys) == ("wal", 1)
    finally:
        await engine.dispose()
    path = tmp_path / "deep" / "dir" / "records.db"
    with sqlite3.connect(path) as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    db.close()
    assert {"iam_users", "iam_access_keys", "iam_temporary_credentials"} <= tables


async def test_opening_twice_keeps_the_tables(tmp_path: Path) -> None:
    first = await open_engine("sqlite:///r.db", base_dir=tmp_path)
    try:
        assert await SqlIamStore(first).insert_user(user("alice"))
    finally:
        await first.dispose()
    second = await open_engine("sqlite:///r.db", base_dir=tmp_path)
    try:
        assert await SqlIamStore(second).count_users() == 1
    finally:
        await second.dispose()


async def test_in_memory_sqlite_works(tmp_path: Path) -> None:
    engine = await open_engine("sqlite://", base_dir=tmp_path)
    try:
        store = SqlIamStore(engine)
        assert await store.insert_user(user("alice"))
        assert await store.count_users() == 1
    finally:
        await engine.dispose()
    assert not any(await asyncio.to_thread(lambda: list(tmp_path.iterdir())))


def test_drivers_are_imported_only_when_used() -> None:
    code = (
        "import sys, authgate.storage.sql.engine, authgate.storage.sql.iam\n"
        "loaded = [m for m in ('aiosqlite', 'psycopg', 'asyncpg') if m in sys.modules]\n"
        "print(','.join(loaded))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == ""
