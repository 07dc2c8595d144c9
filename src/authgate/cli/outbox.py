"""`authgate outbox`: the codes and invitations user pools delivered to the outbox.

Without an `smtp:` block in authgate.yaml, sign-up codes, password-reset codes and temporary
passwords are written to `<data_dir>/outbox` (one JSON object per line, mode 0600) instead of
being sent; this prints them, for local development. A local command: it reads the file.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer

from authgate.cli.client import DEFAULT_DATA_DIR, CliError, JsonOption
from authgate.cli.output import table

OUTBOX_FILE = "outbox"
FOLLOW_INTERVAL = 0.5
COLUMNS = ("time", "purpose", "destination", "code")


def _rows(lines: list[str], source: Path) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            raise CliError(f"{source}:{number}: not a JSON line") from None
        row["time"] = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(row.get("time", 0)))
        rows.append(row)
    return rows


def _follow(path: Path, offset: int) -> Iterator[list[str]]:
    while True:
        time.sleep(FOLLOW_INTERVAL)
        if not path.exists():
            continue
        with path.open(encoding="utf-8") as f:
            f.seek(offset)
            chunk = f.read()
        complete, _, _ = chunk.rpartition("\n")
        if complete:
            offset += len(complete.encode()) + 1
            yield complete.splitlines()


def outbox(
    data_dir: Annotated[
        Path, typer.Option("--data-dir", help="The gateway's data dir.")
    ] = DEFAULT_DATA_DIR,
    last: Annotated[
        int | None, typer.Option("--last", help="Only the last N messages.", min=1)
    ] = None,
    to: Annotated[
        str | None, typer.Option("--to", help="Only messages to this address or number.")
    ] = None,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep printing new messages as they come.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Print the codes and temporary passwords delivered to the outbox."""
    path = data_dir / OUTBOX_FILE
    if not path.exists() and not follow:
        typer.echo(f"no messages yet ({path} does not exist)", err=True)
        return
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    rows = [r for r in _rows(text.splitlines(), path) if to in (None, r.get("destination"))]
    if last is not None:
        rows = rows[-last:]
    _show(rows, as_json, header=True)
    if follow:
        try:
            for lines in _follow(path, len(text.encode())):
                found = [r for r in _rows(lines, path) if to in (None, r.get("destination"))]
                _show(found, as_json, header=False)
        except KeyboardInterrupt:
            return


def _show(rows: list[dict[str, Any]], as_json: bool, *, header: bool) -> None:
    if as_json:
        for row in rows:
            typer.echo(json.dumps(row, ensure_ascii=False))
        return
    lines = table(rows, COLUMNS)
    for line in lines if header else lines[1:]:
        typer.echo(line)
