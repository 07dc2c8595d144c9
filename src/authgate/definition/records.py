"""REST APIs as records: what is stored for an API imported through the management API, its
deployments and stages, and what the service answers about any API (file-managed ones too).

Pure: no I/O. A stored API keeps its source document apart from the settings that
UpdateRestApi changes (name, description, resource policy, API-key source); a deployment keeps
a snapshot with those settings folded back in, so it is one self-contained document that
compiles without reading anything else, and later changes reach the data plane only when a
new deployment is made, as on AWS.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from authgate.definition.model import RestApi, Stage, empty

StageKey = tuple[str, str]
"""(API id, stage name): one deployed stage of the data plane."""


@dataclass(frozen=True, slots=True)
class StoredApi:
    id: str
    name: str
    description: str
    created: float
    updated: float
    document: str = field(repr=False)
    """The source document as JSON text, without the settings kept in the fields below."""
    revision: int
    """Bumped by every write; a write names the revision it read (optimistic concurrency)."""
    policy: str | None = None
    """The resource policy as JSON text."""
    api_key_source: str = "HEADER"


@dataclass(frozen=True, slots=True)
class StoredDeployment:
    api_id: str
    id: str
    document: str = field(repr=False)
    """The snapshot it deployed: the API's document with its settings folded in (JSON text)."""
    description: str
    created: float


@dataclass(frozen=True, slots=True)
class StoredStage:
    api_id: str
    name: str
    deployment_id: str
    variables: Mapping[str, str] = field(default_factory=empty)
    description: str = ""
    created: float = 0.0
    updated: float = 0.0

    @property
    def key(self) -> StageKey:
        return (self.api_id, self.name)


@dataclass(frozen=True, slots=True)
class DeployedStage:
    """A stored stage with the snapshot its deployment holds: what the data plane compiles."""

    stage: StoredStage
    document: str = field(repr=False)

    @property
    def key(self) -> StageKey:
        return self.stage.key


@dataclass(frozen=True, slots=True)
class ConfigApi:
    """An API that authgate.yaml names: listed and readable, never written through the API."""

    api: RestApi
    stages: tuple[Stage, ...]
    deployment_id: str
    """The document's digest, which its stages report as their deployment id."""
    created: float

    def view(self) -> ApiView:
        return ApiView(self.api, "", self.created, managed_by_config=True)

    def stored_stages(self) -> list[StoredStage]:
        """Its stages in the shape of stored ones (GetStages answers the same for both)."""
        return [
            StoredStage(
                self.api.id,
                stage.name,
                self.deployment_id,
                stage.variables,
                "",
                self.created,
                self.created,
            )
            for stage in self.stages
        ]

    def deployment(self) -> StoredDeployment:
        """Its one deployment: the file as loaded (no snapshot is kept)."""
        return StoredDeployment(self.api.id, self.deployment_id, "", "", self.created)


@dataclass(frozen=True, slots=True)
class ApiView:
    """One API as GetRestApi describes it; `definition` is its current (undeployed) state."""

    definition: RestApi
    description: str
    created: float
    version: str | None = None
    """The document's `info.version`."""
    managed_by_config: bool = False

    @property
    def id(self) -> str:
        return self.definition.id

    @property
    def name(self) -> str:
        return self.definition.name
