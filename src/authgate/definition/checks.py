"""The checks the definition service applies to what callers send, as API Gateway's
BadRequestException messages.

Pure: no I/O. Stage names follow authgate.yaml's rule, reserved prefixes included: a stage
named `healthz` or `oauth2` would be shadowed by the gateway's own endpoints in the short
`/{stage}/...` invoke URL.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Final

import orjson

from authgate.errors import Problem
from authgate.policy import ApiScope, PolicyError, PolicyKind, parse_policy
from authgate.settings import RESERVED_PREFIXES, STAGE_NAME
from authgate.usage.errors import BadRequest

MAX_LISTED: Final = 50
"""Problems listed in one error message; the rest are counted."""
MAX_VARIABLES: Final = 100
MAX_DESCRIPTION: Final = 1024
_VARIABLE = re.compile(r"^[A-Za-z0-9_]{1,64}$")


def problems_message(headline: str, problems: Sequence[Problem], strip: str = "") -> str:
    """`headline` and one problem per line (`location: message`), as AWS lists import errors.
    `strip` is a location prefix to leave out (the name of the request body)."""
    lines = []
    for problem in problems[:MAX_LISTED]:
        location = problem.location.removeprefix(strip)
        lines.append(f"{location}: {problem.message}")
    if len(problems) > MAX_LISTED:
        lines.append(f"... and {len(problems) - MAX_LISTED} more")
    return "\n\t".join([headline, *lines])


def check_stage_name(name: str) -> str:
    if not STAGE_NAME.fullmatch(name):
        raise BadRequest("Stage name only allows a-zA-Z0-9_- (1 to 128 characters)")
    if name.lower() in RESERVED_PREFIXES:
        raise BadRequest(f"Stage name {name!r} is reserved for the gateway's own endpoints")
    return name


def check_variable(name: str, value: str) -> None:
    if not _VARIABLE.fullmatch(name):
        raise BadRequest(f"Invalid stage variable name {name!r}: 1-64 of [A-Za-z0-9_]")
    if len(value) > 512:
        raise BadRequest(f"Invalid value for stage variable {name}: at most 512 characters")


def check_variables(variables: Mapping[str, object] | None) -> dict[str, str]:
    if not variables:
        return {}
    if len(variables) > MAX_VARIABLES:
        raise BadRequest(f"Too many stage variables: at most {MAX_VARIABLES}")
    out: dict[str, str] = {}
    for name, value in variables.items():
        if not isinstance(value, str):
            raise BadRequest(f"Invalid value for stage variable {name}: a string is expected")
        check_variable(name, value)
        out[name] = value
    return out


def check_description(description: str) -> str:
    if len(description) > MAX_DESCRIPTION:
        raise BadRequest(f"Invalid description: at most {MAX_DESCRIPTION} characters")
    return description


def check_policy(text: str, scope: ApiScope, where: str = "") -> str:
    """A resource policy as compact JSON text; BadRequest lists what is wrong with it."""
    try:
        parse_policy(text, kind=PolicyKind.RESOURCE, name="resource policy", scope=scope)
    except PolicyError as exc:
        problems = [Problem(f"{where}{p.location}", p.message) for p in exc.problems]
        raise BadRequest(problems_message("Invalid policy document:", problems)) from None
    try:
        return orjson.dumps(orjson.loads(text)).decode()
    except orjson.JSONDecodeError:  # JSON that only Python's parser takes (NaN)
        raise BadRequest("Invalid policy document: not strict JSON") from None
