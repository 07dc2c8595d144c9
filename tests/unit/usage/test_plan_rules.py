"""Usage plan PATCH operations applied to a plan, as AWS applies them: in order, all or none."""

from __future__ import annotations

import pytest

from authgate.usage.errors import BadRequest, Conflict, NotFound
from authgate.usage.model import ApiStage, Quota, Throttle, UsagePlan
from authgate.usage.patch import PatchOperation
from authgate.usage.plan_rules import apply, method_key
from authgate.usage.quota import Period

PLAN = UsagePlan(
    id="p1",
    name="gold",
    description="",
    api_stages=(ApiStage("a1", "prod"),),
    throttle=None,
    quota=Quota(10, Period.DAY),
    quota_set_at=5.0,
    created=1.0,
    updated=1.0,
)


def op(op: str, path: str, value: str | None = None) -> PatchOperation:
    return PatchOperation(op, path, value)


def test_operations_build_up_a_throttle_and_keep_the_quota_time() -> None:
    patched = apply(
        PLAN,
        [op("replace", "/throttle/burstLimit", "5"), op("replace", "/throttle/rateLimit", "2.5")],
        now=100.0,
    )
    assert patched.plan.throttle == Throttle(2.5, 5)
    assert patched.plan.quota_set_at == 5.0
    assert patched.plan.updated == 100.0
    assert patched.added_stages == ()


def test_a_quota_change_restarts_its_first_period() -> None:
    patched = apply(PLAN, [op("replace", "/quota/offset", "3")], now=100.0)
    assert patched.plan.quota == Quota(10, Period.DAY, 3)
    assert patched.plan.quota_set_at == 100.0
    removed = apply(PLAN, [op("remove", "/quota")], now=100.0)
    assert removed.plan.quota is None
    assert removed.plan.quota_set_at is None


def test_stages_added_then_removed_are_not_reported_as_added() -> None:
    patched = apply(
        PLAN,
        [
            op("add", "/apiStages", "a1:dev"),
            op("add", "/apiStages", "a2:prod"),
            op("remove", "/apiStages", "a2:prod"),
        ],
        now=2.0,
    )
    assert [s.label for s in patched.plan.api_stages] == ["a1:prod", "a1:dev"]
    assert patched.added_stages == (("a1", "dev"),)


@pytest.mark.parametrize(
    ("path", "key"),
    [
        ("/apiStages/a1:prod/throttle/~1pets/GET/rateLimit", "/pets/GET"),
        ("/apiStages/a1:prod/throttle//pets/GET/rateLimit", "/pets/GET"),
        ("/apiStages/a1:prod/throttle/~1pets~1{id}/PUT/rateLimit", "/pets/{id}/PUT"),
        ("/apiStages/a1:prod/throttle/~1/GET/rateLimit", "//GET"),
        ("/apiStages/a1:prod/throttle///ANY/rateLimit", "//ANY"),
        ("/apiStages/a1:prod/throttle/~1a~0b/GET/rateLimit", "/a~b/GET"),
    ],
)
def test_method_throttle_paths(path: str, key: str) -> None:
    patched = apply(PLAN, [op("replace", path, "1")], now=2.0)
    assert patched.plan.api_stages[0].throttle == ((key, Throttle(1.0, None)),)


@pytest.mark.parametrize(
    ("operations", "error"),
    [
        ([op("replace", "/apiStages/a1:dev/throttle/~1x/GET/rateLimit", "1")], NotFound),
        ([op("remove", "/apiStages/a1:prod/throttle/~1x/GET")], NotFound),
        ([op("add", "/apiStages", "a1:prod")], Conflict),
        ([op("add", "/apiStages", "a1:prod:x")], BadRequest),
        ([op("add", "/apiStages", ":prod")], BadRequest),
        ([op("replace", "/apiStages/a1:prod/throttle/~1x/FETCH/rateLimit", "1")], BadRequest),
        ([op("replace", "/apiStages/a1:prod/throttle/~1x/GET/speed", "1")], BadRequest),
        ([op("replace", "/apiStages/a1:prod/throttle", "{}")], BadRequest),
        ([op("replace", "/throttle/burstLimit", "1.5")], BadRequest),
        ([op("replace", "/throttle/rateLimit", "nan")], BadRequest),
        ([op("replace", "/throttle/rateLimit", "-1")], BadRequest),
        ([op("replace", "/quota/period", "YEAR")], BadRequest),
        ([op("replace", "/quota/offset", "11")], BadRequest),
        ([op("replace", "/name", "")], BadRequest),
        ([op("copy", "/name", "x")], BadRequest),
        ([op("replace", "/name")], BadRequest),
    ],
)
def test_refusals(operations: list[PatchOperation], error: type[Exception]) -> None:
    with pytest.raises(error):
        apply(PLAN, operations, now=2.0)


def test_more_than_twenty_method_throttles_per_stage() -> None:
    base = "/apiStages/a1:prod/throttle"
    twenty = [op("replace", f"{base}/~1r{n}/GET/rateLimit", "1") for n in range(20)]
    assert len(apply(PLAN, twenty, now=2.0).plan.api_stages[0].throttle) == 20
    with pytest.raises(BadRequest, match="At most 20"):
        apply(PLAN, [*twenty, op("replace", f"{base}/~1r20/GET/rateLimit", "1")], now=2.0)


@pytest.mark.parametrize("key", ["/pets/GET", "//GET", "/a/b/{c}/DELETE", "/pets/ANY"])
def test_method_keys(key: str) -> None:
    assert method_key(key) == key


@pytest.mark.parametrize("key", ["pets/GET", "/pets//GET", "/pets/", "/pets/get", "GET", "/pets/*"])
def test_bad_method_keys(key: str) -> None:
    with pytest.raises(BadRequest):
        method_key(key)
