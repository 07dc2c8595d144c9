"""Typed settings read once from `authgate.yaml`; every problem is reported with its location.

Unknown keys are errors, never silently ignored: a misspelt key would otherwise be a
security setting that quietly does nothing.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from authgate.errors import ConfigError, Problem

RESERVED_PREFIXES = frozenset(
    {
        "healthz",
        "metrics",
        "restapis",
        "oauth2",
        "login",
        "logout",
        "signup",
        "console",
        "ping",
        "sping",
        ".well-known",
    }
)
STAGE_NAME = re.compile(r"^(?:\$default|[A-Za-z0-9_-]{1,128})$")
API_ID = re.compile(r"^[a-z0-9]{1,32}$")


@dataclass(frozen=True, slots=True)
class Listen:
    host: str = "127.0.0.1"
    port: int = 8080


@dataclass(frozen=True, slots=True)
class FunctionSettings:
    name: str
    handler: str
    """`path/to/file.py:function` (relative to the config file) or `package.module:function`."""
    timeout: float = 3.0
    memory: int = 128


@dataclass(frozen=True, slots=True)
class Throttle:
    """A token bucket: `rate` requests per second on average, bursts of up to `burst`."""

    rate: float
    burst: int


@dataclass(frozen=True, slots=True)
class StageSettings:
    name: str
    variables: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    access_log_format: str | None = None
    throttle: Throttle | None = None
    """The stage's default throttle for every method (AWS's `*/*` method setting)."""
    method_throttles: Mapping[str, Throttle] = field(default_factory=lambda: MappingProxyType({}))
    """Per-method throttles keyed `/resource/path/VERB` (`//GET` for the root), as AWS keys them."""


@dataclass(frozen=True, slots=True)
class ApiSettings:
    id: str | None
    definition: Path
    stages: tuple[StageSettings, ...]
    location: str


@dataclass(frozen=True, slots=True)
class EchoBackend:
    """An HTTP echo server started beside the gateway (an authgate extension for demos)."""

    host: str = "127.0.0.1"
    port: int = 9000


@dataclass(frozen=True, slots=True)
class VpcEndpoint:
    """An extra listener that stands for a VPC interface endpoint: PRIVATE APIs answer only
    here, and requests carry aws:SourceVpc / aws:SourceVpce."""

    host: str
    port: int
    vpc: str
    vpce: str


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    """Where user-pool codes go by email; without it they go to `<data_dir>/outbox`."""

    host: str
    port: int = 587
    sender: str = "no-reply@localhost"
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    starttls: bool = True


@dataclass(frozen=True, slots=True)
class ClientSeed:
    id: str
    name: str
    generate_secret: bool = False
    settings: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    """CreateUserPoolClient members, as the cognito-idp API spells them."""


@dataclass(frozen=True, slots=True)
class PoolSeed:
    """A user pool created at start when absent (never changed or deleted afterwards)."""

    id: str
    name: str
    location: str
    settings: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    """CreateUserPool members, as the cognito-idp API spells them."""
    clients: tuple[ClientSeed, ...] = ()


@dataclass(frozen=True, slots=True)
class Settings:
    base_dir: Path
    source: str
    region: str = "us-east-1"
    account_id: str = "123456789012"
    listen: Listen = Listen()
    data_dir: Path = Path(".authgate")
    records: str = ""
    """Where records live: `sqlite:///path` (relative to this file) or `postgresql://…`;
    default: `authgate.db` in the data dir."""
    counters: str = "memory://"
    functions: Mapping[str, FunctionSettings] = field(default_factory=lambda: MappingProxyType({}))
    apis: tuple[ApiSettings, ...] = ()
    access_log: str = "-"
    """Where access-log lines go: `-` for standard output, or a file path."""
    log_level: str = "INFO"
    echo_backend: EchoBackend | None = None
    trusted_proxies: tuple[str, ...] = ()
    """CIDRs of proxies whose X-Forwarded-For is believed; from anyone else it is ignored."""
    endpoints: tuple[VpcEndpoint, ...] = ()
    account_throttle: Throttle = Throttle(10_000.0, 5_000)
    """AWS's account-level default across all APIs of this gateway."""
    throttle_fail_open: bool = False
    """When the counter store is unreachable: deny (False, the default) or let throttled-only
    methods through. Quotas and API-key checks always fail closed."""
    public_url: str | None = None
    """The base URL clients reach the gateway at (no trailing slash): user-pool tokens are
    issued by `<public_url>/<poolId>`. Default: `http://<listen host>:<listen port>`."""
    smtp: SmtpSettings | None = None
    user_pools: tuple[PoolSeed, ...] = ()


class _Reader:
    """Walks a YAML mapping, collecting problems instead of stopping at the first."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[Problem] = []

    def problem(self, where: str, message: str) -> None:
        self.problems.append(Problem(f"{self.source}:{where}", message))

    def mapping(self, value: object, where: str, allowed: set[str]) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.problem(where, "must be a mapping")
            return {}
        for key in value:
            if key not in allowed:
                self.problem(f"{where}/{key}", f"unknown key {key!r}")
        return value

    def text(self, value: object, where: str, default: str) -> str:
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, str | int):
            self.problem(where, "must be a string")
            return default
        return str(value)

    def integer(self, value: object, where: str, default: int, lo: int, hi: int) -> int:
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            self.problem(where, f"must be an integer from {lo} to {hi}")
            return default
        return value

    def number(self, value: object, where: str, default: float, lo: float, hi: float) -> float:
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int | float) or not lo <= value <= hi:
            self.problem(where, f"must be a number from {lo} to {hi}")
            return default
        return float(value)


_TOP = {
    "region",
    "account_id",
    "listen",
    "data_dir",
    "records",
    "counters",
    "functions",
    "apis",
    "access_log",
    "log_level",
    "echo_backend",
    "trusted_proxies",
    "endpoints",
    "account_throttle",
    "throttle_fail_open",
    "public_url",
    "smtp",
    "user_pools",
}


def load_settings(path: Path) -> Settings:
    """Read and validate a settings file; raises ConfigError listing every problem."""
    source = str(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError([Problem(source, f"cannot read: {exc.strerror}")]) from None
    except yaml.YAMLError as exc:
        raise ConfigError([Problem(source, f"not valid YAML: {exc}")]) from None
    return parse_settings(raw if raw is not None else {}, path.resolve().parent, source)


def parse_settings(raw: object, base_dir: Path, source: str = "authgate.yaml") -> Settings:
    r = _Reader(source)
    top = r.mapping(raw, "#", _TOP)
    region = r.text(top.get("region"), "#/region", "us-east-1")
    if not re.fullmatch(r"[a-z]{2}(-[a-z]+)+-\d", region):
        r.problem("#/region", f"{region!r} is not a region name such as us-east-1")
    account_id = r.text(top.get("account_id"), "#/account_id", "123456789012")
    if not re.fullmatch(r"\d{12}", account_id):
        r.problem("#/account_id", "must be 12 digits (quote it in YAML)")
    listen_raw = r.mapping(top.get("listen", {}), "#/listen", {"host", "port"})
    listen = Listen(
        r.text(listen_raw.get("host"), "#/listen/host", "127.0.0.1"),
        r.integer(listen_raw.get("port"), "#/listen/port", 8080, 0, 65535),
    )
    data_dir = (base_dir / r.text(top.get("data_dir"), "#/data_dir", ".authgate")).resolve()
    functions = _functions(r, top.get("functions", {}))
    apis = _apis(r, top.get("apis", []), base_dir)
    log_level = r.text(top.get("log_level"), "#/log_level", "INFO").upper()
    if log_level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
        r.problem("#/log_level", "must be one of DEBUG, INFO, WARNING, ERROR")
    echo: EchoBackend | None = None
    if top.get("echo_backend") is not None:
        echo_raw = r.mapping(top["echo_backend"], "#/echo_backend", {"host", "port"})
        echo = EchoBackend(
            r.text(echo_raw.get("host"), "#/echo_backend/host", "127.0.0.1"),
            r.integer(echo_raw.get("port"), "#/echo_backend/port", 9000, 0, 65535),
        )
    access_log = r.text(top.get("access_log"), "#/access_log", "-")
    trusted = _trusted_proxies(r, top.get("trusted_proxies", []))
    endpoints = _endpoints(r, top.get("endpoints", []))
    account = _throttle(r, top.get("account_throttle"), "#/account_throttle")
    fail_open = top.get("throttle_fail_open", False)
    if not isinstance(fail_open, bool):
        r.problem("#/throttle_fail_open", "must be true or false")
        fail_open = False
    settings = Settings(
        base_dir=base_dir,
        source=source,
        region=region,
        account_id=account_id,
        listen=listen,
        data_dir=data_dir,
        records=r.text(top.get("records"), "#/records", ""),
        counters=r.text(top.get("counters"), "#/counters", "memory://"),
        functions=MappingProxyType(functions),
        apis=apis,
        access_log=access_log if access_log == "-" else str(base_dir / access_log),
        log_level=log_level,
        echo_backend=echo,
        trusted_proxies=trusted,
        endpoints=endpoints,
        account_throttle=account or Throttle(10_000.0, 5_000),
        throttle_fail_open=fail_open,
        public_url=_public_url(r, top.get("public_url")),
        smtp=_smtp(r, top.get("smtp")),
        user_pools=_user_pools(r, top.get("user_pools", [])),
    )
    if r.problems:
        raise ConfigError(r.problems)
    return settings


def records_url(settings: Settings) -> str:
    """The records URL, defaulting to a SQLite file in the data dir."""
    return settings.records or f"sqlite:///{settings.data_dir / 'authgate.db'}"


def _functions(r: _Reader, raw: object) -> dict[str, FunctionSettings]:
    if not isinstance(raw, dict):
        r.problem("#/functions", "must be a mapping of function name to settings")
        return {}
    out: dict[str, FunctionSettings] = {}
    for name, spec in raw.items():
        where = f"#/functions/{name}"
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", str(name)):
            r.problem(where, "a function name has 1-64 letters, digits, '-' or '_'")
        body = r.mapping(spec, where, {"handler", "timeout", "memory"})
        handler = r.text(body.get("handler"), f"{where}/handler", "")
        if ":" not in handler:
            r.problem(f"{where}/handler", "must be 'file.py:function' or 'module:function'")
        out[str(name)] = FunctionSettings(
            name=str(name),
            handler=handler,
            timeout=r.number(body.get("timeout"), f"{where}/timeout", 3.0, 0.001, 900.0),
            memory=r.integer(body.get("memory"), f"{where}/memory", 128, 128, 10_240),
        )
    return out


def _apis(r: _Reader, raw: object, base_dir: Path) -> tuple[ApiSettings, ...]:
    if not isinstance(raw, list):
        r.problem("#/apis", "must be a list")
        return ()
    apis: list[ApiSettings] = []
    seen_ids: set[str] = set()
    for i, item in enumerate(raw):
        where = f"#/apis/{i}"
        body = r.mapping(item, where, {"id", "definition", "stages"})
        api_id = body.get("id")
        if api_id is not None:
            api_id = str(api_id)
            if not API_ID.fullmatch(api_id):
                r.problem(f"{where}/id", "an API id has 1-32 lower-case letters or digits")
            elif api_id in seen_ids:
                r.problem(f"{where}/id", f"API id {api_id!r} is used twice")
            seen_ids.add(api_id)
        definition = r.text(body.get("definition"), f"{where}/definition", "")
        if not definition:
            r.problem(f"{where}/definition", "required: the OpenAPI or Swagger file")
        stages = _stages(r, body.get("stages"), where)
        apis.append(ApiSettings(api_id, base_dir / definition, stages, where))
    return tuple(apis)


def _stages(r: _Reader, raw: object, api_where: str) -> tuple[StageSettings, ...]:
    if not isinstance(raw, list) or not raw:
        r.problem(f"{api_where}/stages", "required: a list with at least one stage")
        return ()
    stages: list[StageSettings] = []
    names: set[str] = set()
    for j, item in enumerate(raw):
        where = f"{api_where}/stages/{j}"
        body = r.mapping(
            item,
            where,
            {"name", "variables", "access_log_format", "throttle", "method_throttles"},
        )
        name = r.text(body.get("name"), f"{where}/name", "")
        if not STAGE_NAME.fullmatch(name):
            r.problem(f"{where}/name", "a stage name has 1-128 letters, digits, '-' or '_'")
        elif name.lower() in RESERVED_PREFIXES:
            r.problem(f"{where}/name", f"{name!r} is reserved for authgate's own endpoints")
        elif name in names:
            r.problem(f"{where}/name", f"stage {name!r} is declared twice")
        names.add(name)
        variables_raw = body.get("variables") or {}
        variables: dict[str, str] = {}
        if not isinstance(variables_raw, dict):
            r.problem(f"{where}/variables", "must be a mapping")
        else:
            for key, value in variables_raw.items():
                if not re.fullmatch(r"[A-Za-z0-9_]{1,64}", str(key)):
                    r.problem(f"{where}/variables/{key}", "a variable name has 1-64 [A-Za-z0-9_]")
                text = r.text(value, f"{where}/variables/{key}", "")
                if len(text) > 512:
                    r.problem(f"{where}/variables/{key}", "a value has at most 512 characters")
                variables[str(key)] = text
        fmt = body.get("access_log_format")
        method_throttles: dict[str, Throttle] = {}
        raw_methods = body.get("method_throttles") or {}
        if not isinstance(raw_methods, dict):
            r.problem(f"{where}/method_throttles", "must map `/path/VERB` to a throttle")
            raw_methods = {}
        for key, value in raw_methods.items():
            at = f"{where}/method_throttles/{key}"
            if not re.fullmatch(r"/.*/(GET|PUT|POST|DELETE|PATCH|HEAD|OPTIONS|\*)", str(key)):
                r.problem(at, "a method throttle is keyed `/resource/path/VERB`, e.g. /pets/GET")
            method_throttles[str(key)] = _throttle(r, value, at) or Throttle(0, 0)
        stages.append(
            StageSettings(
                name,
                MappingProxyType(variables),
                r.text(fmt, f"{where}/access_log_format", "") or None,
                _throttle(r, body.get("throttle"), f"{where}/throttle"),
                MappingProxyType(method_throttles),
            )
        )
    return tuple(stages)


def _throttle(r: _Reader, raw: object, where: str) -> Throttle | None:
    if raw is None:
        return None
    body = r.mapping(raw, where, {"rate", "burst"})
    return Throttle(
        r.number(body.get("rate"), f"{where}/rate", 0.0, 0.0, 1_000_000.0),
        r.integer(body.get("burst"), f"{where}/burst", 0, 0, 1_000_000),
    )


def _trusted_proxies(r: _Reader, raw: object) -> tuple[str, ...]:
    if not isinstance(raw, list):
        r.problem("#/trusted_proxies", "must be a list of addresses or CIDRs")
        return ()
    out: list[str] = []
    for i, item in enumerate(raw):
        try:
            out.append(str(ipaddress.ip_network(str(item), strict=False)))
        except ValueError:
            r.problem(f"#/trusted_proxies/{i}", f"{item!r} is not an IP address or CIDR")
    return tuple(out)


def _endpoints(r: _Reader, raw: object) -> tuple[VpcEndpoint, ...]:
    if not isinstance(raw, list):
        r.problem("#/endpoints", "must be a list of VPC endpoint listeners")
        return ()
    out: list[VpcEndpoint] = []
    for i, item in enumerate(raw):
        where = f"#/endpoints/{i}"
        body = r.mapping(item, where, {"host", "port", "vpc", "vpce"})
        vpc = r.text(body.get("vpc"), f"{where}/vpc", "")
        vpce = r.text(body.get("vpce"), f"{where}/vpce", "")
        if not vpc.startswith("vpc-"):
            r.problem(f"{where}/vpc", "a VPC id such as vpc-0abc")
        if not vpce.startswith("vpce-"):
            r.problem(f"{where}/vpce", "a VPC endpoint id such as vpce-0123")
        out.append(
            VpcEndpoint(
                r.text(body.get("host"), f"{where}/host", "127.0.0.1"),
                r.integer(body.get("port"), f"{where}/port", 0, 0, 65535),
                vpc,
                vpce,
            )
        )
    return tuple(out)


def _public_url(r: _Reader, raw: object) -> str | None:
    if raw is None:
        return None
    url = r.text(raw, "#/public_url", "")
    if not re.fullmatch(r"https?://[^/\s]+(/[^\s]*[^/\s])?", url):
        r.problem("#/public_url", "must be an http(s) URL without a trailing slash")
    return url


def _smtp(r: _Reader, raw: object) -> SmtpSettings | None:
    if raw is None:
        return None
    keys = {"host", "port", "from", "username", "password", "starttls"}
    body = r.mapping(raw, "#/smtp", keys)
    starttls = body.get("starttls", True)
    if not isinstance(starttls, bool):
        r.problem("#/smtp/starttls", "must be true or false")
        starttls = True
    host = r.text(body.get("host"), "#/smtp/host", "")
    if not host:
        r.problem("#/smtp/host", "required: the mail server's host name")
    return SmtpSettings(
        host=host,
        port=r.integer(body.get("port"), "#/smtp/port", 587, 1, 65535),
        sender=r.text(body.get("from"), "#/smtp/from", "no-reply@localhost"),
        username=r.text(body.get("username"), "#/smtp/username", "") or None,
        password=r.text(body.get("password"), "#/smtp/password", "") or None,
        starttls=starttls,
    )


def _user_pools(r: _Reader, raw: object) -> tuple[PoolSeed, ...]:
    if not isinstance(raw, list):
        r.problem("#/user_pools", "must be a list of user pools")
        return ()
    seeds: list[PoolSeed] = []
    for i, item in enumerate(raw):
        where = f"#/user_pools/{i}"
        body = r.mapping(item, where, {"id", "name", "settings", "clients"})
        pool_id = r.text(body.get("id"), f"{where}/id", "")
        if not re.fullmatch(r"[a-z]{2}(-[a-z]+)+-\d_[0-9A-Za-z]{1,40}", pool_id):
            r.problem(f"{where}/id", "a user pool id such as us-east-1_AbCdEf123")
        clients: list[ClientSeed] = []
        raw_clients = body.get("clients", [])
        if not isinstance(raw_clients, list):
            r.problem(f"{where}/clients", "must be a list of app clients")
            raw_clients = []
        for j, entry in enumerate(raw_clients):
            at = f"{where}/clients/{j}"
            client = r.mapping(entry, at, {"id", "name", "generate_secret", "settings"})
            client_id = r.text(client.get("id"), f"{at}/id", "")
            if not re.fullmatch(r"[A-Za-z0-9_+]{1,128}", client_id):
                r.problem(f"{at}/id", "an app client id of 1-128 letters, digits, '_' or '+'")
            secret = client.get("generate_secret", False)
            if not isinstance(secret, bool):
                r.problem(f"{at}/generate_secret", "must be true or false")
                secret = False
            clients.append(
                ClientSeed(
                    client_id,
                    r.text(client.get("name"), f"{at}/name", client_id),
                    secret,
                    MappingProxyType(_members(r, client.get("settings"), f"{at}/settings")),
                )
            )
        seeds.append(
            PoolSeed(
                pool_id,
                r.text(body.get("name"), f"{where}/name", pool_id),
                where,
                MappingProxyType(_members(r, body.get("settings"), f"{where}/settings")),
                tuple(clients),
            )
        )
    return tuple(seeds)


def _members(r: _Reader, raw: object, where: str) -> dict[str, Any]:
    """A mapping of cognito-idp members, checked when the pool is created."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        r.problem(where, "must be a mapping of cognito-idp members")
        return {}
    return raw
