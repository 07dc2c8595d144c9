"""Read `x-amazon-apigateway-authorizer` declarations into AuthorizerSpecs.

Pure: no I/O. Field names and rules follow the Developer Guide's
`api-gateway-swagger-extensions-authorizer` page and the project's `authorizers.md` fact
sheet. REST APIs know `token`, `request` and `cognito_user_pools`; HTTP APIs `request` and
`jwt`. Whether a declared type can run is not decided here but by the authorizer registry,
when a deployment is compiled.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, cast

from authgate.definition.model import (
    AuthorizerSettings,
    AuthorizerSpec,
    AuthorizerType,
    FunctionAuthorizerSettings,
    IdentitySource,
    IdentitySourceKind,
    JwtAuthorizerSettings,
    PayloadVersion,
    Protocol,
    UserPoolAuthorizerSettings,
)

Report = Callable[[str, str], None]
"""(JSON-pointer location, message): how the caller collects a problem."""

EXTENSION = "x-amazon-apigateway-authorizer"
DEFAULT_TTL_S = 300
MAX_TTL_S = 3600

_TYPES: dict[Protocol, dict[str, AuthorizerType]] = {
    Protocol.REST: {
        "token": AuthorizerType.TOKEN,
        "request": AuthorizerType.REQUEST,
        "cognito_user_pools": AuthorizerType.COGNITO_USER_POOLS,
    },
    Protocol.HTTP: {"request": AuthorizerType.REQUEST, "jwt": AuthorizerType.JWT},
}
_FIELDS = frozenset(
    {
        "type",
        "authorizerUri",
        "authorizerCredentials",
        "authorizerPayloadFormatVersion",
        "authorizerResultTtlInSeconds",
        "enableSimpleResponses",
        "identitySource",
        "identityValidationExpression",
        "jwtConfiguration",
        "providerARNs",
    }
)
_REST_SOURCE = re.compile(
    r"^(?:method\.request\.(header|querystring)|(stageVariables)|(context))\.(.+)$"
)
_HTTP_SOURCE = re.compile(r"^\$(?:request\.(header|querystring)|(stageVariables)|(context))\.(.+)$")
_USER_POOL_ARN = re.compile(r"^arn:aws[a-z-]*:cognito-idp:[a-z0-9-]+:\d{12}:userpool/[\w-]+_\w+$")


def parse_authorizer(
    name: str, scheme: dict[str, Any], protocol: Protocol, at: str, source: str, report: Report
) -> AuthorizerSpec | None:
    """The authorizer a security scheme declares; None (with problems reported) if invalid.

    `at` is the scheme's JSON pointer, `source` the document's name (for the spec's location).
    """
    where = f"{at}/{EXTENSION}"
    raw = scheme[EXTENSION]
    if not isinstance(raw, dict):
        report(where, "must be an object")
        return None
    counted = _Counter(report)
    report = counted
    for key in raw:
        if key not in _FIELDS:
            report(f"{where}/{key}", f"authorizer field {key!r} is not supported by authgate yet")
    kind = _TYPES[protocol].get(str(raw.get("type", "")).lower())
    if kind is None:
        allowed = ", ".join(_TYPES[protocol])
        report(f"{where}/type", f"must be one of {allowed} in a {protocol.value} API")
        return None
    sources = _identity_sources(kind, scheme, raw, protocol, at, where, report)
    ttl = _ttl(kind, raw, where, report)
    if ttl and not sources and kind is not AuthorizerType.JWT:
        report(
            f"{where}/identitySource",
            "required while results are cached (authorizerResultTtlInSeconds > 0, default "
            f"{DEFAULT_TTL_S}); set the TTL to 0 to call the function for every request",
        )
    settings = _settings(kind, raw, protocol, where, report)
    if settings is None or counted.count:
        return None
    return AuthorizerSpec(name, kind, f"{source}:{at}", sources, ttl, settings)


class _Counter:
    """Counts the problems reported through it (a spec with any is not returned)."""

    def __init__(self, report: Report) -> None:
        self._report = report
        self.count = 0

    def __call__(self, where: str, message: str) -> None:
        self.count += 1
        self._report(where, message)


def _identity_sources(
    kind: AuthorizerType,
    scheme: dict[str, Any],
    raw: dict[str, Any],
    protocol: Protocol,
    at: str,
    where: str,
    report: Report,
) -> tuple[IdentitySource, ...]:
    declared = raw.get("identitySource")
    if declared is None and kind in (AuthorizerType.TOKEN, AuthorizerType.COGNITO_USER_POOLS):
        # REST token and user-pool authorizers read the header the apiKey scheme names.
        header = scheme.get("name")
        if scheme.get("in") != "header" or not isinstance(header, str) or not header:
            report(at, "a token authorizer's scheme is `type: apiKey, in: header, name: HEADER`")
            return ()
        return (IdentitySource("header", header, f"method.request.header.{header}"),)
    if declared is None and kind is AuthorizerType.JWT:
        declared = "$request.header.Authorization"
    if declared is None:
        return ()
    if isinstance(declared, str):
        expressions = [part.strip() for part in declared.split(",")]
    elif isinstance(declared, list) and all(isinstance(part, str) for part in declared):
        expressions = [part.strip() for part in declared]
    else:
        report(f"{where}/identitySource", "must be a comma-separated list of expressions")
        return ()
    pattern = _REST_SOURCE if protocol is Protocol.REST else _HTTP_SOURCE
    sources: list[IdentitySource] = []
    for expression in expressions:
        match = pattern.match(expression)
        if match is None:
            example = (
                "method.request.header.NAME, method.request.querystring.NAME, "
                "stageVariables.NAME or context.NAME"
                if protocol is Protocol.REST
                else "$request.header.NAME, $request.querystring.NAME, $stageVariables.NAME "
                "or $context.NAME"
            )
            report(f"{where}/identitySource", f"{expression!r} is not one of {example}")
            continue
        found = cast(IdentitySourceKind, match.group(1) or match.group(2) or match.group(3))
        sources.append(IdentitySource(found, match.group(4), expression))
    if kind in (AuthorizerType.TOKEN, AuthorizerType.COGNITO_USER_POOLS) and (
        len(sources) != 1 or sources[0].kind != "header"
    ):
        report(f"{where}/identitySource", "a token authorizer reads exactly one header")
    return tuple(sources)


def _ttl(kind: AuthorizerType, raw: dict[str, Any], where: str, report: Report) -> int:
    value = raw.get("authorizerResultTtlInSeconds")
    if kind is AuthorizerType.JWT:
        if value is not None:
            report(f"{where}/authorizerResultTtlInSeconds", "JWT authorizers cache no results")
        return 0
    if value is None:
        return DEFAULT_TTL_S
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_TTL_S:
        report(f"{where}/authorizerResultTtlInSeconds", f"must be an integer from 0 to {MAX_TTL_S}")
        return 0
    return value


def _settings(
    kind: AuthorizerType, raw: dict[str, Any], protocol: Protocol, where: str, report: Report
) -> AuthorizerSettings | None:
    if kind is AuthorizerType.JWT:
        return _jwt(raw.get("jwtConfiguration"), f"{where}/jwtConfiguration", report)
    if kind is AuthorizerType.COGNITO_USER_POOLS:
        arns = raw.get("providerARNs")
        if not isinstance(arns, list) or not arns or not all(isinstance(a, str) for a in arns):
            report(f"{where}/providerARNs", "must list one or more user pool ARNs")
            return None
        for i, arn in enumerate(arns):
            if not _USER_POOL_ARN.match(arn):
                report(f"{where}/providerARNs/{i}", f"{arn!r} is not a user pool ARN")
        expression = _expression(raw, where, report)
        return UserPoolAuthorizerSettings(tuple(arns), expression)
    uri = raw.get("authorizerUri")
    if not isinstance(uri, str) or not uri:
        report(f"{where}/authorizerUri", "required: the function's invocation URI")
        return None
    credentials = raw.get("authorizerCredentials")
    if credentials is not None and not isinstance(credentials, str):
        report(f"{where}/authorizerCredentials", "must be an IAM role ARN")
        credentials = None
    version, simple = _http_payload(raw, protocol, where, report)
    expression = _expression(raw, where, report) if kind is AuthorizerType.TOKEN else None
    return FunctionAuthorizerSettings(uri, expression, version, simple, credentials)


def _http_payload(
    raw: dict[str, Any], protocol: Protocol, where: str, report: Report
) -> tuple[PayloadVersion, bool]:
    version = raw.get("authorizerPayloadFormatVersion")
    simple = raw.get("enableSimpleResponses", False)
    if protocol is Protocol.REST:
        for key in ("authorizerPayloadFormatVersion", "enableSimpleResponses"):
            if key in raw:
                report(f"{where}/{key}", "HTTP APIs only")
        return "1.0", False
    if version not in ("1.0", "2.0"):
        report(f"{where}/authorizerPayloadFormatVersion", "required: 1.0 or 2.0")
        return "2.0", False
    if not isinstance(simple, bool):
        report(f"{where}/enableSimpleResponses", "must be true or false")
        simple = False
    if simple and version != "2.0":
        report(f"{where}/enableSimpleResponses", "needs authorizerPayloadFormatVersion 2.0")
    return ("2.0" if version == "2.0" else "1.0"), simple


def _expression(raw: dict[str, Any], where: str, report: Report) -> str | None:
    expression = raw.get("identityValidationExpression")
    if expression is None:
        return None
    if not isinstance(expression, str):
        report(f"{where}/identityValidationExpression", "must be a regular expression")
        return None
    try:
        re.compile(expression)
    except re.error as exc:
        report(f"{where}/identityValidationExpression", f"not a valid regular expression: {exc}")
        return None
    return expression


def _jwt(raw: object, where: str, report: Report) -> JwtAuthorizerSettings | None:
    if not isinstance(raw, dict):
        report(where, "required: an object with issuer and audience")
        return None
    for key in raw:
        if key not in ("issuer", "audience"):
            report(f"{where}/{key}", f"jwtConfiguration field {key!r} is not supported")
    issuer = raw.get("issuer")
    if not isinstance(issuer, str) or not issuer:
        report(f"{where}/issuer", "required: the issuer URL")
        return None
    audience = raw.get("audience", [])
    if isinstance(audience, str):
        audience = [audience]
    if not isinstance(audience, list) or not all(isinstance(a, str) and a for a in audience):
        report(f"{where}/audience", "must be a list of audiences")
        return None
    if not 1 <= len(audience) <= 50:
        report(f"{where}/audience", "must list from 1 to 50 audiences")
        return None
    return JwtAuthorizerSettings(issuer, tuple(audience))
