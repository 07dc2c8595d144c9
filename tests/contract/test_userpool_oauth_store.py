"""The UserPoolStore's OAuth verbs on every records backend: authorization codes taken once,
the scopes of OAuth sessions, and identity providers."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from authgate.identity.model import AuthCodeRecord, IdentityProviderRecord
from authgate.identity.store import Duplicate
from authgate.storage.sql.userpools import SqlUserPoolStore
from tests.contract import records
from tests.contract.test_userpool_store import POOL, key, pool, session, user

Backend = records.Backend[SqlUserPoolStore]
backend = records.backend_fixture(SqlUserPoolStore)


@pytest.fixture
async def store(backend: Backend) -> SqlUserPoolStore:
    made = await backend.open()
    await made.insert_pool(pool(POOL), [key(POOL, "kid-id", "id")])
    await made.insert_user(user("ann", "00000000-0000-0000-0000-00000000000a"))
    return made


def code(digest: str, *, expires_at: float = 100.0) -> AuthCodeRecord:
    return AuthCodeRecord(
        digest=digest,
        pool_id=POOL,
        client_id="client1",
        username="ann",
        sub="00000000-0000-0000-0000-00000000000a",
        redirect_uri="https://app.example.com/cb",
        scopes=("openid", "email"),
        auth_time=1_800_000_000,
        expires_at=expires_at,
        code_challenge="E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        nonce="n-1",
    )


async def test_a_code_is_taken_once_even_by_racing_takers(store: SqlUserPoolStore) -> None:
    await store.insert_auth_code(code("a" * 64))
    taken = await asyncio.gather(*(store.take_auth_code("a" * 64) for _ in range(5)))
    found = [t for t in taken if t is not None]
    assert found == [code("a" * 64)]
    assert await store.take_auth_code("a" * 64) is None
    assert await store.take_auth_code("b" * 64) is None


async def test_expired_codes_are_pruned_and_go_with_their_pool(store: SqlUserPoolStore) -> None:
    await store.insert_auth_code(code("c" * 64, expires_at=10.0))
    await store.insert_auth_code(code("d" * 64, expires_at=50.0))
    await store.prune(20.0, session_grace=0.0)
    assert await store.take_auth_code("c" * 64) is None
    await store.delete_pool(POOL)
    assert await store.take_auth_code("d" * 64) is None


async def test_oauth_sessions_keep_their_scopes(store: SqlUserPoolStore) -> None:
    sub = "00000000-0000-0000-0000-00000000000a"
    native = session("10000000-0000-0000-0000-000000000001", "ann", sub)
    granted = replace(
        session("10000000-0000-0000-0000-000000000002", "ann", sub),
        refresh_digest="f" * 64,
        scopes=("openid", "profile"),
    )
    await store.insert_session(native)
    await store.insert_session(granted)
    assert await store.get_session(native.origin_jti) == native
    assert (await store.get_session(granted.origin_jti)) == granted
    assert await store.session_by_refresh("f" * 64) == granted
    await store.delete_user(POOL, "ann")
    assert await store.get_session(granted.origin_jti) is None


def provider(name: str, **changes: object) -> IdentityProviderRecord:
    made = IdentityProviderRecord(
        pool_id=POOL,
        name=name,
        type="OIDC",
        details={"client_id": "upstream", "oidc_issuer": "https://idp.example.com"},
        attribute_mapping={"email": "email"},
        identifiers=("example.com",),
        created=1.0,
        updated=1.0,
        sealed_secret=b"sealed secret",
    )
    return replace(made, **changes)  # type: ignore[arg-type]


async def test_identity_providers(store: SqlUserPoolStore) -> None:
    await store.insert_provider(provider("Corp"))
    await store.insert_provider(provider("Alt", sealed_secret=None))
    with pytest.raises(Duplicate) as raised:
        await store.insert_provider(provider("Corp"))
    assert raised.value.what == "identity_provider"
    assert await store.get_provider(POOL, "Corp") == provider("Corp")
    assert await store.get_provider(POOL, "Nope") is None
    listed = await store.list_providers(POOL, after=None, limit=1)
    assert [p.name for p in listed] == ["Alt"]
    rest = await store.list_providers(POOL, after="Alt", limit=10)
    assert [p.name for p in rest] == ["Corp"]
    changed = provider("Corp", attribute_mapping={"name": "name"}, updated=5.0)
    assert await store.update_provider(changed)
    assert await store.get_provider(POOL, "Corp") == changed
    assert not await store.update_provider(provider("Nope"))
    assert await store.delete_provider(POOL, "Alt")
    assert not await store.delete_provider(POOL, "Alt")
    await store.delete_pool(POOL)
    assert await store.get_provider(POOL, "Corp") is None
