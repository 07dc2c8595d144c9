"""The API key file of `ImportApiKeys` (format `csv`), read and checked in full.

Pure: no I/O. AWS's format (Developer Guide, `api-key-file-format`): a header row naming the
columns in any order and any letter case; `Name` and `Key` are required, `Description`,
`Enabled` and `UsagePlanIds` optional, others ignored. `Enabled` is true or false in any case
and defaults to true; `UsagePlanIds` holds one id or several, comma-separated inside `"..."`
or `'...'`. Key values are 30 to 128 letters and digits.

Every row is checked before anything is written: `parse()` returns every problem, each naming
its line, and the caller imports only when there are none. Warnings (an ignored column) are
things the caller may choose to fail on (`failonwarnings`).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

MIN_VALUE = 30
MAX_VALUE = 128
MAX_NAME = 1024
MAX_DESCRIPTION = 125_000
MAX_ROWS = 10_000

REQUIRED = ("name", "key")
OPTIONAL = ("description", "enabled", "usageplanids")


@dataclass(frozen=True, slots=True)
class KeyRow:
    line: int
    """The line of the file the row starts on (the header is line 1 when it comes first)."""
    name: str
    value: str
    description: str
    enabled: bool
    plan_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Parsed:
    rows: list[KeyRow]
    problems: list[str]
    """`line N: what is wrong`, in file order; empty when every row is good."""
    warnings: list[str]


def valid_value(value: str, minimum: int) -> bool:
    return minimum <= len(value) <= MAX_VALUE and value.isascii() and value.isalnum()


def parse(body: bytes) -> Parsed:
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        return Parsed([], ["the file is not UTF-8 text"], [])
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    problems: list[str] = []
    warnings: list[str] = []
    rows: list[KeyRow] = []
    columns: dict[str, int] | None = None
    width = 0
    end = 0
    try:
        for fields in reader:
            line, end = end + 1, reader.line_num
            fields = _rejoin_single_quoted(fields)
            if not any(field.strip() for field in fields):
                continue
            if columns is None:
                columns, width, header_problems, ignored = _header(fields, line)
                problems += header_problems
                warnings += [
                    f"line {line}: column {name!r} is not recognised; ignored" for name in ignored
                ]
                if header_problems:
                    return Parsed([], problems, warnings)
                continue
            if len(rows) >= MAX_ROWS:
                problems.append(f"line {line}: the file has more than {MAX_ROWS} keys")
                break
            row, row_problems = _row(fields, columns, width, line)
            problems += row_problems
            if row is not None:
                rows.append(row)
    except csv.Error as exc:
        problems.append(f"line {reader.line_num}: not valid CSV ({exc})")
    if columns is None and not problems:
        problems.append("the file is empty; it needs a header row naming the Name and Key columns")
    problems += _duplicates(rows)
    if columns is not None and not rows and not problems:
        warnings.append("the file has no keys")
    return Parsed(rows, problems, warnings)


def _header(fields: list[str], line: int) -> tuple[dict[str, int], int, list[str], list[str]]:
    columns: dict[str, int] = {}
    problems: list[str] = []
    ignored: list[str] = []
    for index, raw in enumerate(fields):
        name = raw.strip().lower()
        if name in REQUIRED or name in OPTIONAL:
            if name in columns:
                problems.append(f"line {line}: column {raw.strip()!r} appears twice")
            columns[name] = index
        elif name:
            ignored.append(raw.strip())
    for name in REQUIRED:
        if name not in columns:
            problems.append(f"line {line}: the header has no {name.capitalize()} column")
    return columns, len(fields), problems, ignored


def _row(
    fields: list[str], columns: dict[str, int], width: int, line: int
) -> tuple[KeyRow | None, list[str]]:
    problems: list[str] = []
    if len(fields) > width:
        problems.append(f"line {line}: {len(fields)} fields, but the header has {width}")

    def cell(name: str) -> str:
        index = columns.get(name)
        return fields[index].strip() if index is not None and index < len(fields) else ""

    name, value, description = cell("name"), cell("key"), cell("description")
    if not name:
        problems.append(f"line {line}: Name is empty")
    elif len(name) > MAX_NAME:
        problems.append(f"line {line}: Name is longer than {MAX_NAME} characters")
    if not valid_value(value, MIN_VALUE):
        problems.append(f"line {line}: Key must be {MIN_VALUE} to {MAX_VALUE} letters and digits")
    if len(description) > MAX_DESCRIPTION:
        problems.append(f"line {line}: Description is longer than {MAX_DESCRIPTION} characters")
    enabled_text = cell("enabled").lower()
    if enabled_text not in ("", "true", "false"):
        problems.append(f"line {line}: Enabled must be true or false, not {cell('enabled')!r}")
    plan_ids = _plan_ids(cell("usageplanids"))
    if problems:
        return None, problems
    return KeyRow(line, name, value, description, enabled_text != "false", plan_ids), []


def _plan_ids(text: str) -> tuple[str, ...]:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        text = text[1:-1]
    ids = [part.strip() for part in text.split(",")]
    return tuple(dict.fromkeys(part for part in ids if part))


def _rejoin_single_quoted(fields: list[str]) -> list[str]:
    """Python's csv knows one quote character; AWS's format also allows `'a,b'` for the plan
    ids, which csv splits at the comma. Join such pieces back."""
    out: list[str] = []
    index = 0
    while index < len(fields):
        field = fields[index]
        stripped = field.strip()
        if stripped.startswith("'") and not (len(stripped) > 1 and stripped.endswith("'")):
            for end in range(index + 1, len(fields)):
                if fields[end].strip().endswith("'"):
                    out.append(",".join(fields[index : end + 1]))
                    index = end + 1
                    break
            else:
                out.append(field)
                index += 1
            continue
        out.append(field)
        index += 1
    return out


def _duplicates(rows: list[KeyRow]) -> list[str]:
    first: dict[str, int] = {}
    problems = []
    for row in rows:
        seen = first.setdefault(row.value, row.line)
        if seen != row.line:
            problems.append(f"line {row.line}: the same Key as line {seen}")
    return problems
