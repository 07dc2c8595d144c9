"""Composition root: settings → functions, upstream pool, compiled routes → one listening server.

This is the only module that chooses concrete implementations; everything else receives
its collaborators.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path

import yaml
from cryptography.hazmat.primitives.asymmetric import rsa
from prometheus_client import generate_latest
from sqlalchemy.ext.asyncio import AsyncEngine

from authgate.admin.apigateway import UsageServices
from authgate.admin.cognito_idp import is_cognito
from authgate.admin.plane import ManagementPlane
from authgate.authorizers.fetch import PoolFetch, no_fetch
from authgate.authorizers.iam import EXECUTE_API
from authgate.authorizers.issuer_keys import Issuers
from authgate.authorizers.registry import AuthorizerRegistry
from authgate.authorizers.services import AuthorizerServices, UserPools
from authgate.authorizers.sigv4 import CredentialCache, SigV4Authenticator, credential_service
from authgate.clock import Clock, SystemClock
from authgate.completions import Completions
from authgate.definition.compile import StepFactory, compile_stage, no_steps
from authgate.definition.deploy import compile_deployed
from authgate.definition.model import Integration as IntegrationSpec
from authgate.definition.model import IntegrationType, RestApi, Stage
from authgate.definition.openapi import document_digest, parse_definition
from authgate.definition.records import ConfigApi, DeployedStage, StageKey
from authgate.definition.routes import StagePlan, StageRoutes
from authgate.definition.service import DefinitionService
from authgate.definition.serving import StageFingerprint, stage_fingerprint
from authgate.errors import ConfigError, Problem
from authgate.gateway.build import MethodSteps
from authgate.gateway.client_address import ClientAddress
from authgate.gateway.dataplane import DataPlane
from authgate.gateway.decisions import DecisionLog
from authgate.gateway.responses import MAX_BODY, TOO_LARGE_TEXT
from authgate.gateway.routing import Router
from authgate.gateway.steps.meter import Metering
from authgate.http1.client import UpstreamPool
from authgate.http1.message import Request, Response
from authgate.http1.server import HttpServer, Limits
from authgate.iam.bootstrap import bootstrap
from authgate.iam.model import NewAccessKey, ResolvedCredential
from authgate.iam.service import IamService
from authgate.iam.sts import StsService
from authgate.identity.oauth2.plane import OAuthPlane
from authgate.identity.outbox import OUTBOX_FILE, Courier, FileOutbox, SmtpCourier
from authgate.identity.provider import UserPoolServices
from authgate.identity.seeds import apply_seeds
from authgate.identity.web import well_known
from authgate.integrations.base import Integration
from authgate.integrations.functions import FunctionMap, function_name_from_arn, load_functions
from authgate.integrations.http import build_http_integration
from authgate.integrations.mock import build_mock_integration
from authgate.integrations.python import PythonIntegration
from authgate.observability.accesslog import AccessLog
from authgate.observability.metrics import GatewayMetrics, registry_with
from authgate.security.secrets import SecretBox
from authgate.settings import ApiSettings, Settings, Throttle, records_url
from authgate.storage.changes import ChangeFeed, Watched
from authgate.storage.counter_stores import open_counters
from authgate.storage.counters import CounterStore
from authgate.storage.sql.definitions import SqlDefinitionStore
from authgate.storage.sql.engine import open_engine
from authgate.storage.sql.iam import SqlIamStore
from authgate.storage.sql.usage import SqlUsageStore
from authgate.storage.sql.userpools import SqlUserPoolStore
from authgate.usage.generation import Generation
from authgate.usage.keys import ApiKeyService
from authgate.usage.plans import UsagePlanService
from authgate.usage.snapshot import UsageView

log = logging.getLogger("authgate")

_IDS_FILE = "api-ids.json"
ACCOUNT_LEASE = 64
"""Account-throttle tokens a process takes from a shared counter store at a time."""
PRUNE_INTERVAL = 3600.0
"""Seconds between sweeps of expired user-pool codes, sessions and one-use ids."""


def read_definition(path: Path) -> object:
    """Load a YAML or JSON definition file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([Problem(str(path), f"cannot read: {exc.strerror}")]) from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError([Problem(str(path), f"not valid YAML or JSON: {exc}")]) from None


class ApiIds:
    """Ids for APIs that do not set one: generated once and kept in the data dir."""

    def __init__(self, data_dir: Path) -> None:
        self._file = data_dir / _IDS_FILE
        self._ids: dict[str, str] = {}
        if self._file.exists():
            self._ids = json.loads(self._file.read_text(encoding="utf-8"))

    def get(self, settings: ApiSettings, base_dir: Path) -> str:
        if settings.id is not None:
            return settings.id
        key = str(settings.definition.relative_to(base_dir))
        if key not in self._ids:
            self._ids[key] = document_digest(key + str(len(self._ids))) + "api0"
            self._file.parent.mkdir(parents=True, exist_ok=True)
            self._file.write_text(json.dumps(self._ids, indent=2), encoding="utf-8")
        return self._ids[key]


def load_apis(settings: Settings) -> list[tuple[RestApi, ApiSettings, str]]:
    """Parse every API definition named in the settings; all problems are reported together."""
    ids = ApiIds(settings.data_dir)
    problems: list[Problem] = []
    apis: list[tuple[RestApi, ApiSettings, str]] = []
    for api_settings in settings.apis:
        try:
            document = read_definition(api_settings.definition)
            api = parse_definition(
                document,
                api_id=ids.get(api_settings, settings.base_dir),
                source=str(api_settings.definition),
            )
        except ConfigError as exc:
            problems.extend(exc.problems)
            continue
        apis.append((api, api_settings, document_digest(document)))
    if problems:
        raise ConfigError(problems)
    return apis


class IntegrationFactory:
    """Builds the integration object for each compiled method."""

    def __init__(self, functions: FunctionMap, pool: UpstreamPool) -> None:
        self.functions = functions
        self.pool = pool

    def __call__(
        self, spec: IntegrationSpec, uri: str, stage: StagePlan, where: str
    ) -> Integration:
        if spec.type is IntegrationType.AWS_PROXY:
            name = function_name_from_arn(uri)
            function = self.functions.get(name) if name else None
            if function is None:
                raise ConfigError(
                    [
                        Problem(
                            where, f"integration uri names no function in the function map: {uri}"
                        )
                    ]
                )
            return PythonIntegration(function, spec.payload_format_version, spec.timeout_ms)
        if spec.type is IntegrationType.MOCK:
            return build_mock_integration(spec, where)
        return build_http_integration(spec, uri, self.pool, location=where)


def compile_routes(
    settings: Settings, factory: IntegrationFactory, steps: StepFactory = no_steps
) -> Router:
    return Router(compile_config_stages(load_apis(settings), settings, factory, steps))


def compile_config_stages(
    apis: list[tuple[RestApi, ApiSettings, str]],
    settings: Settings,
    factory: IntegrationFactory,
    steps: StepFactory = no_steps,
) -> list[StageRoutes]:
    """Every stage of the APIs authgate.yaml names; all problems are reported together."""
    problems: list[Problem] = []
    stages: list[StageRoutes] = []
    for api, api_settings, digest in apis:
        for stage in api_settings.stages:
            try:
                stages.append(
                    compile_stage(
                        api,
                        Stage(
                            stage.name,
                            stage.variables,
                            stage.access_log_format,
                            _limit(stage.throttle),
                            {k: (t.rate, t.burst) for k, t in stage.method_throttles.items()},
                        ),
                        account_id=settings.account_id,
                        region=settings.region,
                        deployment_id=digest,
                        make_integration=factory,
                        make_steps=steps,
                        source=str(api_settings.definition),
                    )
                )
            except ConfigError as exc:
                problems.extend(exc.problems)
    if problems:
        raise ConfigError(list(dict.fromkeys(problems)))
    return stages


def _config_api(api: RestApi, settings: ApiSettings, digest: str, created: float) -> ConfigApi:
    stages = tuple(Stage(stage.name, stage.variables) for stage in settings.stages)
    return ConfigApi(api, stages, digest, created)


def _limit(throttle: Throttle | None) -> tuple[float, int] | None:
    return None if throttle is None else (throttle.rate, throttle.burst)


class NoCredentials:
    """A credential source that knows no one: for checking definitions without a store."""

    generation = 0

    async def resolve(self, access_key_id: str) -> ResolvedCredential | None:
        return None


class NoUserPools:
    """A user-pool view that knows no pool: for checking definitions without a store."""

    generation = 0

    async def is_active(
        self, pool_id: str, sub: str, origin_jti: str | None, issued_at: float
    ) -> bool:
        return False

    def issuer(self, pool_id: str) -> str:
        return f"http://localhost/{pool_id}"

    def verification_keys(self, pool_id: str) -> Mapping[str, rsa.RSAPublicKey]:
        return {}


def method_steps(
    authenticator: SigV4Authenticator,
    metering: Metering | None = None,
    *,
    functions: FunctionMap,
    clock: Clock,
    issuers: Issuers | None = None,
    user_pools: UserPools | None = None,
) -> MethodSteps:
    """The step factory for one compile: authorizers built per API and declaration. Without
    `issuers` and `user_pools` (checking definitions) JWT and user-pool authorizers are built
    but never fetch keys or find a pool."""
    services = AuthorizerServices(
        sigv4=authenticator,
        functions=functions,
        clock=clock,
        issuers=issuers or Issuers(no_fetch, clock),
        user_pools=user_pools or NoUserPools(),
    )
    return MethodSteps(AuthorizerRegistry(services), metering)


class Application:
    """The running gateway: listeners dispatching to operations, management and data planes."""

    def __init__(self, settings: Settings, *, clock: Clock | None = None) -> None:
        self.settings = settings
        self.clock = clock or SystemClock()
        self.metrics = GatewayMetrics()
        self.registry = registry_with(self.metrics)
        self.pool = UpstreamPool()
        self.issuers = Issuers(PoolFetch(self.pool), self.clock)
        self.functions = load_functions(settings.functions, settings.base_dir)
        self.access_log = AccessLog.open(settings.access_log)
        self.decisions = DecisionLog()
        self.servers: list[HttpServer] = []
        self.completions = Completions()
        """Control-plane requests, finished even when their clients hang up."""
        self.new_admin_key: NewAccessKey | None = None
        self._engine: AsyncEngine | None = None
        self._flusher: asyncio.Task[None] | None = None
        self._watcher: asyncio.Task[None] | None = None
        self._pruner: asyncio.Task[None] | None = None
        self._listen_url = _base_url(settings.listen.host, settings.listen.port)
        self.counters: CounterStore | None = None
        self.definitions: DefinitionService | None = None
        self._config_stages: list[StageRoutes] = []
        self._compiled: dict[StageFingerprint, StageRoutes] = {}
        self.dataplane: DataPlane
        self.management: ManagementPlane
        self.user_pools: UserPoolServices
        self.oauth: OAuthPlane

    def public_url(self) -> str:
        """The base URL of this gateway as clients reach it (user-pool issuers start with it)."""
        return self.settings.public_url or self._listen_url

    async def _open(self) -> None:
        """Records, IAM and the compiled routes: everything that needs the store."""
        settings = self.settings
        self._engine = await open_engine(records_url(settings), base_dir=settings.base_dir)
        store = SqlIamStore(self._engine)
        box = SecretBox.load(settings.data_dir)
        self.iam = IamService(store, box, account_id=settings.account_id, clock=self.clock)
        self.sts = StsService(
            self.iam, store, box, account_id=settings.account_id, clock=self.clock
        )
        self.new_admin_key = await bootstrap(self.iam, settings.data_dir, region=settings.region)
        authenticator = SigV4Authenticator(
            CredentialCache(self.iam), self.clock, region=settings.region
        )
        self.counters = await open_counters(
            settings.counters, engine=self._engine, clock=self.clock
        )
        usage_store = SqlUsageStore(self._engine)
        usage_generation = Generation()
        keys = ApiKeyService(usage_store, box, clock=self.clock, generation=usage_generation)
        plans = UsagePlanService(
            usage_store,
            keys,
            self.counters,
            clock=self.clock,
            generation=usage_generation,
            stage_exists=self._stage_exists,
        )
        account = settings.account_throttle
        metering = Metering(
            UsageView(usage_store, box, usage_generation),
            self.counters,
            self.clock,
            account=(account.rate, account.burst),
            throttle_fail_open=settings.throttle_fail_open,
            account_lease=ACCOUNT_LEASE,
        )
        self._authenticator, self._metering = authenticator, metering
        self.user_pools = UserPoolServices.assemble(
            SqlUserPoolStore(self._engine),
            box,
            _courier(settings),
            self.clock,
            base_url=self.public_url,
            region=settings.region,
            account_id=settings.account_id,
        )
        await self.user_pools.open()
        self.oauth = OAuthPlane(
            self.user_pools,
            box,
            upstream=self.pool,
            fetch=PoolFetch(self.pool),
            issuers=self.issuers,
            clock=self.clock,
        )
        await apply_seeds(self.user_pools.pools, settings.user_pools)
        self._factory = IntegrationFactory(self.functions, self.pool)
        config_apis = load_apis(settings)
        self._config_stages = compile_config_stages(
            config_apis, settings, self._factory, self._method_steps()
        )
        started = self.clock.now()
        definitions = DefinitionService(
            SqlDefinitionStore(self._engine),
            clock=self.clock,
            redeploy=self._redeploy,
            region=settings.region,
            account_id=settings.account_id,
            config_apis=[_config_api(*loaded, started) for loaded in config_apis],
        )
        self.definitions = definitions
        self._changes = ChangeFeed(
            self._engine,
            [
                Watched(lambda: self.iam.generation, self.iam.bump_generation),
                Watched(lambda: usage_generation.value, usage_generation.bump),
                Watched(lambda: definitions.generation, definitions.reload_soon),
                Watched(lambda: self.user_pools.status.generation, self.user_pools.status.bump),
            ],
        )
        await self._changes.open()
        self.dataplane = DataPlane(
            Router(self._config_stages),
            self.access_log,
            self.metrics,
            ClientAddress(settings.trusted_proxies),
            self.decisions,
        )
        self.management = ManagementPlane(
            authenticator,
            self.iam,
            self.sts,
            self.decisions,
            self.clock,
            account_id=settings.account_id,
            region=settings.region,
            routes=lambda: self.dataplane.router,
            endpoints={endpoint.vpce: endpoint.vpc for endpoint in settings.endpoints},
            usage=UsageServices(keys, plans, definitions, lambda: self.dataplane.router),
            user_pools=self.user_pools,
        )
        await definitions.reload()

    async def _redeploy(
        self, stored: Sequence[DeployedStage], strict: Collection[StageKey]
    ) -> None:
        """Serve authgate.yaml's stages and these stored ones (DefinitionService's callback).
        A stored stage outside `strict` that does not compile is logged and left out, so one
        broken record cannot keep the gateway from starting or other stages from deploying.
        Stages whose deployment and variables are unchanged keep their compiled routes."""
        settings = self.settings
        steps = self._method_steps()
        problems: list[Problem] = []
        stages = list(self._config_stages)
        compiled: dict[StageFingerprint, StageRoutes] = {}
        for deployed in stored:
            key = stage_fingerprint(deployed)
            routes = self._compiled.get(key)
            if routes is None:
                try:
                    routes = compile_deployed(
                        deployed,
                        account_id=settings.account_id,
                        region=settings.region,
                        make_integration=self._factory,
                        make_steps=steps,
                    )
                except ConfigError as exc:
                    if deployed.key in strict:
                        problems.extend(exc.problems)
                    else:
                        api_id, stage = deployed.key
                        log.error("API %s stage %s is not served: %s", api_id, stage, exc)
                    continue
            compiled[key] = routes
            stages.append(routes)
        if problems:
            raise ConfigError(problems)
        self.dataplane.swap(Router(stages))
        self._compiled = compiled

    def _method_steps(self) -> MethodSteps:
        return method_steps(
            self._authenticator,
            self._metering,
            functions=self.functions,
            clock=self.clock,
            issuers=self.issuers,
            user_pools=self.user_pools.status,
        )

    async def _stage_exists(self, api_id: str, stage: str) -> bool:
        return any(
            r.plan.api_id == api_id and r.plan.stage == stage
            for r in self.dataplane.router.stages()
        )

    async def handle(self, request: Request, endpoint: tuple[str, str] | None = None) -> Response:
        path = request.path
        if path == "/healthz":
            return Response(200, [("content-type", "application/json")], b'{"status":"ok"}')
        if path == "/metrics":
            return Response(
                200,
                [("content-type", "text/plain; version=0.0.4")],
                generate_latest(self.registry),
            )
        if request.method == "POST" and is_cognito(request):
            return await self.completions.run(self.management.cognito_idp(request))
        if "/.well-known/" in path:
            document = await well_known(request, self.user_pools)
            if document is not None:
                return document
        if self.oauth.serves(path):
            return await self.completions.run(self.oauth(request))
        service = credential_service(request)
        if service is not None and service != EXECUTE_API:
            return await self.completions.run(self.management(request, service))
        return await self.dataplane(request, endpoint)

    def _server(self, endpoint: tuple[str, str] | None = None) -> HttpServer:
        async def handler(request: Request) -> Response:
            return await self.handle(request, endpoint)

        too_large = Response(413, [("content-type", "text/plain")], TOO_LARGE_TEXT.encode())
        server = HttpServer(
            handler if endpoint else self.handle,
            Limits(max_body_bytes=MAX_BODY),
            too_large=too_large,
        )
        self.servers.append(server)
        return server

    async def start(self, host: str | None = None, port: int | None = None) -> tuple[str, int]:
        """Open the store, compile the APIs and listen; returns the main listener's address.

        The socket is bound first, so a gateway on port 0 knows its address (and the issuer of
        its user pools) before it compiles authorizers."""
        listen = self.settings.listen
        host = host or listen.host
        sock = _bind(host, listen.port if port is None else port)
        self._listen_url = _base_url(host, sock.getsockname()[1])
        try:
            await self._open()
        except BaseException:
            sock.close()
            await self.stop(grace=0)  # what did open (log file, store) is closed again
            raise
        address = await self._server().start(host, 0, sock=sock)
        self.endpoint_addresses: list[tuple[str, int]] = []
        for endpoint in self.settings.endpoints:
            server = self._server((endpoint.vpc, endpoint.vpce))
            self.endpoint_addresses.append(await server.start(endpoint.host, endpoint.port))
        self._flusher = asyncio.create_task(self._flush_logs())
        self._watcher = asyncio.create_task(self._changes.run())
        self._pruner = asyncio.create_task(self._prune())
        return address

    async def stop(self, grace: float = 10.0) -> None:
        await asyncio.gather(*(server.shutdown(grace) for server in self.servers))
        await self.completions.wait(grace)
        for task in (self._flusher, self._watcher, self._pruner):
            if task is not None:
                task.cancel()
        if self.definitions is not None:
            await self.definitions.close()
        self.access_log.close()
        await self.pool.close()
        if self.counters is not None:
            await self.counters.close()
        if self._engine is not None:
            await self._engine.dispose()

    async def _prune(self) -> None:
        while True:
            try:
                await self.user_pools.prune()
            except Exception:
                log.exception("could not prune expired user-pool records")
            await asyncio.sleep(PRUNE_INTERVAL)

    async def _flush_logs(self) -> None:
        while True:
            await asyncio.sleep(0.5)
            self.access_log.flush()


def _courier(settings: Settings) -> Courier:
    """SMTP for email when configured; the outbox file for everything else."""
    outbox = FileOutbox(settings.data_dir / OUTBOX_FILE)
    return outbox if settings.smtp is None else SmtpCourier(settings.smtp, outbox)


def _bind(host: str, port: int) -> socket.socket:
    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except BaseException:
        sock.close()
        raise
    return sock


def _base_url(host: str, port: int) -> str:
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else "[::1]" if host == "::" else host  # noqa: S104
    if ":" in shown and not shown.startswith("["):
        shown = f"[{shown}]"
    return f"http://{shown}:{port}"


def describe(router: Router) -> list[str]:
    """One line per deployed stage, for the start-up banner."""
    return [f"{r.plan.api_id} ({r.plan.api_name}) stage {r.plan.stage}" for r in router.stages()]
