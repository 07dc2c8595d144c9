"""The UsageStore contract (API keys, usage plans, memberships), run against every records
backend. Backends are listed in BACKENDS; each knows how to open a fresh store and reopen it."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError

from authgate.storage.base import StoreConflict
from authgate.storage.sql.engine import writer
from authgate.storage.sql.schema import usage_key_stages
from authgate.storage.sql.usage import SqlUsageStore
from authgate.usage.model import ApiKey, ApiKeyRecord, ApiStage, Quota, Throttle, UsagePlan
from authgate.usage.quota import Period
from authgate.usage.store import Added, ImportEntry, Limits, MissingRecord, StageTaken, TooMany
from tests.contract import records

LIMITS = Limits(keys=100, plans=10, plans_per_key=3)


Backend = records.Backend[SqlUsageStore]
backend = records.backend_fixture(SqlUsageStore)


@pytest.fixture
async def store(backend: Backend) -> SqlUsageStore:
    return await backend.open()


def key(
    key_id: str, name: str = "", *, digest: str | None = None, customer: str = ""
) -> ApiKeyRecord:
    return ApiKeyRecord(
        ApiKey(
            id=key_id,
            name=name or key_id,
            description="about " + key_id,
            enabled=True,
            customer_id=customer,
            created=1.0,
            updated=2.0,
            tags=(("team", "a"),),
        ),
        b"sealed:" + key_id.encode(),
        digest or f"digest-{key_id}",
    )


def plan(plan_id: str, *stages: tuple[str, str], name: str = "") -> UsagePlan:
    return UsagePlan(
        id=plan_id,
        name=name or plan_id,
        description="",
        api_stages=tuple(
            ApiStage(api, stage, (("/pets/GET", Throttle(1.5, 3)),)) for api, stage in stages
        ),
        throttle=Throttle(10.0, None),
        quota=Quota(100, Period.DAY, 5),
        quota_set_at=3.0,
        created=1.0,
        updated=1.0,
        tags=(("tier", "gold"),),
    )


# -- keys ----------------------------------------------------------------------------------------


async def test_keys_insert_get_by_id_and_digest(store: SqlUsageStore) -> None:
    record = key("k1")
    assert await store.insert_key(record, LIMITS) is Added.ADDED
    assert await store.get_key("k1") == record
    assert await store.get_key_by_digest("digest-k1") == record
    assert await store.get_key("nope") is None
    assert await store.get_key_by_digest("nope") is None


async def test_values_are_unique_by_digest(store: SqlUsageStore) -> None:
    assert await store.insert_key(key("k1", digest="same"), LIMITS) is Added.ADDED
    assert await store.insert_key(key("k2", digest="same"), LIMITS) is Added.ALREADY
    assert await store.get_key("k2") is None


async def test_key_limit(store: SqlUsageStore) -> None:
    small = Limits(keys=2)
    assert await store.insert_key(key("k1"), small) is Added.ADDED
    assert await store.insert_key(key("k2"), small) is Added.ADDED
    with pytest.raises(TooMany):
        await store.insert_key(key("k3"), small)


async def test_list_keys_orders_filters_and_pages(store: SqlUsageStore) -> None:
    for key_id, name, customer in [
        ("k5", "beta", "c1"),
        ("k1", "alpha", "c1"),
        ("k3", "alpha", "c2"),
        ("k2", "Alpha", "c1"),
        ("k4", "al%ha", "c1"),
        ("k6", "al_ha", "c1"),
    ]:
        await store.insert_key(key(key_id, name, customer=customer), LIMITS)
    everything = [(r.key.name, r.key.id) for r in await store.list_keys(limit=10)]
    assert everything == sorted(everything)
    assert [r.key.id for r in await store.list_keys(name_prefix="alpha")] == ["k1", "k3"]
    assert [r.key.id for r in await store.list_keys(name_prefix="al%")] == ["k4"]
    assert [r.key.id for r in await store.list_keys(name_prefix="al_")] == ["k6"]
    assert [r.key.id for r in await store.list_keys(customer_id="c2")] == ["k3"]
    page = await store.list_keys(limit=2)
    rest = await store.list_keys(after=(page[-1].key.name, page[-1].key.id), limit=10)
    assert [(r.key.name, r.key.id) for r in page + rest] == everything
    after_first_alpha = await store.list_keys(name_prefix="alpha", after=("alpha", "k1"))
    assert [r.key.id for r in after_first_alpha] == ["k3"]


async def test_update_and_delete_key(store: SqlUsageStore) -> None:
    record = key("k1")
    await store.insert_key(record, LIMITS)
    changed = replace(
        record.key, name="new", description="", enabled=False, customer_id="c", updated=9.0, tags=()
    )
    assert await store.update_key(changed)
    got = await store.get_key("k1")
    assert got is not None
    assert got.key == changed
    assert got.sealed_value == record.sealed_value
    assert not await store.update_key(replace(changed, id="nope"))
    assert await store.delete_key("k1")
    assert not await store.delete_key("k1")
    assert await store.get_key_by_digest("digest-k1") is None


# -- plans ---------------------------------------------------------------------------------------


async def test_plans_round_trip(store: SqlUsageStore) -> None:
    gold = plan("p1", ("a1", "prod"), ("a1", "dev"))
    bare = UsagePlan("p2", "bare", "", (), None, None, None, 1.0, 1.0)
    assert await store.insert_plan(gold, LIMITS) is Added.ADDED
    assert await store.insert_plan(bare, LIMITS) is Added.ADDED
    assert await store.insert_plan(replace(bare, name="again"), LIMITS) is Added.ALREADY
    assert await store.get_plan("p1") == gold
    assert await store.get_plan("p2") == bare
    assert await store.get_plan("nope") is None
    assert [p.id for p in await store.list_plans()] == ["p2", "p1"]


async def test_plan_limit(store: SqlUsageStore) -> None:
    small = Limits(plans=1)
    await store.insert_plan(plan("p1"), small)
    with pytest.raises(TooMany):
        await store.insert_plan(plan("p2"), small)


async def test_replace_plan_checks_the_version(store: SqlUsageStore) -> None:
    await store.insert_plan(plan("p1", ("a1", "prod")), LIMITS)
    stored = await store.get_plan("p1")
    assert stored is not None
    renamed = replace(stored, name="renamed", throttle=None, quota=None, quota_set_at=None)
    assert await store.replace_plan(renamed, expected_version=stored.version)
    again = await store.get_plan("p1")
    assert again == replace(renamed, version=stored.version + 1)
    assert not await store.replace_plan(
        replace(renamed, name="stale"), expected_version=stored.version
    )
    assert not await store.replace_plan(replace(renamed, id="nope"), expected_version=0)
    assert (await store.get_plan("p1")) == again


async def test_delete_plan_keeps_its_keys(store: SqlUsageStore) -> None:
    await store.insert_plan(plan("p1", ("a1", "prod")), LIMITS)
    await store.insert_key(key("k1"), LIMITS)
    await store.add_plan_key("p1", "k1", LIMITS)
    assert await store.delete_plan("p1")
    assert not await store.delete_plan("p1")
    assert await store.get_key("k1") is not None
    assert await store.metered_stages("k1") == {}
    await store.insert_plan(plan("p2", ("a1", "prod")), LIMITS)
    assert await store.add_plan_key("p2", "k1", LIMITS) is Added.ADDED


# -- memberships and the one-plan-per-stage rule -------------------------------------------------


async def test_plan_keys(store: SqlUsageStore) -> None:
    await store.insert_plan(plan("p1", ("a1", "prod")), LIMITS)
    for key_id, name in [("k1", "b"), ("k2", "a"), ("k3", "c")]:
        await store.insert_key(key(key_id, name), LIMITS)
        assert await store.add_plan_key("p1", key_id, LIMITS) is Added.ADDED
    assert await store.add_plan_key("p1", "k1", LIMITS) is Added.ALREADY
    got = await store.get_plan_key("p1", "k1")
    assert got is not None
    assert got.key.id == "k1"
    assert await store.get_plan_key("p1", "nope") is None
    assert [r.key.id for r in await store.list_plan_keys("p1")] == ["k2", "k1", "k3"]
    assert [r.key.id for r in await store.list_plan_keys("p1", name_prefix="c")] == ["k3"]
    assert [r.key.id for r in await store.list_plan_keys("p1", after=("a", "k2"), limit=1)] == [
        "k1"
    ]
    assert [p.id for p in await store.list_plans("k1")] == ["p1"]
    assert await store.metered_stages("k1") == {("a1", "prod"): "p1"}
    assert await store.delete_plan_key("p1", "k1")
    assert not await store.delete_plan_key("p1", "k1")
    assert await store.metered_stages("k1") == {}
    assert await store.metered_by_digest(["digest-k1", "digest-k2", "digest-k3", "nope"]) == {
        "digest-k2": {("a1", "prod"): "p1"},
        "digest-k3": {("a1", "prod"): "p1"},
    }
    assert await store.delete_key("k2")
    assert [r.key.id for r in await store.list_plan_keys("p1")] == ["k3"]


async def test_plan_key_refusals(store: SqlUsageStore) -> None:
    await store.insert_plan(plan("p1", ("a1", "prod")), LIMITS)
    await store.insert_plan(plan("p2", ("a1", "prod"), ("a1", "dev")), LIMITS)
    await store.insert_key(key("k1"), LIMITS)
    with pytest.raises(MissingRecord) as missing:
        await store.add_plan_key("nope", "k1", LIMITS)
    assert missing.value.kind == "usage plan"
    with pytest.raises(MissingRecord) as missing:
        await store.add_plan_key("p1", "nope", LIMITS)
    assert missing.value.kind == "API key"
    await store.add_plan_key("p1", "k1", LIMITS)
    with pytest.raises(StageTaken) as taken:
        await store.add_plan_key("p2", "k1", LIMITS)
    assert (taken.value.key_id, taken.value.api_id, taken.value.stage) == ("k1", "a1", "prod")
    assert [p.id for p in await store.list_plans("k1")] == ["p1"]
    for n in range(3, 5):
        await store.insert_plan(plan(f"p{n}"), LIMITS)
        await store.add_plan_key(f"p{n}", "k1", LIMITS)
    await store.insert_plan(plan("p9"), LIMITS)
    with pytest.raises(TooMany):
        await store.add_plan_key("p9", "k1", LIMITS)


async def test_a_plan_cannot_gain_a_stage_its_keys_are_metered_on(store: SqlUsageStore) -> None:
    await store.insert_plan(plan("p1", ("a1", "prod")), LIMITS)
    await store.insert_plan(plan("p2", ("a1", "dev")), LIMITS)
    await store.insert_key(key("k1"), LIMITS)
    await store.add_plan_key("p1", "k1", LIMITS)
    await store.add_plan_key("p2", "k1", LIMITS)
    p2 = await store.get_plan("p2")
    assert p2 is not None
    wider = replace(p2, api_stages=(*p2.api_stages, ApiStage("a1", "prod")))
    with pytest.raises(StageTaken):
        await store.replace_plan(wider, expected_version=p2.version)
    assert await store.get_plan("p2") == p2
    p1 = await store.get_plan("p1")
    assert p1 is not None
    assert await store.replace_plan(replace(p1, api_stages=()), expected_version=p1.version)
    assert await store.replace_plan(wider, expected_version=p2.version)
    assert await store.metered_stages("k1") == {("a1", "dev"): "p2", ("a1", "prod"): "p2"}


async def test_the_database_itself_refuses_a_key_metered_twice(store: SqlUsageStore) -> None:
    await store.insert_plan(plan("p1", ("a1", "prod")), LIMITS)
    await store.insert_plan(plan("p2"), LIMITS)
    await store.insert_key(key("k1"), LIMITS)
    await store.add_plan_key("p1", "k1", LIMITS)
    await store.add_plan_key("p2", "k1", LIMITS)
    engine = store._engine
    with pytest.raises(IntegrityError):
        async with writer(engine).begin() as conn:
            await conn.execute(
                insert(usage_key_stages).values(
                    key_id="k1", api_id="a1", stage="prod", plan_id="p2"
                )
            )


# -- import and the gateway's view ---------------------------------------------------------------


async def test_import_is_all_or_nothing(store: SqlUsageStore) -> None:
    await store.insert_plan(plan("p1", ("a1", "prod")), LIMITS)
    entries = [ImportEntry(key("k1"), ("p1",)), ImportEntry(key("k2"), ("nope",))]
    with pytest.raises(MissingRecord):
        await store.import_keys(entries, LIMITS)
    assert await store.list_keys() == []
    assert await store.list_plan_keys("p1") == []
    with pytest.raises(TooMany):
        await store.import_keys([ImportEntry(key(f"k{n}")) for n in range(3)], Limits(keys=2))
    assert await store.list_keys() == []


async def test_import_updates_the_key_with_the_same_value(store: SqlUsageStore) -> None:
    await store.insert_plan(plan("p1", ("a1", "prod")), LIMITS)
    await store.insert_key(key("k1", "old", digest="v1"), LIMITS)
    fresh = key("other-id", "new", digest="v1")
    fresh = replace(fresh, key=replace(fresh.key, enabled=False, description="d", updated=7.0))
    ids = await store.import_keys([ImportEntry(fresh, ("p1",)), ImportEntry(key("k2"))], LIMITS)
    assert ids == ["k1", "k2"]
    got = await store.get_key("k1")
    assert got is not None
    assert (got.key.name, got.key.enabled, got.key.description, got.key.updated) == (
        "new",
        False,
        "d",
        7.0,
    )
    assert got.sealed_value == b"sealed:k1"
    assert await store.get_key("other-id") is None
    assert await store.metered_stages("k1") == {("a1", "prod"): "p1"}


async def test_records_view(store: SqlUsageStore) -> None:
    await store.insert_plan(plan("p1", ("a1", "prod")), LIMITS)
    await store.insert_key(key("k1"), LIMITS)
    await store.insert_key(replace(key("k2"), key=replace(key("k2").key, enabled=False)), LIMITS)
    await store.add_plan_key("p1", "k1", LIMITS)
    records = await store.records()
    assert sorted((r.id, r.value_digest, r.enabled) for r in records.keys) == [
        ("k1", "digest-k1", True),
        ("k2", "digest-k2", False),
    ]
    assert [p.id for p in records.plans] == ["p1"]
    assert records.members == (("p1", "k1"),)


async def test_records_survive_reopening(backend: Backend, store: SqlUsageStore) -> None:
    gold = plan("p1", ("a1", "prod"))
    await store.insert_plan(gold, LIMITS)
    await store.insert_key(key("k1"), LIMITS)
    await store.add_plan_key("p1", "k1", LIMITS)
    await backend.close()
    reopened = await backend.open()
    assert await reopened.get_plan("p1") == gold
    assert await reopened.get_key("k1") == key("k1")
    assert await reopened.metered_stages("k1") == {("a1", "prod"): "p1"}


async def test_racing_writers_cannot_meter_a_key_twice(
    backend: Backend, store: SqlUsageStore
) -> None:
    """Two connections add one key to two plans on the same stage at once: one wins."""
    other = await backend.open()
    await store.insert_key(key("k1"), LIMITS)
    for n in range(8):
        await store.insert_plan(plan(f"p{n}", ("a1", "prod")), LIMITS)
    stores = [store, other] * 4
    outcomes = await asyncio.wait_for(
        asyncio.gather(
            *(
                s.add_plan_key(f"p{n}", "k1", Limits(plans_per_key=10))
                for n, s in enumerate(stores)
            ),
            return_exceptions=True,
        ),
        timeout=20,
    )
    assert sum(outcome is Added.ADDED for outcome in outcomes) == 1
    assert all(o is Added.ADDED or isinstance(o, StageTaken | StoreConflict) for o in outcomes)
    assert len(await store.list_plans("k1")) == 1


async def race(*calls: Any) -> list[Any]:
    """Run the calls at once; their outcomes, exceptions included."""
    return await asyncio.wait_for(asyncio.gather(*calls, return_exceptions=True), timeout=20)


async def test_racing_replacements_of_one_version_let_one_through(
    backend: Backend, store: SqlUsageStore
) -> None:
    """Optimistic concurrency across connections: of writers that read the same version, one
    replaces the plan and the others are told they lost."""
    others = [await backend.open() for _ in range(3)]
    await store.insert_plan(plan("p1", ("a1", "prod")), LIMITS)
    renamed = [replace(plan("p1", ("a1", "prod")), name=f"n{i}") for i in range(4)]
    outcomes = await race(
        *(
            s.replace_plan(p, expected_version=0)
            for s, p in zip([store, *others], renamed, strict=True)
        )
    )
    assert sorted(outcomes) == [False, False, False, True]
    stored = await store.get_plan("p1")
    assert stored is not None
    assert stored.version == 1
    assert stored.name == renamed[outcomes.index(True)].name


async def test_racing_writers_cannot_pass_the_key_limit(
    backend: Backend, store: SqlUsageStore
) -> None:
    stores = [store, *[await backend.open() for _ in range(3)]] * 2
    small = Limits(keys=3)
    outcomes = await race(*(s.insert_key(key(f"k{n}"), small) for n, s in enumerate(stores)))
    assert sum(o is Added.ADDED for o in outcomes) == 3
    assert all(o is Added.ADDED or isinstance(o, TooMany) for o in outcomes), outcomes
    assert len(await store.list_keys(limit=25)) == 3


async def test_racing_writers_cannot_pass_the_plans_per_key_limit(
    backend: Backend, store: SqlUsageStore
) -> None:
    stores = [store, *[await backend.open() for _ in range(3)]] * 2
    await store.insert_key(key("k1"), LIMITS)
    for n in range(len(stores)):
        await store.insert_plan(plan(f"p{n}", (f"a{n}", "prod")), LIMITS)
    outcomes = await race(*(s.add_plan_key(f"p{n}", "k1", LIMITS) for n, s in enumerate(stores)))
    assert sum(o is Added.ADDED for o in outcomes) == LIMITS.plans_per_key
    assert all(o is Added.ADDED or isinstance(o, TooMany) for o in outcomes), outcomes
    assert len(await store.list_plans("k1")) == LIMITS.plans_per_key


async def test_a_key_joining_while_its_plan_changes_stages_is_metered_on_the_new_ones(
    backend: Backend, store: SqlUsageStore
) -> None:
    """Joining a plan and moving the plan to other stages, at once over two connections: the
    key ends metered on exactly the stages the plan has in the end."""
    other = await backend.open()
    moved = replace(plan("p1", ("a1", "beta")), version=1)
    for round_ in range(6):
        plan_id, key_id = f"p{round_}", f"k{round_}"
        await store.insert_plan(replace(plan("p1", ("a1", "prod")), id=plan_id), LIMITS)
        await store.insert_key(key(key_id), LIMITS)
        joined, replaced = await race(
            other.add_plan_key(plan_id, key_id, LIMITS),
            store.replace_plan(replace(moved, id=plan_id), expected_version=0),
        )
        assert (joined, replaced) == (Added.ADDED, True)
        assert await store.metered_stages(key_id) == {("a1", "beta"): plan_id}
