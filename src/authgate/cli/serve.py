"""`authgate serve`: run the gateway of a settings file until interrupted."""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import signal
from pathlib import Path
from typing import Annotated

import typer

from authgate.cli.output import fail
from authgate.errors import ConfigError
from authgate.settings import Listen, Settings, load_settings

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
    # Everything start-up built lives as long as the process: freezing it keeps the
    # collector's full passes short (p99 fell from 30-51 ms to 17-20 ms under load). Requests
    # free almost everything they allocate by reference counting, so a young pass every 700
    # net allocations mostly walked the objects of requests in flight: at 10,000 the young
    # passes under load fell from ~40 to ~0 a second.
    gc.freeze()
    gc.set_threshold(10_000, 10, 10)
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
