"""Store, version and deploy REST API definitions; keep the data plane serving what is deployed.

APIs come from authgate.yaml (read-only here) or through the management API (ImportRestApi,
PutRestApi, UpdateRestApi). Nothing an API's definition says reaches the data plane until a
deployment snapshots it and a stage points at that deployment, as on AWS. How a change to
what stages serve is compiled, stored and announced is `serving.Serving`'s job.
"""

from __future__ import annotations

import logging
import secrets
import string
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import replace
from typing import Final, TypeVar

from authgate.clock import Clock
from authgate.definition import api_records
from authgate.definition import documents as docs
from authgate.definition.checks import (
    check_description,
    check_stage_name,
    check_variables,
)
from authgate.definition.patches import patch_api, patch_stage
from authgate.definition.records import (
    ApiView,
    ConfigApi,
    DeployedStage,
    StoredApi,
    StoredDeployment,
    StoredStage,
)
from authgate.definition.resources import ResourceEntry, resource_entries
from authgate.definition.serving import Redeploy, Serving
from authgate.definition.store import DefinitionStore, MissingApi
from authgate.policy import ApiScope
from authgate.storage.base import StoreConflict
from authgate.usage.errors import BadRequest, Conflict, NotFound
from authgate.usage.generation import Generation
from authgate.usage.paging import Page, page_in_memory
from authgate.usage.patch import PatchOperation

log = logging.getLogger("authgate.definitions")

T = TypeVar("T")

_ID_ALPHABET: Final = string.ascii_lowercase + string.digits
_API_ID_LENGTH: Final = 10
_DEPLOYMENT_ID_LENGTH: Final = 6
_ID_ATTEMPTS: Final = 5


def _draw(length: int) -> str:
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(length))


class DefinitionService:
    def __init__(
        self,
        store: DefinitionStore,
        *,
        clock: Clock,
        redeploy: Redeploy,
        region: str,
        account_id: str,
        config_apis: Sequence[ConfigApi] = (),
        generation: Generation | None = None,
    ) -> None:
        self._store = store
        self._clock = clock
        self._region = region
        self._account = account_id
        self._config: dict[str, ConfigApi] = {c.api.id: c for c in config_apis}
        self._serving = Serving(redeploy, self._deployed, generation)
        self._lock = self._serving.lock

    @property
    def generation(self) -> int:
        """Moves whenever this process changes what stages serve."""
        return self._serving.generation.value

    async def reload(self) -> None:
        """Serve what the records hold: at start, and when another process changed them."""
        await self._serving.reload()

    def reload_soon(self) -> None:
        """`reload` from a synchronous change notice (the ChangeFeed's)."""
        self._serving.reload_soon()

    async def close(self) -> None:
        await self._serving.close()

    # -- APIs ----------------------------------------------------------------------------------

    async def import_api(
        self, body: bytes, *, parameters: Mapping[str, str] | None = None
    ) -> ApiView:
        """ImportRestApi: a new API from a document; nothing is stored when it is invalid."""
        document = api_records.read_body(body, parameters)
        for _ in range(_ID_ATTEMPTS):
            api_id = _draw(_API_ID_LENGTH)
            if api_id in self._config:
                continue
            record, api = api_records.revision(
                document, None, scope=self._scope(api_id), now=self._clock.now()
            )
            if await self._store.insert_api(record):
                return api_records.api_view(record, api)
        raise Conflict("Could not choose a unique API id; try again")

    async def put_api(
        self,
        api_id: str,
        body: bytes,
        *,
        mode: str = "merge",
        parameters: Mapping[str, str] | None = None,
    ) -> ApiView:
        """PutRestApi: overwrite the API's document, or merge this one into it."""
        if mode not in ("merge", "overwrite"):
            raise BadRequest(f"Invalid mode {mode!r}: merge or overwrite")
        self._writable(api_id)
        update = api_records.read_body(body, parameters)
        current = await self._require(api_id)
        document = update
        if mode == "merge":
            try:
                document = docs.merge_documents(docs.parse_stored(current.document), update)
            except docs.DocumentError as exc:
                raise BadRequest(exc.message) from None
        record, api = api_records.revision(
            document, current, scope=self._scope(api_id), now=self._clock.now()
        )
        if not await self._store.replace_api(record, expected_revision=current.revision):
            raise _changed_meanwhile()
        return api_records.api_view(record, api)

    async def get_api(self, api_id: str) -> ApiView:
        config = self._config.get(api_id)
        if config is not None:
            return config.view()
        return api_records.api_view(await self._require(api_id))

    async def list_apis(self, *, position: str | None, limit: int | None) -> Page[ApiView]:
        views = [c.view() for c in self._config.values()]
        stored = await self._store.list_apis()
        views += [api_records.api_view(r) for r in stored if r.id not in self._config]
        return page_in_memory(views, position, limit, lambda v: (v.name, v.id))

    async def update_api(self, api_id: str, operations: Sequence[PatchOperation]) -> ApiView:
        """UpdateRestApi. A new policy or key source reaches the data plane with the next
        deployment ("changes take effect only after a new deployment")."""
        self._writable(api_id)
        current = await self._require(api_id)
        scope = self._scope(api_id)
        protocol = api_records.definition(current).protocol
        record = current
        for operation in operations:
            record = patch_api(record, operation, scope=scope, protocol=protocol)
        record = replace(record, updated=self._clock.now(), revision=current.revision + 1)
        if not await self._store.replace_api(record, expected_revision=current.revision):
            raise _changed_meanwhile()
        return api_records.api_view(record)

    async def delete_api(self, api_id: str) -> None:
        """DeleteRestApi: the API with its deployments and stages; its routes stop at once."""
        self._writable(api_id)
        async with self._lock:
            await self._require(api_id)
            deployed = await self._deployed()
            remaining = [d for d in deployed if d.stage.api_id != api_id]
            deleted = await self._serving.change(
                deployed, remaining, (), lambda: self._store.delete_api(api_id)
            )
        if not deleted:
            raise self._api_not_found(api_id)

    # -- resources -----------------------------------------------------------------------------

    async def resources(
        self, api_id: str, *, position: str | None, limit: int | None
    ) -> Page[ResourceEntry]:
        entries = resource_entries((await self.get_api(api_id)).definition)
        return page_in_memory(entries, position, limit, lambda e: (e.path, e.id))

    async def resource(self, api_id: str, resource_id: str) -> ResourceEntry:
        for entry in resource_entries((await self.get_api(api_id)).definition):
            if entry.id == resource_id:
                return entry
        raise NotFound("Invalid Resource identifier specified")

    # -- deployments ---------------------------------------------------------------------------

    async def create_deployment(
        self,
        api_id: str,
        *,
        stage_name: str | None = None,
        stage_description: str = "",
        description: str = "",
        variables: Mapping[str, object] | None = None,
    ) -> StoredDeployment:
        """CreateDeployment: snapshot the API as it is now; with a stage name, point that stage
        at the snapshot (creating it if new, its `variables` added to the stage's)."""
        self._writable(api_id)
        check_description(description)
        check_description(stage_description)
        values = check_variables(variables)
        if stage_name is not None:
            check_stage_name(stage_name)
        elif values:
            raise BadRequest("Stage variables need a stage: give stageName too")
        async with self._lock:
            current = await self._require(api_id)
            snapshot = api_records.snapshot(current)
            api_records.parse_body(snapshot, api_id, "deployment")
            now = self._clock.now()
            deployment = StoredDeployment(
                api_id, _draw(_DEPLOYMENT_ID_LENGTH), docs.dump_document(snapshot), description, now
            )
            if stage_name is None:
                await self._write(lambda: self._store.insert_deployment(deployment), api_id)
                return deployment
            existing = await self._store.get_stage(api_id, stage_name)
            stage = StoredStage(
                api_id,
                stage_name,
                deployment.id,
                {**(existing.variables if existing else {}), **values},
                existing.description if existing else stage_description,
                existing.created if existing else now,
                now,
            )
            deployed = await self._deployed()
            candidate = [d for d in deployed if d.key != stage.key]
            candidate.append(DeployedStage(stage, deployment.document))
            await self._serving.change(
                deployed,
                candidate,
                {stage.key},
                lambda: self._write(
                    lambda: self._store.insert_deployment(deployment, stage), api_id
                ),
            )
        return deployment

    async def deployments(
        self, api_id: str, *, position: str | None, limit: int | None
    ) -> Page[StoredDeployment]:
        config = self._config.get(api_id)
        if config is not None:
            found = [config.deployment()]
        else:
            await self._require(api_id)
            found = await self._store.list_deployments(api_id)
        return page_in_memory(found, position, limit, lambda d: (f"{d.created:020.6f}", d.id))

    async def deployment(self, api_id: str, deployment_id: str) -> StoredDeployment:
        config = self._config.get(api_id)
        if config is not None:
            if deployment_id == config.deployment_id:
                return config.deployment()
            raise _deployment_not_found()
        await self._require(api_id)
        found = await self._store.get_deployment(api_id, deployment_id)
        if found is None:
            raise _deployment_not_found()
        return found

    async def delete_deployment(self, api_id: str, deployment_id: str) -> None:
        self._writable(api_id)
        await self._require(api_id)
        if any(s.deployment_id == deployment_id for s in await self._store.list_stages(api_id)):
            raise _deployment_in_use()
        try:
            deleted = await self._store.delete_deployment(api_id, deployment_id)
        except StoreConflict:
            raise _deployment_in_use() from None
        if not deleted:
            raise _deployment_not_found()

    # -- stages --------------------------------------------------------------------------------

    async def stages(self, api_id: str, deployment_id: str | None = None) -> list[StoredStage]:
        config = self._config.get(api_id)
        if config is not None:
            found = config.stored_stages()
        else:
            await self._require(api_id)
            found = await self._store.list_stages(api_id)
        return [s for s in found if deployment_id is None or s.deployment_id == deployment_id]

    async def stage(self, api_id: str, name: str) -> StoredStage:
        config = self._config.get(api_id)
        if config is not None:
            found = next((s for s in config.stored_stages() if s.name == name), None)
        else:
            await self._require(api_id)
            found = await self._store.get_stage(api_id, name)
        if found is None:
            raise _stage_not_found()
        return found

    async def create_stage(
        self,
        api_id: str,
        name: str,
        deployment_id: str,
        *,
        description: str = "",
        variables: Mapping[str, object] | None = None,
    ) -> StoredStage:
        self._writable(api_id)
        check_stage_name(name)
        check_description(description)
        values = check_variables(variables)
        async with self._lock:
            await self._require(api_id)
            deployment = await self._store.get_deployment(api_id, deployment_id)
            if deployment is None:
                raise _deployment_not_found()
            if await self._store.get_stage(api_id, name) is not None:
                raise _stage_exists()
            now = self._clock.now()
            stage = StoredStage(api_id, name, deployment_id, values, description, now, now)
            deployed = await self._deployed()
            candidate = [*deployed, DeployedStage(stage, deployment.document)]
            await self._serving.change(
                deployed, candidate, {stage.key}, lambda: self._insert_stage(stage)
            )
        return stage

    async def _insert_stage(self, stage: StoredStage) -> None:
        if not await self._write(lambda: self._store.insert_stage(stage), stage.api_id):
            raise _stage_exists()

    async def update_stage(
        self, api_id: str, name: str, operations: Sequence[PatchOperation]
    ) -> StoredStage:
        """UpdateStage: `/deploymentId`, `/description` and `/variables/{name}`."""
        self._writable(api_id)
        async with self._lock:
            await self._require(api_id)
            current = await self._store.get_stage(api_id, name)
            if current is None:
                raise _stage_not_found()
            stage = current
            for operation in operations:
                stage = patch_stage(stage, operation)
            stage = replace(stage, updated=self._clock.now())
            deployment = await self._store.get_deployment(api_id, stage.deployment_id)
            if deployment is None:
                raise _deployment_not_found()
            deployed = await self._deployed()
            candidate = [d for d in deployed if d.key != stage.key]
            candidate.append(DeployedStage(stage, deployment.document))
            await self._serving.change(
                deployed, candidate, {stage.key}, lambda: self._replace_stage(stage)
            )
        return stage

    async def _replace_stage(self, stage: StoredStage) -> None:
        if not await self._write(lambda: self._store.replace_stage(stage), stage.api_id):
            raise _stage_not_found()

    async def delete_stage(self, api_id: str, name: str) -> None:
        self._writable(api_id)
        async with self._lock:
            await self._require(api_id)
            deployed = await self._deployed()
            remaining = [d for d in deployed if d.key != (api_id, name)]
            deleted = await self._serving.change(
                deployed, remaining, (), lambda: self._store.delete_stage(api_id, name)
            )
            if not deleted:
                raise _stage_not_found()

    async def _deployed(self) -> list[DeployedStage]:
        """The stored deployed stages, less any of an API whose id authgate.yaml now uses
        (the file wins; the record stays, unreachable, until the file lets go of the id)."""
        found = await self._store.deployed_stages()
        shadowed = {d.stage.api_id for d in found if d.stage.api_id in self._config}
        for api_id in sorted(shadowed):
            log.warning("stored API %s is shadowed by authgate.yaml's API of that id", api_id)
        return [d for d in found if d.stage.api_id not in shadowed]

    async def _write(self, write: Callable[[], Awaitable[T]], api_id: str) -> T:
        try:
            return await write()
        except MissingApi:
            raise self._api_not_found(api_id) from None
        except StoreConflict:
            raise _changed_meanwhile() from None

    # -- helpers -------------------------------------------------------------------------------

    def _scope(self, api_id: str) -> ApiScope:
        return ApiScope(self._region, self._account, api_id)

    def _writable(self, api_id: str) -> None:
        if api_id in self._config:
            raise BadRequest(
                f"The API {api_id} is managed by authgate.yaml: change its definition file "
                "and restart instead"
            )

    async def _require(self, api_id: str) -> StoredApi:
        record = await self._store.get_api(api_id)
        if record is None:
            raise self._api_not_found(api_id)
        return record

    def _api_not_found(self, api_id: str) -> NotFound:
        return NotFound(f"Invalid API identifier specified {self._account}:{api_id}")


def _changed_meanwhile() -> Conflict:
    return Conflict("The API was changed by another request meanwhile; try again")


def _stage_not_found() -> NotFound:
    return NotFound("Invalid stage identifier specified")


def _stage_exists() -> Conflict:
    return Conflict("Stage already exists")


def _deployment_not_found() -> NotFound:
    return NotFound("Invalid Deployment identifier specified")


def _deployment_in_use() -> BadRequest:
    return BadRequest("Active stages pointing to this deployment must be moved or deleted")
