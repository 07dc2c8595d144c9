"""What the commands print: aligned tables, JSON, and problems, all on plain text terminals."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NoReturn

import orjson
import typer

from authgate.errors import Problem


def table(rows: Sequence[Mapping[str, object]], columns: Sequence[str]) -> list[str]:
    """Rows as left-aligned columns under a header; a missing value prints as `-`."""
    cells = [list(columns)]
    cells += [[_text(row.get(column)) for column in columns] for row in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(columns))]
    return [
        "  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() for line in cells
    ]


def print_table(rows: Sequence[Mapping[str, object]], columns: Sequence[str]) -> None:
    for line in table(rows, columns):
        typer.echo(line)


def print_json(value: object) -> None:
    """JSON with dates as ISO 8601 (what `--json` promises scripts)."""
    typer.echo(orjson.dumps(value, default=str, option=orjson.OPT_INDENT_2).decode())


def pairs(items: Sequence[tuple[str, str]], indent: str = "") -> None:
    """`label  value` lines with the values aligned."""
    width = max((len(label) for label, _ in items), default=0)
    for label, value in items:
        typer.echo(f"{indent}{label.ljust(width)}  {value}".rstrip())


def fail(problems: list[Problem]) -> NoReturn:
    for problem in problems:
        typer.echo(f"error: {problem}", err=True)
    raise typer.Exit(1)


def _text(value: object) -> str:
    if value is None or value == "":
        return "-"
    if hasattr(value, "strftime"):
        return str(value.strftime("%Y-%m-%d %H:%M:%S"))
    return str(value)
