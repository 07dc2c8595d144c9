"""The gateway's view of keys and plans: joined by value digest, frozen, ready for buckets."""

from __future__ import annotations

import pytest

from authgate.usage import quota as quotas
from authgate.usage.model import (
    ApiStage,
    KeyRow,
    Quota,
    Throttle,
    UsagePlan,
    UsageRecords,
)
from authgate.usage.quota import Period
from authgate.usage.snapshot import PlanEntry, bucket_limit, build_snapshot


def plan(plan_id: str, *stages: ApiStage, quota_set_at: float | None = 50.0) -> UsagePlan:
    return UsagePlan(
        id=plan_id,
        name=plan_id,
        description="",
        api_stages=stages,
        throttle=Throttle(10.0, 20),
        quota=Quota(1000, Period.MONTH, 100),
        quota_set_at=quota_set_at,
        created=7.0,
        updated=7.0,
    )


RECORDS = UsageRecords(
    keys=(KeyRow("k1", "d1", True), KeyRow("k2", "d2", False), KeyRow("k3", "d3", True)),
    plans=(
        plan(
            "gold",
            ApiStage("a1", "prod", (("/pets/GET", Throttle(1.0, 2)), ("//GET", Throttle(5.0)))),
            ApiStage("a1", "dev"),
        ),
        plan("silver", ApiStage("a2", "prod"), quota_set_at=None),
        plan("empty"),
    ),
    members=(("gold", "k1"), ("silver", "k1"), ("silver", "k2"), ("empty", "k3"), ("gone", "k3")),
)


def test_keys_are_found_by_digest_with_their_plans_per_stage() -> None:
    snapshot = build_snapshot(RECORDS, generation=7)
    assert snapshot.generation == 7
    assert set(snapshot.keys_by_digest) == {"d1", "d2", "d3"}
    k1 = snapshot.keys_by_digest["d1"]
    assert (k1.id, k1.enabled) == ("k1", True)
    assert set(k1.plans) == {("a1", "prod"), ("a1", "dev"), ("a2", "prod")}
    prod = k1.plans[("a1", "prod")]
    assert prod == PlanEntry(
        "gold",
        (10.0, 20),
        {"/pets/GET": (1.0, 2), "//GET": (5.0, 5)},
        quotas.Quota(1000, Period.MONTH, 100, 50.0),
    )
    assert k1.plans[("a1", "dev")].method_throttles == {}
    assert k1.plans[("a2", "prod")].quota == quotas.Quota(1000, Period.MONTH, 100, 7.0)
    assert snapshot.keys_by_digest["d2"].enabled is False
    assert snapshot.keys_by_digest["d3"].plans == {}


def test_the_snapshot_is_read_only() -> None:
    snapshot = build_snapshot(RECORDS, generation=1)
    with pytest.raises(TypeError):
        snapshot.keys_by_digest["x"] = snapshot.keys_by_digest["d1"]  # type: ignore[index]
    with pytest.raises(TypeError):
        snapshot.keys_by_digest["d1"].plans[("x", "y")] = None  # type: ignore[index]
    with pytest.raises(AttributeError):
        snapshot.generation = 2  # type: ignore[misc]


@pytest.mark.parametrize(
    ("throttle", "limit"),
    [
        (None, None),
        (Throttle(), None),
        (Throttle(2.0, 4), (2.0, 4)),
        (Throttle(2.5), (2.5, 3)),
        (Throttle(0.1), (0.1, 1)),
        (Throttle(None, 4), None),
        (Throttle(0.0, 0), (0.0, 0)),
    ],
)
def test_bucket_limits(throttle: Throttle | None, limit: tuple[float, int] | None) -> None:
    assert bucket_limit(throttle) == limit


def test_an_empty_view() -> None:
    snapshot = build_snapshot(UsageRecords((), (), ()), generation=0)
    assert dict(snapshot.keys_by_digest) == {}
    assert snapshot.generation == 0
