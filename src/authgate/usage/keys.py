"""API keys: create (a generated or given value), read, list, update, delete, import from CSV.

A key's value is kept sealed with the `SecretBox` (bound to the key's id) and found by its keyed
digest, never stored in clear: AWS returns values on request (`includeValue`), so a one-way
hash alone would not do. Every write bumps the shared `Generation` so the gateway's view of
keys is rebuilt.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from authgate.clock import Clock
from authgate.security.secrets import SecretBox
from authgate.storage.base import StoreConflict
from authgate.usage import csv_keys, identifiers
from authgate.usage import patch as p
from authgate.usage.errors import BadRequest, Conflict, LimitExceeded, NotFound
from authgate.usage.generation import Generation
from authgate.usage.model import ApiKey, ApiKeyRecord, Tags, UsagePlan, sorted_tags
from authgate.usage.paging import Page, check_limit, decode_position, page_of
from authgate.usage.snapshot import API_KEY_DIGEST_CONTEXT
from authgate.usage.store import (
    Added,
    ImportEntry,
    Limits,
    MissingRecord,
    StageTaken,
    TooMany,
    UsageStore,
)

MIN_VALUE = 20
MAX_NAME = 1024
MAX_DESCRIPTION = 125_000
MAX_TAGS = 50
KEY_PATHS = "/description, /enabled, /name, /customerId"


def api_key_context(key_id: str) -> bytes:
    """What a key's value is sealed to: it opens only in its own row."""
    return b"authgate:usage:api-key:" + key_id.encode("ascii")


@dataclass(frozen=True, slots=True)
class ApiKeyView:
    """A key, with its value when the caller asked for it."""

    key: ApiKey
    value: str | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class ImportResult:
    ids: list[str]
    warnings: list[str]


def check_tags(tags: Mapping[str, str] | None) -> Tags:
    """AWS's tag rules: at most 50, keys of 1 to 128 characters not starting with `aws:`,
    values of at most 256."""
    if not tags:
        return ()
    if len(tags) > MAX_TAGS:
        raise BadRequest(f"Too many tags: at most {MAX_TAGS} are allowed")
    for key, value in tags.items():
        if not 1 <= len(key) <= 128 or key.lower().startswith("aws:"):
            raise BadRequest(f"Invalid tag key: {key!r}")
        if len(value) > 256:
            raise BadRequest(f"Invalid tag value for key {key!r}: at most 256 characters")
    return sorted_tags(dict(tags))


def check_name(name: str) -> str:
    if len(name) > MAX_NAME:
        raise BadRequest("Invalid API Key name, can be at most 1024 characters.")
    return name


def check_description(description: str) -> str:
    if len(description) > MAX_DESCRIPTION:
        raise BadRequest("Invalid API Key description specified.")
    return description


def check_value(value: str) -> str:
    if len(value) < MIN_VALUE:
        raise BadRequest("API Key value should be at least 20 characters")
    if len(value) > csv_keys.MAX_VALUE:
        raise BadRequest("API Key value exceeds maximum size of 128 characters")
    if not (value.isascii() and value.isalnum()):
        raise BadRequest("API Key value must contain only letters and digits")
    return value


def stage_conflict(error: StageTaken, plan_id: str) -> Conflict:
    return Conflict.stage_taken(plan_id, error.key_id, error.api_id, error.stage)


def limit_error(error: TooMany) -> LimitExceeded:
    return LimitExceeded(f"Cannot have more than {error.limit} {error.what}")


class ApiKeyService:
    def __init__(
        self,
        store: UsageStore,
        box: SecretBox,
        *,
        clock: Clock,
        generation: Generation,
        limits: Limits | None = None,
    ) -> None:
        self._store = store
        self._box = box
        self._clock = clock
        self._generation = generation
        self._limits = limits or Limits()

    @property
    def generation(self) -> int:
        return self._generation.value

    def digest(self, value: str) -> str:
        return self._box.digest(value.encode("utf-8"), context=API_KEY_DIGEST_CONTEXT)

    def value_of(self, record: ApiKeyRecord) -> str:
        """The clear value of a stored key (for responses that show it)."""
        opened = self._box.open(record.sealed_value, context=api_key_context(record.key.id))
        return opened.decode("utf-8")

    def _record(self, key: ApiKey, value: str) -> ApiKeyRecord:
        sealed = self._box.seal(value.encode("utf-8"), context=api_key_context(key.id))
        return ApiKeyRecord(key, sealed, self.digest(value))

    def _view(self, record: ApiKeyRecord, include_value: bool) -> ApiKeyView:
        return ApiKeyView(record.key, self.value_of(record) if include_value else None)

    async def _get(self, key_id: str) -> ApiKeyRecord:
        record = await self._store.get_key(key_id)
        if record is None:
            raise NotFound.api_key()
        return record

    # -- create, read, list --------------------------------------------------------------------

    async def create(
        self,
        *,
        name: str = "",
        description: str = "",
        enabled: bool = False,
        value: str | None = None,
        customer_id: str = "",
        tags: Mapping[str, str] | None = None,
    ) -> ApiKeyView:
        """`enabled` defaults to false, as AWS's does; the value is generated when not given."""
        value = identifiers.api_key_value() if value is None else check_value(value)
        now = self._clock.now()
        key = ApiKey(
            id=identifiers.api_key_id(),
            name=check_name(name),
            description=check_description(description),
            enabled=enabled,
            customer_id=customer_id,
            created=now,
            updated=now,
            tags=check_tags(tags),
        )
        try:
            added = await self._store.insert_key(self._record(key, value), self._limits)
        except TooMany as error:
            raise limit_error(error) from None
        except StoreConflict:
            raise Conflict("The API key could not be created; try again") from None
        if added is Added.ALREADY:
            raise Conflict.key_value()
        self._generation.bump()
        return ApiKeyView(key, value)

    async def get(self, key_id: str, *, include_value: bool = False) -> ApiKeyView:
        return self._view(await self._get(key_id), include_value)

    async def find(self, value: str) -> ApiKey | None:
        """The key with this value, if any (one indexed read by digest)."""
        record = await self._store.get_key_by_digest(self.digest(value))
        return None if record is None else record.key

    async def list_keys(
        self,
        *,
        name_query: str | None = None,
        customer_id: str | None = None,
        include_values: bool = False,
        position: str | None = None,
        limit: int | None = None,
    ) -> Page[ApiKeyView]:
        """Keys ordered by name (then id); `name_query` matches names that start with it."""
        size = check_limit(limit)
        fetched = await self._store.list_keys(
            name_prefix=name_query or None,
            customer_id=customer_id,
            after=decode_position(position),
            limit=size + 1,
        )
        page = page_of(fetched, size, lambda record: (record.key.name, record.key.id))
        return Page([self._view(r, include_values) for r in page.items], page.position)

    # -- update, delete ------------------------------------------------------------------------

    async def update(self, key_id: str, operations: Sequence[p.PatchOperation]) -> ApiKey:
        """`replace` of `/name`, `/description`, `/enabled` or `/customerId`, all or none.
        Two updates of one key at the same moment: the later write wins whole."""
        record = await self._get(key_id)
        key = record.key
        for operation in operations:
            if operation.path not in ("/name", "/description", "/enabled", "/customerId"):
                raise p.unsupported(operation, KEY_PATHS)
            if operation.op != "replace":
                raise p.unsupported(operation, KEY_PATHS)
            if operation.path == "/name":
                key = replace(key, name=check_name(operation.value or ""))
            elif operation.path == "/description":
                key = replace(key, description=check_description(operation.value or ""))
            elif operation.path == "/enabled":
                key = replace(key, enabled=p.boolean(operation))
            else:
                key = replace(key, customer_id=operation.value or "")
        key = replace(key, updated=self._clock.now())
        if not await self._store.update_key(key):
            raise NotFound.api_key()
        self._generation.bump()
        return key

    async def delete(self, key_id: str) -> None:
        if not await self._store.delete_key(key_id):
            raise NotFound.api_key()
        self._generation.bump()

    # -- import --------------------------------------------------------------------------------

    async def import_csv(self, body: bytes, *, fail_on_warnings: bool = False) -> ImportResult:
        """All rows or none: every row is checked (format, plans, stages) before any is
        written, and the write is one transaction. A row whose value is already stored updates
        that key. BadRequestException names every bad row by line."""
        parsed = csv_keys.parse(body)
        problems = list(parsed.problems)
        if not problems:
            problems = await self._check_against_records(parsed.rows)
        if problems:
            raise BadRequest(_listing("Invalid API keys file", problems))
        if fail_on_warnings and parsed.warnings:
            raise BadRequest(_listing("The API keys file has warnings", parsed.warnings))
        now = self._clock.now()
        entries = []
        for row in parsed.rows:
            key = ApiKey(
                id=identifiers.api_key_id(),
                name=row.name,
                description=row.description,
                enabled=row.enabled,
                customer_id="",
                created=now,
                updated=now,
            )
            entries.append(ImportEntry(self._record(key, row.value), row.plan_ids))
        try:
            ids = await self._store.import_keys(entries, self._limits)
        except MissingRecord as error:
            raise NotFound(f"Invalid Usage Plan ID specified: {error.record_id}") from None
        except StageTaken as error:
            raise Conflict(
                f"API Key {error.key_id} cannot reference multiple Usage Plans with the same "
                f"API Stage: {error.api_id}:{error.stage}"
            ) from None
        except TooMany as error:
            raise limit_error(error) from None
        except StoreConflict:
            raise Conflict("The keys changed during the import; nothing was imported") from None
        if ids:
            self._generation.bump()
        return ImportResult(ids, list(parsed.warnings))

    async def _check_against_records(self, rows: Sequence[csv_keys.KeyRow]) -> list[str]:
        """What only the records can tell: plans that do not exist, and plans that would meter
        a key twice on one API stage."""
        with_plans = [row for row in rows if row.plan_ids]
        if not with_plans:
            return []
        plans: dict[str, UsagePlan] = {plan.id: plan for plan in await self._store.list_plans()}
        metered_by_digest = await self._store.metered_by_digest(
            [self.digest(row.value) for row in with_plans]
        )
        problems = []
        for row in with_plans:
            missing = [plan_id for plan_id in row.plan_ids if plans.get(plan_id) is None]
            if missing:
                problems.append(f"line {row.line}: no usage plan {', '.join(missing)}")
                continue
            metered = dict(metered_by_digest.get(self.digest(row.value), {}))
            for plan_id in row.plan_ids:
                for stage in sorted(plans[plan_id].stage_keys):
                    other = metered.setdefault(stage, plan_id)
                    if other != plan_id:
                        problems.append(
                            f"line {row.line}: usage plans {other} and {plan_id} both meter "
                            f"API stage {stage[0]}:{stage[1]}"
                        )
        return problems


def _listing(title: str, problems: Sequence[str], most: int = 20) -> str:
    shown = "; ".join(problems[:most])
    more = f"; and {len(problems) - most} more" if len(problems) > most else ""
    return f"{title}: {shown}{more}"
