"""`authgate validate`: check a settings file, or one definition, without serving it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
import yaml

from authgate.cli.output import fail
from authgate.errors import ConfigError, Problem
from authgate.settings import load_settings

if TYPE_CHECKING:
    from authgate.usage.snapshot import UsageSnapshot


def validate(
    file: Annotated[Path, typer.Argument(help="A settings file or an OpenAPI/Swagger definition.")],
) -> None:
    """Check a settings file (with everything it names) or one definition; print every problem."""
    from authgate.app import (
        IntegrationFactory,
        NoCredentials,
        compile_routes,
        method_steps,
        read_definition,
    )
    from authgate.authorizers.sigv4 import CredentialCache, SigV4Authenticator
    from authgate.clock import SystemClock
    from authgate.definition.openapi import parse_definition
    from authgate.gateway.steps.meter import Metering
    from authgate.http1.client import UpstreamPool
    from authgate.integrations.functions import load_functions
    from authgate.storage.memory_counters import MemoryCounters

    try:
        document = read_definition(file)
        if isinstance(document, dict) and ("openapi" in document or "swagger" in document):
            api = parse_definition(document, api_id="validate", source=str(file))
            typer.echo(f"ok: {file}: {api.protocol.value} API with {len(api.resources)} resources")
            return
        settings = load_settings(file)
        functions = load_functions(settings.functions, settings.base_dir)
        clock = SystemClock()
        authenticator = SigV4Authenticator(
            CredentialCache(NoCredentials()), clock, region=settings.region
        )
        account = (settings.account_throttle.rate, settings.account_throttle.burst)
        metering = Metering(_NoKeys(), MemoryCounters(None, clock), clock, account=account)
        router = compile_routes(
            settings,
            IntegrationFactory(functions, UpstreamPool()),
            method_steps(authenticator, metering, functions=functions, clock=clock),
        )
    except ConfigError as exc:
        fail(exc.problems)
    except yaml.YAMLError as exc:
        fail([Problem(str(file), str(exc))])
    typer.echo(f"ok: {file}: {len(router.stages())} API stages")


class _NoKeys:
    """Methods that require an API key compile with a meter step; validation never runs one."""

    generation = 0

    def digest(self, value: str) -> str:
        return ""

    async def snapshot(self) -> UsageSnapshot:
        raise RuntimeError("validation serves no requests")
