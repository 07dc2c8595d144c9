"""The `authgate` command."""

from __future__ import annotations

import asyncio
import dataclasses
import signal
from pathlib import Path
from typing import Annotated

import typer
import yaml

from authgate.errors import ConfigError, Problem
from authgate.settings import Listen, Settings, load_settings

app = typer.Typer(
    help="authgate: the security model of AWS API Gateway in front of any API.",
    no_args_is_help=True,
    add_completion=False,
)

DEMO = Path(__file__).resolve().parents[3] / "examples" / "demo" / "authgate.yaml"


def find_config(config: Path | None) -> Path:
    """The given file, else ./authgate.yaml, else the bundled demo."""
    if config is not None:
        return config
    local = Path("authgate.yaml")
    if local.exists():
        return local
    if DEMO.exists():
        return DEMO
    raise typer.BadParameter("no authgate.yaml here and no bundled demo; pass --config FILE")


def fail(problems: list[Problem]) -> None:
    for problem in problems:
        typer.echo(f"error: {problem}", err=True)
    raise typer.Exit(1)


@app.command()
def serve(
    config: Annotated[
        Path | None, typer.Option(help="Settings file (default: ./authgate.yaml or the demo).")
    ] = None,
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    data_dir: Annotated[Path | None, typer.Option(help="Where state is kept.")] = None,
) -> None:
    """Serve the APIs of a settings file."""
    from authgate.observability.logging import configure_logging

    path = find_config(config)
    try:
        settings = load_settings(path)
    except ConfigError as exc:
        fail(exc.problems)
    if host is not None or port is not None:
        listen = Listen(
            host or settings.listen.host, settings.listen.port if port is None else port
        )
        settings = dataclasses.replace(settings, listen=listen)
    if data_dir is not None:
        settings = dataclasses.replace(settings, data_dir=data_dir.resolve())
    configure_logging(settings.log_level)
    try:
        import uvloop

        uvloop.run(_serve(settings))
    except ConfigError as exc:
        fail(exc.problems)


async def _serve(settings: Settings) -> None:
    from authgate.app import Application, describe
    from authgate.echo import echo
    from authgate.http1.server import HttpServer

    application = Application(settings)
    echo_server: HttpServer | None = None
    if settings.echo_backend is not None:
        echo_server = HttpServer(echo)
        await echo_server.start(settings.echo_backend.host, settings.echo_backend.port)
    host, port = await application.start()
    typer.echo(f"authgate listening on http://{host}:{port}", err=True)
    if application.new_admin_key is not None:
        credentials = settings.data_dir / "credentials"
        typer.echo(
            f"  created IAM user admin; its access key is in {credentials} (profile default)",
            err=True,
        )
    for line in describe(application.dataplane.router):
        typer.echo(f"  api {line}", err=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    typer.echo("authgate shutting down: finishing requests in flight", err=True)
    await application.stop()
    if echo_server is not None:
        await echo_server.shutdown(1.0)


@app.command()
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
    from authgate.http1.client import UpstreamPool
    from authgate.integrations.functions import load_functions

    try:
        document = read_definition(file)
        if isinstance(document, dict) and ("openapi" in document or "swagger" in document):
            api = parse_definition(document, api_id="validate", source=str(file))
            typer.echo(f"ok: {file}: {api.protocol.value} API with {len(api.resources)} resources")
            return
        settings = load_settings(file)
        functions = load_functions(settings.functions, settings.base_dir)
        authenticator = SigV4Authenticator(
            CredentialCache(NoCredentials()), SystemClock(), region=settings.region
        )
        router = compile_routes(
            settings, IntegrationFactory(functions, UpstreamPool()), method_steps(authenticator)
        )
    except ConfigError as exc:
        fail(exc.problems)
    except yaml.YAMLError as exc:
        fail([Problem(str(file), str(exc))])
    typer.echo(f"ok: {file}: {len(router.stages())} API stages")


def run() -> None:
    app(prog_name="authgate")


if __name__ == "__main__":
    run()
