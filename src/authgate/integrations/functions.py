"""The function map: Lambda function names bound to Python handlers, and how one is invoked.

A handler is named as `path/to/file.py:func` (relative to the configuration's directory) or
`package.module:func`. It is called as Lambda calls it, `handler(event, context)`, with a
context object carrying the attributes of the Python runtime's `LambdaContext`. Coroutine
functions run on the event loop; plain functions run in a thread pool so that they never block
it. Integrations and custom authorizers share `invoke`, and map its two failures to their own
gateway responses.
"""

from __future__ import annotations

import asyncio
import contextvars
import hashlib
import importlib
import importlib.util
import inspect
import logging
import re
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType, ModuleType
from typing import Any, Protocol

from authgate.errors import ConfigError, Problem

__all__ = [
    "DEFAULT_MEMORY_MB",
    "DEFAULT_TIMEOUT_S",
    "FunctionError",
    "FunctionLoader",
    "FunctionMap",
    "FunctionRef",
    "FunctionSpec",
    "InvokeTimeout",
    "LambdaContext",
    "LambdaFunction",
    "function_name_from_arn",
    "invoke",
    "load_functions",
]

log = logging.getLogger("authgate.functions")

DEFAULT_TIMEOUT_S = 3.0
"""AWS Lambda's default function timeout."""
DEFAULT_MEMORY_MB = 128
"""AWS Lambda's default memory size; only reported to the handler through its context."""

Handler = Callable[[Any, Any], Any]

_FUNCTION_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
_MODULE_PATH = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*")


class FunctionSpec(Protocol):
    """What loading needs from a configured function (settings' entries have this shape)."""

    @property
    def name(self) -> str: ...
    @property
    def handler(self) -> str:
        """`path/to/file.py:attr` or `package.module:attr`."""
        ...

    @property
    def timeout(self) -> float: ...
    @property
    def memory(self) -> int: ...


@dataclass(frozen=True, slots=True)
class FunctionRef:
    """A function as configured: its Lambda name, where its code is, and its limits."""

    name: str
    handler: str
    timeout: float = DEFAULT_TIMEOUT_S
    memory: int = DEFAULT_MEMORY_MB


@dataclass(frozen=True, slots=True)
class LambdaFunction:
    """A loaded function, ready to invoke."""

    name: str
    handler: Handler
    timeout: float = DEFAULT_TIMEOUT_S
    """Seconds the function may run, as Lambda's function timeout."""
    memory: int = DEFAULT_MEMORY_MB
    """Megabytes, only reported to the handler through its context."""
    log_stream_name: str = field(default_factory=lambda: _log_stream_name(time.time()))
    """Fixed for the function's life, as for one Lambda execution environment."""


FunctionMap = Mapping[str, LambdaFunction]


class FunctionError(Exception):
    """What Lambda reports as a function error: the handler raised, or ran out of its own time."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class InvokeTimeout(Exception):
    """The caller's limit passed before the function answered (and before its own timeout)."""


class CognitoIdentity:
    """`context.identity`: only set for calls from the AWS Mobile SDK, so always empty here."""

    cognito_identity_id: str | None = None
    cognito_identity_pool_id: str | None = None


class LambdaContext:
    """The context object of the Lambda Python runtime, with the same attribute names."""

    function_version = "$LATEST"
    client_context: object | None = None

    def __init__(
        self, function: LambdaFunction, region: str, account_id: str, deadline: float
    ) -> None:
        self.function_name = function.name
        self.memory_limit_in_mb = function.memory
        self.invoked_function_arn = f"arn:aws:lambda:{region}:{account_id}:function:{function.name}"
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function.name}"
        self.log_stream_name = function.log_stream_name
        self.identity = CognitoIdentity()
        self._deadline = deadline

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


async def invoke(
    function: LambdaFunction,
    event: object,
    *,
    limit_s: float,
    region: str,
    account_id: str,
    executor: Executor | None = None,
) -> object:
    """Call the handler with `event` and a fresh context; return what it returned.

    The call may last the function's own timeout or `limit_s`, whichever is smaller. Running
    out of the function's own time is a function error, as on Lambda ("Task timed out");
    running out of the caller's limit first is `InvokeTimeout`. A plain function still running
    then cannot be stopped: its thread finishes in the background and its result is dropped.
    """
    budget = min(function.timeout, limit_s)
    context = LambdaContext(function, region, account_id, time.monotonic() + budget)
    timeout = asyncio.timeout(budget)
    try:
        async with timeout:
            return await _call(function.handler, event, context, executor)
    except TimeoutError:
        if not timeout.expired():
            _log_failure(function, context)
            raise FunctionError(f"{function.name} raised TimeoutError") from None
        if function.timeout <= limit_s:
            reason = f"Task timed out after {function.timeout:.2f} seconds"
            log.warning("%s: %s (RequestId %s)", function.name, reason, context.aws_request_id)
            raise FunctionError(reason) from None
        raise InvokeTimeout(f"{function.name} gave no answer within {limit_s:.3f} s") from None
    except (Exception, SystemExit) as exc:
        _log_failure(function, context)
        raise FunctionError(f"{function.name} raised {type(exc).__name__}") from exc


async def _call(
    handler: Handler, event: object, context: LambdaContext, pool: Executor | None
) -> Any:
    if inspect.iscoroutinefunction(handler):
        result = await handler(event, context)
    else:
        run = contextvars.copy_context().run
        result = await asyncio.get_running_loop().run_in_executor(
            pool, run, handler, event, context
        )
    if inspect.isawaitable(result):
        # a plain wrapper (a decorator, an object with async __call__) around a coroutine
        result = await result
    return result


def _log_failure(function: LambdaFunction, context: LambdaContext) -> None:
    log.exception("%s failed (RequestId %s)", function.name, context.aws_request_id)


def _log_stream_name(now: float) -> str:
    return time.strftime("%Y/%m/%d/[$LATEST]", time.gmtime(now)) + uuid.uuid4().hex


def function_name_from_arn(uri: str) -> str | None:
    """The function name in an integration or authorizer URI, or None if it names none.

    Accepts the invocation URI (`arn:aws:apigateway:REGION:lambda:path/2015-03-31/functions/
    FUNCTION_ARN/invocations`), a function ARN (`arn:aws:lambda:REGION:ACCOUNT:function:NAME`),
    or its tail (`function:NAME`); an alias or version suffix (`:live`, `:3`) is dropped.
    """
    target = uri.strip()
    marker = "/functions/"
    if marker in target:
        target = target.split(marker, 1)[1]
        target = target.removesuffix("/invocations")
    parts = target.split(":")
    if "function" not in parts:
        return None
    index = parts.index("function")
    if index + 1 >= len(parts) or len(parts) > index + 3:
        return None
    name = parts[index + 1]
    return name if _FUNCTION_NAME.fullmatch(name) else None


class FunctionLoader:
    """Turns handler references into callables; a file is executed once per process."""

    def __init__(self, base_dir: Path) -> None:
        self.base_dir = base_dir

    def load(self, spec: FunctionSpec, location: str) -> LambdaFunction:
        """Load one function; its limits were validated with the rest of the settings."""
        handler = self.resolve(spec.handler, f"{location}/handler")
        return LambdaFunction(spec.name, handler, float(spec.timeout), spec.memory)

    def resolve(self, reference: str, location: str) -> Callable[..., Any]:
        """The callable named by `path/to/file.py:attr` or `package.module:attr`."""
        target, sep, attribute = reference.rpartition(":")
        if not sep or not target or not attribute:
            raise _problem(
                location, f"{reference!r} is not 'file.py:function' or 'module:function'"
            )
        if target.endswith(".py") or "/" in target or "\\" in target:
            module = self._load_file(target, location)
        elif _MODULE_PATH.fullmatch(target):
            module = self._import(target, location)
        else:
            raise _problem(location, f"{target!r} is neither a .py file nor a module name")
        value: object = module
        for part in attribute.split("."):
            try:
                value = getattr(value, part)
            except AttributeError:
                raise _problem(location, f"{target} has no attribute {attribute!r}") from None
        if not callable(value):
            raise _problem(location, f"{target}:{attribute} is not callable")
        return value

    def _load_file(self, target: str, location: str) -> ModuleType:
        path = (self.base_dir / target).resolve()
        if not path.is_file():
            raise _problem(location, f"no such file: {path}")
        digest = hashlib.sha256(str(path).encode()).hexdigest()[:12]
        name = f"authgate_fn_{re.sub(r'[^0-9A-Za-z_]', '_', path.stem)}_{digest}"
        loaded = sys.modules.get(name)
        if loaded is not None:
            return loaded
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise _problem(location, f"cannot load {path} as Python")
        module = importlib.util.module_from_spec(spec)
        # Lambda puts the code's directory on sys.path, so handlers import their neighbours.
        if str(path.parent) not in sys.path:
            sys.path.append(str(path.parent))
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except (Exception, SystemExit) as exc:
            del sys.modules[name]
            raise _problem(location, f"loading {path} failed: {_describe(exc)}") from exc
        return module

    def _import(self, target: str, location: str) -> ModuleType:
        try:
            return importlib.import_module(target)
        except (Exception, SystemExit) as exc:
            raise _problem(location, f"importing {target} failed: {_describe(exc)}") from exc


def load_functions(
    specs: Mapping[str, FunctionSpec] | Iterable[FunctionSpec],
    base_dir: Path,
    location: str = "#/functions",
) -> FunctionMap:
    """Load the whole function map, reporting every broken entry, not just the first."""
    loader = FunctionLoader(base_dir)
    functions: dict[str, LambdaFunction] = {}
    problems: list[Problem] = []
    for spec in specs.values() if isinstance(specs, Mapping) else specs:
        try:
            functions[spec.name] = loader.load(spec, f"{location}/{spec.name}")
        except ConfigError as exc:
            problems.extend(exc.problems)
    if problems:
        raise ConfigError(problems)
    return MappingProxyType(functions)


def _problem(location: str, message: str) -> ConfigError:
    return ConfigError([Problem(location, message)])


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"
