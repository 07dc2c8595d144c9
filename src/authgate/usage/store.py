"""The storage verbs the key and plan services use. Backends implement `UsageStore`.

The store keeps records and enforces what needs atomicity: unique key values (by digest), the
account's limits on keys and plans, at most N plans per key, and AWS's rule that a key is in at
most one plan per API stage (a row per key and stage, unique in the database, so two racing
writers cannot both win). The services decide everything else: validation, AWS's errors.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Protocol

from authgate.errors import AuthgateError
from authgate.usage.model import ApiKey, ApiKeyRecord, UsagePlan, UsageRecords

Position = tuple[str, str]
"""Where a page starts: the (name, id) of the last item of the previous page."""


class StageTaken(AuthgateError):
    """The key is already in another plan that meters this API stage."""

    def __init__(self, key_id: str, api_id: str, stage: str) -> None:
        super().__init__(f"API key {key_id} is already metered on {api_id}:{stage}")
        self.key_id = key_id
        self.api_id = api_id
        self.stage = stage


class MissingRecord(AuthgateError):
    """A record a write refers to does not exist (any more)."""

    def __init__(self, kind: str, record_id: str) -> None:
        super().__init__(f"no {kind} {record_id}")
        self.kind = kind
        self.record_id = record_id


class TooMany(AuthgateError):
    """A write would pass one of the limits the store enforces."""

    def __init__(self, what: str, limit: int) -> None:
        super().__init__(f"more than {limit} {what}")
        self.what = what
        self.limit = limit


class Added(Enum):
    ADDED = "added"
    ALREADY = "already"
    """Nothing written: the record (or membership) was there already."""


@dataclass(frozen=True, slots=True)
class Limits:
    keys: int = 10_000
    plans: int = 300
    plans_per_key: int = 10


@dataclass(frozen=True, slots=True)
class ImportEntry:
    """One CSV row to write: a new key's record (used only if no key has its value yet), and
    the plans to add the key to."""

    record: ApiKeyRecord
    plan_ids: tuple[str, ...] = ()


class UsageStore(Protocol):
    # keys
    async def insert_key(self, record: ApiKeyRecord, limits: Limits) -> Added:
        """ALREADY when a key has the same value digest. TooMany past `limits.keys`."""
        ...

    async def get_key(self, key_id: str) -> ApiKeyRecord | None: ...
    async def get_key_by_digest(self, digest: str) -> ApiKeyRecord | None: ...
    async def list_keys(
        self,
        *,
        name_prefix: str | None = None,
        customer_id: str | None = None,
        after: Position | None = None,
        limit: int = 25,
    ) -> list[ApiKeyRecord]:
        """Ordered by (name, id)."""
        ...

    async def update_key(self, key: ApiKey) -> bool:
        """Replace the name, description, enabled flag, customer id, tags and update time."""
        ...

    async def delete_key(self, key_id: str) -> bool:
        """Also takes the key out of every plan."""
        ...

    async def import_keys(self, entries: Sequence[ImportEntry], limits: Limits) -> list[str]:
        """All rows or none, in one transaction. A row whose value is already stored updates
        that key (name, description, enabled) instead of adding one; the ids are returned in
        row order. Raises MissingRecord (a plan), StageTaken or TooMany, writing nothing."""
        ...

    # plans
    async def insert_plan(self, plan: UsagePlan, limits: Limits) -> Added:
        """ALREADY when the id is taken. TooMany past `limits.plans`."""
        ...

    async def get_plan(self, plan_id: str) -> UsagePlan | None: ...
    async def list_plans(self, key_id: str | None = None) -> list[UsagePlan]:
        """Every plan, or those that `key_id` is in; ordered by (name, id)."""
        ...

    async def replace_plan(self, plan: UsagePlan, *, expected_version: int) -> bool:
        """Store `plan` (with version `expected_version + 1`) if the stored one still has
        `expected_version`; False otherwise (changed meanwhile, or deleted). Raises StageTaken
        if a stage it adds is one that a key of the plan is already metered on elsewhere."""
        ...

    async def delete_plan(self, plan_id: str) -> bool:
        """Also removes the plan's keys from it (the keys themselves stay)."""
        ...

    # plan keys
    async def add_plan_key(self, plan_id: str, key_id: str, limits: Limits) -> Added:
        """Raises MissingRecord (the plan or the key), StageTaken, or TooMany past
        `limits.plans_per_key`."""
        ...

    async def get_plan_key(self, plan_id: str, key_id: str) -> ApiKeyRecord | None: ...
    async def list_plan_keys(
        self,
        plan_id: str,
        *,
        name_prefix: str | None = None,
        after: Position | None = None,
        limit: int = 25,
    ) -> list[ApiKeyRecord]:
        """The plan's keys ordered by (name, id)."""
        ...

    async def delete_plan_key(self, plan_id: str, key_id: str) -> bool: ...
    async def metered_stages(self, key_id: str) -> dict[tuple[str, str], str]:
        """(api id, stage) → the id of the plan that meters the key there."""
        ...

    async def metered_by_digest(
        self, digests: Sequence[str]
    ) -> dict[str, dict[tuple[str, str], str]]:
        """`metered_stages` of the keys with these value digests, in bulk (for an import's
        checks); keys metered nowhere, or not stored, are left out."""
        ...

    # the gateway's view
    async def records(self) -> UsageRecords:
        """Every key (id, digest, enabled), plan and membership, in one consistent read."""
        ...
