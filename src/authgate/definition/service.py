"""Store, version and deploy REST API definitions; keep the data plane serving what is deployed.

APIs come from authgate.yaml (read-only here) or through the management API (ImportRestApi,
PutRestApi, UpdateRestApi). Nothing an API's definition says reaches the data plane until a
deployment snapshots it and a stage points at that deployment, as on AWS.

Every change to what stages serve is compiled before it is stored: the injected `redeploy`
compiles the configuration's stages with the candidate stored ones and swaps the live routes,
or raises ConfigError and swaps nothing. Only then is the change written; if the write fails
the previous routes are put back. So a deployment that does not compile never reaches the
records, and a gateway restarted later serves what this one served. Changes are serialised
in this process by a lock; other processes learn of them through the shared generation
(ChangeFeed) and `reload` from the records.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import string
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import replace
from typing import Final, TypeVar

from authgate.clock import Clock
from authgate.definition import documents as docs
from authgate.definition.checks import (
    check_description,
    check_policy,
    check_stage_name,
    check_variable,
    check_variables,
    problems_message,
)
from authgate.definition.model import Protocol, RestApi
from authgate.definition.openapi import parse_definition, pointer
from authgate.definition.records import (
    ApiView,
    ConfigApi,
    DeployedStage,
    StageKey,
    StoredApi,
    StoredDeployment,
    StoredStage,
)
from authgate.definition.resources import ResourceEntry, resource_entries
from authgate.definition.store import DefinitionStore, MissingApi
from authgate.errors import ConfigError
from authgate.policy import ApiScope
from authgate.storage.base import StoreConflict
from authgate.usage.errors import BadRequest, Conflict, NotFound
from authgate.usage.generation import Generation
from authgate.usage.paging import Page, page_in_memory
from authgate.usage.patch import PatchOperation, require_value, unescape, unsupported

log = logging.getLogger("authgate.definitions")

T = TypeVar("T")

Redeploy = Callable[[Sequence[DeployedStage], Collection[StageKey]], Awaitable[None]]
"""Serve the configuration's stages and these stored ones, swapping the live routes at once.
Raises ConfigError (swapping nothing) when a stage in the second argument does not compile;
any other stored stage that does not compile is logged and left out."""

API_PATHS: Final = "/name, /description, /policy, /apiKeySource"
STAGE_PATHS: Final = "/deploymentId, /description, /variables/{name}"
BODY: Final = "body"
"""The name problems in a request's document are reported under (then left out)."""
_ID_ALPHABET: Final = string.ascii_lowercase + string.digits
_API_ID_LENGTH: Final = 10
_DEPLOYMENT_ID_LENGTH: Final = 6
_ID_ATTEMPTS: Final = 5
_Fingerprint = tuple[tuple[str, str, str, tuple[tuple[str, str], ...]], ...]


def _draw(length: int) -> str:
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(length))


def _fingerprint(stages: Sequence[DeployedStage]) -> _Fingerprint:
    return tuple(
        sorted(
            (
                s.stage.api_id,
                s.stage.name,
                s.stage.deployment_id,
                tuple(sorted(s.stage.variables.items())),
            )
            for s in stages
        )
    )


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
        self._redeploy = redeploy
        self._region = region
        self._account = account_id
        self._config: dict[str, ConfigApi] = {c.api.id: c for c in config_apis}
        self._generation = generation or Generation()
        self._lock = asyncio.Lock()
        self._serving: _Fingerprint | None = None
        self._reloading: asyncio.Task[None] | None = None
        self._reload_again = False

    @property
    def generation(self) -> int:
        """Moves whenever this process changes what stages serve."""
        return self._generation.value

    # -- APIs ----------------------------------------------------------------------------------

    async def import_api(
        self, body: bytes, *, parameters: Mapping[str, str] | None = None
    ) -> ApiView:
        """ImportRestApi: a new API from a document; nothing is stored when it is invalid."""
        document = self._read(body, parameters)
        for _ in range(_ID_ATTEMPTS):
            api_id = _draw(_API_ID_LENGTH)
            if api_id in self._config:
                continue
            record, view = self._prepare(document, api_id, None, verb="import")
            if await self._store.insert_api(record):
                return view
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
        update = self._read(body, parameters)
        current = await self._require(api_id)
        document = update
        if mode == "merge":
            try:
                document = docs.merge_documents(docs.parse_stored(current.document), update)
            except docs.DocumentError as exc:
                raise BadRequest(exc.message) from None
        record, view = self._prepare(document, api_id, current, verb="import")
        if not await self._store.replace_api(record, expected_revision=current.revision):
            raise Conflict("The API was changed by another request meanwhile; try again")
        return view

    async def get_api(self, api_id: str) -> ApiView:
        config = self._config.get(api_id)
        if config is not None:
            return _config_view(config)
        return self._view(await self._require(api_id))

    async def list_apis(self, *, position: str | None, limit: int | None) -> Page[ApiView]:
        views = [_config_view(c) for c in self._config.values()]
        views += [self._view(record) for record in await self._store.list_apis()]
        return page_in_memory(views, position, limit, lambda v: (v.name, v.id))

    async def update_api(self, api_id: str, operations: Sequence[PatchOperation]) -> ApiView:
        """UpdateRestApi. A new policy or key source reaches the data plane with the next
        deployment ("changes take effect only after a new deployment")."""
        self._writable(api_id)
        current = await self._require(api_id)
        record = current
        for operation in operations:
            record = self._patch_api(record, operation)
        record = replace(record, updated=self._clock.now(), revision=current.revision + 1)
        if not await self._store.replace_api(record, expected_revision=current.revision):
            raise Conflict("The API was changed by another request meanwhile; try again")
        return self._view(record)

    def _patch_api(self, record: StoredApi, operation: PatchOperation) -> StoredApi:
        path, op = operation.path, operation.op
        if path == "/name" and op == "replace":
            name = require_value(operation)
            if not name.strip():
                raise BadRequest("Invalid API name: it must not be empty")
            return replace(record, name=name)
        if path == "/description" and op in ("replace", "add", "remove"):
            text = "" if op == "remove" else check_description(operation.value or "")
            return replace(record, description=text)
        if path == "/policy" and op in ("replace", "add", "remove"):
            if op == "remove" or not (operation.value or "").strip():
                return replace(record, policy=None)
            if self._definition(record).protocol is Protocol.HTTP:
                raise BadRequest("HTTP APIs do not support resource policies")
            scope = ApiScope(self._region, self._account, record.id)
            return replace(record, policy=check_policy(require_value(operation), scope))
        if path == "/apiKeySource" and op == "replace":
            source = require_value(operation).upper()
            if source not in ("HEADER", "AUTHORIZER"):
                raise BadRequest(
                    f"Invalid API key source {operation.value!r}: HEADER or AUTHORIZER"
                )
            return replace(record, api_key_source=source)
        raise unsupported(operation, API_PATHS)

    async def delete_api(self, api_id: str) -> None:
        """DeleteRestApi: the API with its deployments and stages; its routes stop at once."""
        self._writable(api_id)
        async with self._lock:
            await self._require(api_id)
            deployed = await self._store.deployed_stages()
            remaining = [d for d in deployed if d.stage.api_id != api_id]
            deleted = await self._change(
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
            snapshot = docs.with_settings(
                docs.parse_stored(current.document),
                name=current.name,
                policy=current.policy,
                api_key_source=current.api_key_source,
            )
            self._parse(snapshot, api_id, "deployment")
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
            deployed = await self._store.deployed_stages()
            candidate = [d for d in deployed if d.key != stage.key]
            candidate.append(DeployedStage(stage, deployment.document))
            await self._change(
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
            found = [_config_deployment(config)]
        else:
            await self._require(api_id)
            found = await self._store.list_deployments(api_id)
        return page_in_memory(found, position, limit, lambda d: (f"{d.created:020.6f}", d.id))

    async def deployment(self, api_id: str, deployment_id: str) -> StoredDeployment:
        config = self._config.get(api_id)
        if config is not None:
            if deployment_id == config.deployment_id:
                return _config_deployment(config)
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
            found = _config_stages(config)
        else:
            await self._require(api_id)
            found = await self._store.list_stages(api_id)
        return [s for s in found if deployment_id is None or s.deployment_id == deployment_id]

    async def stage(self, api_id: str, name: str) -> StoredStage:
        config = self._config.get(api_id)
        if config is not None:
            found = next((s for s in _config_stages(config) if s.name == name), None)
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
            deployed = await self._store.deployed_stages()
            candidate = [*deployed, DeployedStage(stage, deployment.document)]
            await self._change(deployed, candidate, {stage.key}, lambda: self._insert_stage(stage))
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
                stage = _patch_stage(stage, operation)
            stage = replace(stage, updated=self._clock.now())
            deployment = await self._store.get_deployment(api_id, stage.deployment_id)
            if deployment is None:
                raise _deployment_not_found()
            deployed = await self._store.deployed_stages()
            candidate = [d for d in deployed if d.key != stage.key]
            candidate.append(DeployedStage(stage, deployment.document))
            await self._change(deployed, candidate, {stage.key}, lambda: self._replace_stage(stage))
        return stage

    async def _replace_stage(self, stage: StoredStage) -> None:
        if not await self._write(lambda: self._store.replace_stage(stage), stage.api_id):
            raise _stage_not_found()

    async def delete_stage(self, api_id: str, name: str) -> None:
        self._writable(api_id)
        async with self._lock:
            await self._require(api_id)
            deployed = await self._store.deployed_stages()
            remaining = [d for d in deployed if d.key != (api_id, name)]
            deleted = await self._change(
                deployed, remaining, (), lambda: self._store.delete_stage(api_id, name)
            )
            if not deleted:
                raise _stage_not_found()

    # -- serving what is deployed --------------------------------------------------------------

    async def reload(self) -> None:
        """Serve what the records hold (at start, and after another process changed them).
        Stages that do not compile are left out by `redeploy`; nothing is raised for them."""
        async with self._lock:
            deployed = await self._store.deployed_stages()
            fingerprint = _fingerprint(deployed)
            if fingerprint == self._serving:
                return
            await self._redeploy(deployed, ())
            self._serving = fingerprint

    def reload_soon(self) -> None:
        """Schedule `reload` (from a synchronous change notice); notices that arrive while one
        runs are folded into one more round."""
        if self._reloading is not None and not self._reloading.done():
            self._reload_again = True
            return
        self._reloading = asyncio.get_running_loop().create_task(self._reload_rounds())

    async def _reload_rounds(self) -> None:
        while True:
            self._reload_again = False
            try:
                await self.reload()
            except Exception:
                log.exception("could not reload the deployed stages from the records")
            if not self._reload_again:
                return

    async def close(self) -> None:
        task = self._reloading
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _change(
        self,
        previous: Sequence[DeployedStage],
        candidate: Sequence[DeployedStage],
        strict: Collection[StageKey],
        write: Callable[[], Awaitable[T]],
    ) -> T:
        """Serve `candidate`, then write; if the write fails, serve `previous` again. Called
        with the lock held."""
        before, after = _fingerprint(previous), _fingerprint(candidate)
        if before == after:
            return await write()
        try:
            await self._redeploy(candidate, strict)
        except ConfigError as exc:
            headline = "The deployment does not compile; the stage keeps what it served:"
            raise BadRequest(problems_message(headline, exc.problems)) from None
        self._serving = after
        try:
            result = await write()
        except BaseException:
            await self._redeploy(previous, ())
            self._serving = before
            raise
        self._generation.bump()
        return result

    async def _write(self, write: Callable[[], Awaitable[T]], api_id: str) -> T:
        try:
            return await write()
        except MissingApi:
            raise self._api_not_found(api_id) from None
        except StoreConflict:
            raise Conflict("The API was changed by another request meanwhile; try again") from None

    # -- helpers -------------------------------------------------------------------------------

    def _read(self, body: bytes, parameters: Mapping[str, str] | None) -> docs.Document:
        try:
            return docs.apply_import_parameters(docs.load_document(body), parameters or {})
        except docs.DocumentError as exc:
            raise BadRequest(exc.message) from None

    def _prepare(
        self, document: docs.Document, api_id: str, current: StoredApi | None, *, verb: str
    ) -> tuple[StoredApi, ApiView]:
        """The record a valid document becomes (its settings kept apart), and its view.
        Settings the document leaves out keep their current values."""
        rest, policy, key_source = docs.split_settings(document)
        title = docs.info_text(rest, "title")
        name = title or (current.name if current else api_id)
        policy = policy if policy is not None else (current.policy if current else None)
        key_source = key_source or (current.api_key_source if current else "HEADER")
        full = docs.with_settings(rest, name=name, policy=policy, api_key_source=key_source)
        api = self._parse(full, api_id, verb)
        if api.policy is not None:
            scope = ApiScope(self._region, self._account, api_id)
            policy = check_policy(api.policy, scope, f"{pointer(docs.POLICY)}/")
        description = docs.info_text(rest, "description")
        now = self._clock.now()
        record = StoredApi(
            id=api_id,
            name=name,
            description=description
            if description is not None
            else (current.description if current else ""),
            created=current.created if current else now,
            updated=now,
            document=docs.dump_document(rest),
            revision=current.revision + 1 if current else 1,
            policy=policy,
            api_key_source=api.api_key_source,
        )
        return record, self._view(record, api)

    def _parse(self, document: docs.Document, api_id: str, verb: str) -> RestApi:
        try:
            return parse_definition(document, api_id=api_id, source=BODY)
        except ConfigError as exc:
            headline = f"Errors found during {verb}:"
            raise BadRequest(problems_message(headline, exc.problems, f"{BODY}:")) from None

    def _definition(self, record: StoredApi) -> RestApi:
        """The API as its record defines it now; a record that no longer parses (stricter
        rules since it was stored) shows its settings and no resources."""
        try:
            document = docs.with_settings(
                docs.parse_stored(record.document),
                name=record.name,
                policy=record.policy,
                api_key_source=record.api_key_source,
            )
            return parse_definition(document, api_id=record.id, source=BODY)
        except (ConfigError, docs.DocumentError, ValueError):
            log.warning("stored API %s no longer parses", record.id)
            return RestApi(
                record.id,
                record.name,
                Protocol.REST,
                (),
                policy=record.policy,
                api_key_source=record.api_key_source,
            )

    def _view(self, record: StoredApi, api: RestApi | None = None) -> ApiView:
        version = None
        with contextlib.suppress(docs.DocumentError, ValueError):
            version = docs.info_text(docs.parse_stored(record.document), "version")
        return ApiView(
            definition=api if api is not None else self._definition(record),
            description=record.description,
            created=record.created,
            version=version,
        )

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


def _patch_stage(stage: StoredStage, operation: PatchOperation) -> StoredStage:
    path, op = operation.path, operation.op
    if path == "/deploymentId" and op == "replace":
        return replace(stage, deployment_id=require_value(operation))
    if path == "/description" and op in ("replace", "add", "remove"):
        text = "" if op == "remove" else check_description(operation.value or "")
        return replace(stage, description=text)
    if path.startswith("/variables/") and op in ("replace", "add", "remove"):
        name = unescape(path[len("/variables/") :])
        variables = dict(stage.variables)
        if op == "remove":
            variables.pop(name, None)
        else:
            value = require_value(operation)
            check_variable(name, value)
            variables[name] = value
        return replace(stage, variables=variables)
    raise unsupported(operation, STAGE_PATHS)


def _config_view(config: ConfigApi) -> ApiView:
    return ApiView(config.api, "", config.created, managed_by_config=True)


def _config_stages(config: ConfigApi) -> list[StoredStage]:
    return [
        StoredStage(
            config.api.id,
            stage.name,
            config.deployment_id,
            stage.variables,
            "",
            config.created,
            config.created,
        )
        for stage in config.stages
    ]


def _config_deployment(config: ConfigApi) -> StoredDeployment:
    return StoredDeployment(config.api.id, config.deployment_id, "", "", config.created)


def _stage_not_found() -> NotFound:
    return NotFound("Invalid stage identifier specified")


def _stage_exists() -> Conflict:
    return Conflict("Stage already exists")


def _deployment_not_found() -> NotFound:
    return NotFound("Invalid Deployment identifier specified")


def _deployment_in_use() -> BadRequest:
    return BadRequest("Active stages pointing to this deployment must be moved or deleted")
