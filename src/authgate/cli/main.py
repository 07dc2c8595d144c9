"""The `authgate` command: one sub-command or group per noun, each in its own module."""

from __future__ import annotations

import typer

from authgate.cli.authorizers import app as authorizers_app
from authgate.cli.explain import explain
from authgate.cli.iam import app as iam_app
from authgate.cli.keys import app as keys_app
from authgate.cli.outbox import outbox
from authgate.cli.plans import app as plans_app
from authgate.cli.policy import app as policy_app
from authgate.cli.pools import app as pools_app
from authgate.cli.serve import serve
from authgate.cli.usage import usage
from authgate.cli.users import app as users_app
from authgate.cli.validate import validate

app = typer.Typer(
    help="authgate: the security model of AWS API Gateway in front of any API.",
    no_args_is_help=True,
    add_completion=False,
)
app.command()(serve)
app.command()(validate)
app.add_typer(iam_app, name="iam")
app.command()(explain)
app.add_typer(policy_app, name="policy")
app.add_typer(keys_app, name="keys")
app.add_typer(plans_app, name="plans")
app.command()(usage)
app.add_typer(pools_app, name="pools")
app.add_typer(users_app, name="users")
app.command()(outbox)
app.add_typer(authorizers_app, name="authorizers")


def run() -> None:
    try:
        app(prog_name="authgate")
    except Exception as exc:
        from authgate.cli.client import one_line

        message = one_line(exc)
        if message is None:
            raise
        typer.echo(f"error: {message}", err=True)
        raise SystemExit(1) from None


if __name__ == "__main__":
    run()
