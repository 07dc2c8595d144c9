"""Read authgate's shared-secret JWT authorizer (`x-authgate-jwt` on a security scheme).

An authgate extension, not an AWS feature: API Gateway verifies only RSA-signed JWTs whose keys
it can fetch, while many services sign their own tokens with an HMAC secret. The scheme says
where the token is (`type: http, scheme: bearer` reads `Authorization`; `type: apiKey, in:
header, name: H` reads `H`) and the extension what to check::

    ordersToken:
      type: http
      scheme: bearer
      bearerFormat: JWT
      x-authgate-jwt:
        issuer: https://orders.example.com
        audience: [orders-api]            # optional: aud (else client_id) must be one of these
        secret: {env: ORDERS_JWT_SECRET}  # required: the variable that holds the secret
        algorithms: [HS256]               # optional: HS256 (default), HS384, HS512

The secret itself never appears in a definition (definitions are stored, exported and shown);
it is read from the environment when the API is deployed. Methods name the scheme like any
authorizer, with scopes if they want them. Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from authgate.definition.model import (
    AuthorizerSpec,
    AuthorizerType,
    IdentitySource,
    Protocol,
    SharedSecretJwtSettings,
)

EXTENSION = "x-authgate-jwt"
ALGORITHMS = ("HS256", "HS384", "HS512")

Report = Callable[[str, str], None]

_FIELDS = frozenset({"issuer", "audience", "secret", "algorithms"})
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def parse_shared_secret_jwt(
    name: str, scheme: dict[str, Any], protocol: Protocol, at: str, source: str, report: Report
) -> AuthorizerSpec | None:
    """The authorizer the scheme declares; None (with problems reported) if anything is wrong."""
    where = f"{at}/{EXTENSION}"
    raw = scheme[EXTENSION]
    problems: list[tuple[str, str]] = []

    def problem(location: str, message: str) -> None:
        problems.append((location, message))

    header = _header(scheme, at, problem)
    if not isinstance(raw, dict):
        problem(where, "must be an object with issuer and secret")
        raw = {}
    for key in raw:
        if key not in _FIELDS:
            problem(f"{where}/{key}", f"field {key!r} is not one of {', '.join(sorted(_FIELDS))}")
    issuer = raw.get("issuer")
    if not isinstance(issuer, str) or not issuer:
        problem(f"{where}/issuer", "required: the issuer (`iss`) of the tokens")
    audiences = _audiences(raw.get("audience"), f"{where}/audience", problem)
    secret_env = _secret_env(raw.get("secret"), f"{where}/secret", problem)
    algorithms = _algorithms(raw.get("algorithms"), f"{where}/algorithms", problem)
    for location, message in problems:
        report(location, message)
    if problems or header is None or secret_env is None or not isinstance(issuer, str):
        return None
    expression = (
        f"method.request.header.{header}"
        if protocol is Protocol.REST
        else f"$request.header.{header}"
    )
    return AuthorizerSpec(
        name,
        AuthorizerType.JWT,
        f"{source}:{at}",
        (IdentitySource("header", header, expression),),
        0,
        SharedSecretJwtSettings(issuer, audiences, secret_env, algorithms),
    )


def _header(scheme: dict[str, Any], at: str, problem: Report) -> str | None:
    kind = scheme.get("type")
    if kind == "http" and str(scheme.get("scheme", "")).lower() == "bearer":
        return "Authorization"
    header = scheme.get("name")
    if kind == "apiKey" and scheme.get("in") == "header" and isinstance(header, str) and header:
        return header
    problem(at, "a JWT scheme is `type: http, scheme: bearer` or `type: apiKey, in: header`")
    return None


def _audiences(raw: object, where: str, problem: Report) -> tuple[str, ...]:
    if raw is None:
        return ()
    listed = [raw] if isinstance(raw, str) else raw
    if (
        not isinstance(listed, list)
        or not listed
        or not all(isinstance(a, str) and a for a in listed)
    ):
        problem(where, "must be an audience or a list of audiences")
        return ()
    return tuple(listed)


def _secret_env(raw: object, where: str, problem: Report) -> str | None:
    if isinstance(raw, str):
        problem(where, "must name where the secret is, as {env: VARIABLE}; not the secret itself")
        return None
    if not isinstance(raw, dict) or set(raw) != {"env"}:
        problem(where, "required: {env: VARIABLE}, the environment variable holding the secret")
        return None
    variable = raw["env"]
    if not isinstance(variable, str) or not _ENV_NAME.fullmatch(variable):
        problem(f"{where}/env", "must be an environment variable name")
        return None
    return variable


def _algorithms(raw: object, where: str, problem: Report) -> tuple[str, ...]:
    if raw is None:
        return ("HS256",)
    if not isinstance(raw, list) or not raw or any(a not in ALGORITHMS for a in raw):
        problem(where, f"must list one or more of {', '.join(ALGORITHMS)}")
        return ("HS256",)
    return tuple(dict.fromkeys(raw))
