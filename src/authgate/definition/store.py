"""The storage verbs the definition service uses. Backends implement `DefinitionStore`.

The store keeps REST APIs, their deployments and stages, and enforces what needs atomicity:
a deployment and the stage moved onto it are written together, a stage never points at a
missing deployment, and an API goes with all of its deployments and stages. The service
decides everything else (validation, AWS's errors, what to redeploy).
"""

from __future__ import annotations

from typing import Protocol

from authgate.definition.records import DeployedStage, StoredApi, StoredDeployment, StoredStage
from authgate.errors import AuthgateError


class MissingApi(AuthgateError):
    """The API a write refers to does not exist (any more)."""


class DefinitionStore(Protocol):
    # APIs
    async def insert_api(self, api: StoredApi) -> bool:
        """False when the id is taken."""
        ...

    async def get_api(self, api_id: str) -> StoredApi | None: ...
    async def list_apis(self) -> list[StoredApi]:
        """Ordered by (name, id)."""
        ...

    async def replace_api(self, api: StoredApi, *, expected_revision: int) -> bool:
        """Store `api` if the stored one still has `expected_revision`; False otherwise
        (changed meanwhile, or deleted)."""
        ...

    async def delete_api(self, api_id: str) -> bool:
        """With its stages and deployments, in one transaction."""
        ...

    # deployments
    async def insert_deployment(
        self, deployment: StoredDeployment, stage: StoredStage | None = None
    ) -> None:
        """Add the deployment and, when given, create or replace the stage (pointing at it)
        in the same transaction. Raises MissingApi."""
        ...

    async def get_deployment(self, api_id: str, deployment_id: str) -> StoredDeployment | None: ...
    async def list_deployments(self, api_id: str) -> list[StoredDeployment]:
        """Newest first."""
        ...

    async def delete_deployment(self, api_id: str, deployment_id: str) -> bool:
        """False when it does not exist; raises StoreConflict when a stage points at it."""
        ...

    # stages
    async def insert_stage(self, stage: StoredStage) -> bool:
        """False when the API already has a stage of that name; raises MissingApi when the
        deployment is not (any more) one of the API's."""
        ...

    async def replace_stage(self, stage: StoredStage) -> bool:
        """False when no such stage exists; raises MissingApi as `insert_stage` does."""
        ...

    async def get_stage(self, api_id: str, name: str) -> StoredStage | None: ...
    async def list_stages(self, api_id: str) -> list[StoredStage]:
        """Ordered by name."""
        ...

    async def delete_stage(self, api_id: str, name: str) -> bool: ...

    # the data plane's view
    async def deployed_stages(self) -> list[DeployedStage]:
        """Every stage of every API with its deployment's snapshot, in one consistent read."""
        ...
