"""API keys and usage plans as authgate stores them.

Pure: no I/O. A key's value never appears here in clear: records carry it sealed (with the
`SecretBox`, bound to the key's id) and as a keyed digest, by which the gateway finds the key
a request presents.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from authgate.usage.quota import Period

Tags = tuple[tuple[str, str], ...]
"""Tags as sorted (key, value) pairs, so records stay hashable and compare by content."""


@dataclass(frozen=True, slots=True)
class ApiKey:
    """An API key without its value."""

    id: str
    """10 lower-case letters and digits."""
    name: str
    description: str
    enabled: bool
    customer_id: str
    created: float
    updated: float
    tags: Tags = ()


@dataclass(frozen=True, slots=True)
class ApiKeyRecord:
    key: ApiKey
    sealed_value: bytes = field(repr=False)
    """The value sealed by `SecretBox` with context `api_key_context(key.id)`."""
    value_digest: str
    """The value's keyed digest (`SecretBox.digest`, context `API_KEY_DIGEST_CONTEXT`)."""


@dataclass(frozen=True, slots=True)
class Throttle:
    """A token bucket: `rate_limit` requests a second on average, bursts of `burst_limit`.

    AWS keeps each field optional and echoes only what was set; so do we."""

    rate_limit: float | None = None
    burst_limit: int | None = None


@dataclass(frozen=True, slots=True)
class Quota:
    limit: int
    period: Period
    offset: int = 0


@dataclass(frozen=True, slots=True)
class ApiStage:
    """A stage of a REST API that a usage plan meters, with its per-method throttles."""

    api_id: str
    stage: str
    throttle: tuple[tuple[str, Throttle], ...] = ()
    """(`{resourcePath}/{HTTP_METHOD}`, throttle) pairs sorted by key: `/pets/GET`, `//GET`."""

    @property
    def key(self) -> tuple[str, str]:
        return (self.api_id, self.stage)

    @property
    def label(self) -> str:
        """`apiId:stage`, the form patch operations use."""
        return f"{self.api_id}:{self.stage}"


@dataclass(frozen=True, slots=True)
class UsagePlan:
    id: str
    name: str
    description: str
    api_stages: tuple[ApiStage, ...]
    throttle: Throttle | None
    quota: Quota | None
    quota_set_at: float | None
    """When the quota was set (the plan created with it, or its quota last changed): the
    offset applies to the period containing this moment only."""
    created: float
    updated: float
    tags: Tags = ()
    version: int = 0
    """Bumped by every stored change, so read-modify-write updates can detect a race."""

    @property
    def stage_keys(self) -> frozenset[tuple[str, str]]:
        return frozenset(stage.key for stage in self.api_stages)


@dataclass(frozen=True, slots=True)
class KeyRow:
    """What the gateway's view needs of a key: no name, no value."""

    id: str
    value_digest: str
    enabled: bool


@dataclass(frozen=True, slots=True)
class UsageRecords:
    """Every key, plan and membership, read at one moment (the source of `UsageSnapshot`)."""

    keys: tuple[KeyRow, ...]
    plans: tuple[UsagePlan, ...]
    members: tuple[tuple[str, str], ...]
    """(plan id, key id) pairs."""


def sorted_tags(tags: dict[str, str] | Tags) -> Tags:
    pairs = tags.items() if isinstance(tags, dict) else tags
    return tuple(sorted((str(k), str(v)) for k, v in pairs))
