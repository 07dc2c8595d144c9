"""The UserPoolStore contract, run against every records backend."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from authgate.identity.model import (
    Alias,
    ClientRecord,
    CodePurpose,
    CodeRecord,
    GroupRecord,
    KeyRow,
    PoolRecord,
    ResourceServer,
    SessionRecord,
    UserRecord,
    UserStatus,
)
from authgate.identity.store import Duplicate
from authgate.storage.sql.userpools import SqlUserPoolStore
from tests.contract import records

Backend = records.Backend[SqlUserPoolStore]
backend = records.backend_fixture(SqlUserPoolStore)
POOL = "us-east-1_Contract1"


@pytest.fixture
async def store(backend: Backend) -> SqlUserPoolStore:
    made = await backend.open()
    await made.insert_pool(
        pool(POOL), [key(POOL, "kid-id", "id"), key(POOL, "kid-ac", "access", 2.0)]
    )
    return made


def pool(pool_id: str) -> PoolRecord:
    return PoolRecord(pool_id, "name " + pool_id, 1.0, 2.0, {"MfaConfiguration": "OFF"})


def key(pool_id: str, kid: str, use: str, created: float = 1.0) -> KeyRow:
    return KeyRow(pool_id, kid, use, created, None, b"sealed " + kid.encode())


def user(name: str, sub: str, *aliases: Alias, pool_id: str = POOL) -> UserRecord:
    return UserRecord(
        pool_id=pool_id,
        username=name,
        username_key=name.lower(),
        sub=sub,
        status=UserStatus.CONFIRMED,
        enabled=True,
        created=1.0,
        updated=1.0,
        attributes={"email": f"{name}@example.com", "email_verified": "true"},
        aliases=aliases,
        password_hash="$argon2id$...",
        sealed_srp=b"srp",
        mfa_enabled=("SOFTWARE_TOKEN_MFA",),
        totp_last_step=7,
    )


def session(origin: str, name: str, sub: str, *, expires_at: float = 100.0) -> SessionRecord:
    return SessionRecord(
        origin_jti=origin,
        pool_id=POOL,
        username=name,
        sub=sub,
        client_id="client1",
        created=1.0,
        expires_at=expires_at,
        auth_time=1,
        refresh_digest="digest-" + origin,
    )


async def test_pools_with_keys_pages_and_duplicates(store: SqlUserPoolStore) -> None:
    found = await store.get_pool(POOL)
    assert found == pool(POOL)
    with pytest.raises(Duplicate) as raised:
        await store.insert_pool(pool(POOL), [])
    assert raised.value.what == "pool"
    for suffix in ("B", "C"):
        await store.insert_pool(pool(POOL + suffix), [key(POOL + suffix, "k" + suffix, "id")])
    first = await store.list_pools(after=None, limit=2)
    rest = await store.list_pools(after=first[-1].id, limit=2)
    assert [p.id for p in first + rest] == [POOL, POOL + "B", POOL + "C"]
    assert [k.kid for k in await store.signing_keys(POOL)] == ["kid-id", "kid-ac"]
    assert len(await store.signing_keys()) == 4
    assert await store.update_pool(replace(found, name="renamed", updated=3.0))
    assert (await store.get_pool(POOL)).name == "renamed"  # type: ignore[union-attr]
    await store.replace_signing_keys(POOL, [replace(key(POOL, "new", "id", 5.0), retired=None)])
    assert [k.kid for k in await store.signing_keys(POOL)] == ["new"]


async def test_deleting_a_pool_takes_everything_in_it(store: SqlUserPoolStore) -> None:
    await store.insert_client(ClientRecord("client1", POOL, "app", 1.0, 1.0, {}, b"secret"))
    await store.insert_user(user("ann", "sub-ann", Alias("email", "ann@example.com")))
    await store.insert_group(GroupRecord(POOL, "g", None, None, None, 1.0, 1.0))
    await store.add_member(POOL, "g", "ann")
    await store.insert_session(session("s1", "ann", "sub-ann"))
    assert await store.delete_pool(POOL)
    assert await store.get_pool(POOL) is None
    assert await store.get_client("client1") is None
    assert await store.find_by_sub(POOL, "sub-ann") is None
    assert await store.get_session("s1") is None
    assert await store.signing_keys(POOL) == []
    assert not await store.delete_pool(POOL)


async def test_clients_and_resource_servers(store: SqlUserPoolStore) -> None:
    client = ClientRecord("client1", POOL, "app", 1.0, 1.0, {"AuthSessionValidity": 3}, None)
    await store.insert_client(client)
    with pytest.raises(Duplicate):
        await store.insert_client(client)
    assert await store.get_client("client1") == client
    await store.insert_client(replace(client, id="client2", name="other"))
    assert [c.id for c in await store.list_clients(POOL, after="client1", limit=5)] == ["client2"]
    assert await store.update_client(replace(client, name="renamed", sealed_secret=b"s"))
    assert (await store.get_client("client1")).sealed_secret == b"s"  # type: ignore[union-attr]
    assert not await store.delete_client("us-east-1_Other", "client1")
    assert await store.delete_client(POOL, "client1")
    server = ResourceServer(POOL, "https://api", "api", (("read", "Read"),))
    await store.insert_resource_server(server)
    with pytest.raises(Duplicate):
        await store.insert_resource_server(server)
    assert await store.get_resource_server(POOL, "https://api") == server
    assert await store.list_resource_servers(POOL) == [server]


async def test_users_by_name_alias_and_sub(store: SqlUserPoolStore) -> None:
    ann = user("Ann", "sub-ann", Alias("email", "ann@example.com"))
    await store.insert_user(ann)
    assert await store.get_user(POOL, "ann") == ann
    assert await store.find_by_alias(POOL, Alias("email", "ann@example.com")) == ann
    assert await store.find_by_sub(POOL, "sub-ann") == ann
    assert await store.find_by_sub("us-east-1_Other", "sub-ann") is None
    for duplicate, what in (
        (user("ANN", "sub-2"), "user"),
        (user("bob", "sub-ann"), "user"),
        (user("bob", "sub-3", Alias("email", "ann@example.com")), "alias:email"),
    ):
        with pytest.raises(Duplicate) as raised:
            await store.insert_user(duplicate)
        assert raised.value.what == what
    assert await store.get_user(POOL, "bob") is None


async def test_updates_compare_versions_and_rewrite_aliases(store: SqlUserPoolStore) -> None:
    await store.insert_user(user("ann", "sub-ann", Alias("email", "ann@example.com")))
    await store.insert_user(user("bob", "sub-bob", Alias("email", "bob@example.com")))
    ann = await store.get_user(POOL, "ann")
    assert ann is not None
    moved = replace(ann, aliases=(Alias("email", "new@example.com"),), version=1, enabled=False)
    assert await store.update_user(moved)
    assert not await store.update_user(replace(moved, version=1))  # stale: version 0 is gone
    assert await store.find_by_alias(POOL, Alias("email", "ann@example.com")) is None
    found = await store.find_by_alias(POOL, Alias("email", "new@example.com"))
    assert found is not None
    assert found.enabled is False
    with pytest.raises(Duplicate) as raised:
        await store.update_user(
            replace(found, aliases=(Alias("email", "bob@example.com"),), version=2)
        )
    assert raised.value.what == "alias:email"
    assert (await store.get_user(POOL, "ann")).version == 1  # type: ignore[union-attr]


async def test_racing_updates_one_wins(store: SqlUserPoolStore) -> None:
    await store.insert_user(user("ann", "sub-ann"))
    ann = await store.get_user(POOL, "ann")
    assert ann is not None
    results = await asyncio.gather(
        *(store.update_user(replace(ann, failed_attempts=n, version=1)) for n in range(1, 6))
    )
    assert sorted(results) == [False, False, False, False, True]


async def test_groups_and_members(store: SqlUserPoolStore) -> None:
    for name in ("ann", "bob", "cy"):
        await store.insert_user(user(name, "sub-" + name))
    for group in ("b-group", "a-group"):
        await store.insert_group(GroupRecord(POOL, group, "about", None, 1, 1.0, 1.0))
    with pytest.raises(Duplicate):
        await store.insert_group(GroupRecord(POOL, "a-group", None, None, None, 1.0, 1.0))
    assert await store.add_member(POOL, "a-group", "ann")
    assert await store.add_member(POOL, "a-group", "ann")  # already a member is fine
    assert not await store.add_member(POOL, "a-group", "nobody")
    assert not await store.add_member(POOL, "no-group", "ann")
    await store.add_member(POOL, "b-group", "ann")
    await store.add_member(POOL, "a-group", "cy")
    assert [g.name for g in await store.groups_of(POOL, "ann")] == ["a-group", "b-group"]
    page = await store.members_of(POOL, "a-group", after=None, limit=1)
    assert [u.username for u in page] == ["ann"]
    later = await store.members_of(POOL, "a-group", after="ann", limit=5)
    assert [u.username for u in later] == ["cy"]
    await store.remove_member(POOL, "a-group", "cy")
    assert await store.members_of(POOL, "a-group", after="ann", limit=5) == []
    assert await store.delete_group(POOL, "b-group")
    assert [g.name for g in await store.groups_of(POOL, "ann")] == ["a-group"]
    await store.delete_user(POOL, "ann")
    assert await store.members_of(POOL, "a-group", after=None, limit=5) == []


async def test_codes_replace_count_and_spend_once(store: SqlUserPoolStore) -> None:
    await store.insert_user(user("ann", "sub-ann"))
    code = CodeRecord(POOL, "ann", CodePurpose.SIGN_UP, "d1", 10.0)
    await store.put_code(code)
    await store.put_code(replace(code, digest="d2"))
    await store.count_code_attempt(POOL, "ann", CodePurpose.SIGN_UP)
    found = await store.get_code(POOL, "ann", CodePurpose.SIGN_UP)
    assert found == replace(code, digest="d2", attempts=1)
    assert await store.get_code(POOL, "ann", CodePurpose.FORGOT_PASSWORD) is None
    assert await store.delete_code(POOL, "ann", CodePurpose.SIGN_UP)
    assert not await store.delete_code(POOL, "ann", CodePurpose.SIGN_UP)


async def test_sessions_revoke_and_prune(store: SqlUserPoolStore) -> None:
    await store.insert_user(user("ann", "sub-ann"))
    for origin in ("s1", "s2"):
        await store.insert_session(session(origin, "ann", "sub-ann"))
    await store.insert_session(session("old", "ann", "sub-ann", expires_at=5.0))
    assert (await store.session_by_refresh("digest-s1")).origin_jti == "s1"  # type: ignore[union-attr]
    assert await store.revoke_session("s1", 50.0)
    assert not await store.revoke_session("s1", 60.0)
    assert (await store.get_session("s1")).revoked_at == 50.0  # type: ignore[union-attr]
    assert await store.revoke_sessions_of(POOL, "ann", 70.0) == 2
    assert (await store.get_session("s2")).revoked_at == 70.0  # type: ignore[union-attr]
    await store.prune(20.0, session_grace=10.0)
    assert await store.get_session("old") is None
    assert await store.get_session("s1") is not None


async def test_one_use_ids(store: SqlUserPoolStore) -> None:
    assert await store.spend("srp:abc", 10.0)
    assert not await store.spend("srp:abc", 10.0)
    results = await asyncio.gather(*(store.spend("race", 10.0) for _ in range(5)))
    assert results.count(True) == 1
    await store.prune(11.0, session_grace=0.0)
    assert await store.spend("srp:abc", 20.0)


async def test_reopened_store_sees_the_same_records(backend: Backend) -> None:
    first = await backend.open()
    await first.insert_pool(pool(POOL), [key(POOL, "k", "id")])
    await first.insert_user(user("ann", "sub-ann", Alias("email", "ann@example.com")))
    second = await backend.open()
    found = await second.find_by_alias(POOL, Alias("email", "ann@example.com"))
    assert found is not None
    assert found.mfa_enabled == ("SOFTWARE_TOKEN_MFA",)
    assert found.totp_last_step == 7
