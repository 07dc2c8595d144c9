"""Definition documents as the management API receives them: read, merged, and folded into the
snapshot a deployment keeps.

Pure: no I/O. ImportRestApi and PutRestApi bodies are OpenAPI 3 or Swagger 2, as JSON or YAML.
Every document is normalised through JSON once (YAML dates become text, numeric keys become
strings), so what is validated is exactly what is stored and later deployed. YAML aliases are
allowed, but a document may not expand past `MAX_NODES` values: an authenticated caller
should not be able to make the gateway build a billion-node tree.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any, Final

import orjson
import yaml

from authgate.definition.openapi import EXT
from authgate.errors import AuthgateError

Document = dict[str, Any]

MAX_NODES: Final = 1_000_000
POLICY: Final = f"{EXT}policy"
KEY_SOURCE: Final = f"{EXT}api-key-source"
ENDPOINT: Final = f"{EXT}endpoint-configuration"
ENDPOINT_TYPES: Final = frozenset({"REGIONAL", "EDGE", "PRIVATE"})
IMPORT_PARAMETERS: Final = "endpointConfigurationTypes, basepath, ignore"

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class DocumentError(AuthgateError):
    """The body is not a definition document authgate can take; the message says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def load_document(body: bytes) -> Document:
    """The body as a JSON object (JSON first, then YAML); DocumentError if it is neither."""
    if not body.strip():
        raise DocumentError(
            "The request body is empty: an OpenAPI or Swagger definition is expected"
        )
    raw: object
    try:
        raw = orjson.loads(body)
    except orjson.JSONDecodeError:
        try:
            raw = yaml.load(body.decode("utf-8"), Loader=_Loader)  # noqa: S506 - a safe loader
        except (yaml.YAMLError, UnicodeDecodeError, RecursionError) as exc:
            raise DocumentError(f"The definition is neither valid JSON nor YAML: {exc}") from None
    _check_size(raw)
    try:
        normalised = orjson.loads(orjson.dumps(raw, option=orjson.OPT_NON_STR_KEYS))
    except (TypeError, orjson.JSONEncodeError) as exc:
        raise DocumentError(f"The definition cannot be read as JSON: {exc}") from None
    if not isinstance(normalised, dict):
        raise DocumentError("The definition must be an object (OpenAPI 3 or Swagger 2)")
    return normalised


def dump_document(document: Mapping[str, Any]) -> str:
    return orjson.dumps(document).decode()


def parse_stored(text: str) -> Document:
    """A document this module dumped (always a JSON object)."""
    value = orjson.loads(text)
    if not isinstance(value, dict):
        raise DocumentError("a stored definition is not a JSON object")
    return value


def _check_size(raw: object) -> None:
    """Count values as a JSON dump would visit them (an alias counts every time it is used)."""
    pending: list[object] = [raw]
    seen = 0
    while pending:
        value = pending.pop()
        seen += 1
        if seen > MAX_NODES:
            raise DocumentError(f"The definition has more than {MAX_NODES} values")
        if isinstance(value, dict):
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)


def kind(document: Mapping[str, Any]) -> str:
    """`openapi` or `swagger`, by the version field the document declares."""
    return "swagger" if "swagger" in document and "openapi" not in document else "openapi"


def info_text(document: Mapping[str, Any], name: str) -> str | None:
    info = document.get("info")
    value = info.get(name) if isinstance(info, dict) else None
    return None if value is None else str(value)


def split_settings(document: Document) -> tuple[Document, str | None, str | None]:
    """The document without its resource policy and API-key source, and those two settings
    (None when the document does not set them): the record keeps them apart."""
    rest = dict(document)
    policy = rest.pop(POLICY, None)
    key_source = rest.pop(KEY_SOURCE, None)
    policy_text = None
    if isinstance(policy, str):
        policy_text = policy
    elif policy is not None:
        policy_text = orjson.dumps(policy).decode()
    return rest, policy_text, None if key_source is None else str(key_source).upper()


def with_settings(
    document: Mapping[str, Any], *, name: str, policy: str | None, api_key_source: str
) -> Document:
    """The document with the API's settings folded in: what a deployment snapshots."""
    snapshot = copy.deepcopy(dict(document))
    info = snapshot.get("info")
    snapshot["info"] = {**(info if isinstance(info, dict) else {}), "title": name}
    if policy is not None:
        snapshot[POLICY] = orjson.loads(policy)
    if api_key_source != "HEADER":
        snapshot[KEY_SOURCE] = api_key_source
    return snapshot


def merge_documents(base: Mapping[str, Any], update: Mapping[str, Any]) -> Document:
    """PutRestApi's `merge` mode: the update's operations replace or join the base's, path by
    path and verb by verb; named components and definitions join by name; any other top-level
    member of the update replaces the base's."""
    if kind(base) != kind(update):
        raise DocumentError(
            f"Cannot merge a {kind(update)} document into an API defined by a {kind(base)} "
            "document; use mode=overwrite"
        )
    merged = copy.deepcopy(dict(base))
    for key, value in update.items():
        current = merged.get(key)
        if key == "paths" and isinstance(value, dict) and isinstance(current, dict):
            for path, item in value.items():
                current[path] = _join(current.get(path), item)
        elif key == "components" and isinstance(value, dict) and isinstance(current, dict):
            for section, entries in value.items():
                current[section] = _join(current.get(section), entries)
        elif key in ("definitions", "securityDefinitions") and (
            isinstance(value, dict) and isinstance(current, dict)
        ):
            current.update(copy.deepcopy(value))
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _join(old: object, new: object) -> object:
    """Two objects joined by name (the new entries win); anything else is replaced."""
    if isinstance(old, dict) and isinstance(new, dict):
        return {**old, **copy.deepcopy(new)}
    return copy.deepcopy(new)


def apply_import_parameters(document: Document, parameters: Mapping[str, str]) -> Document:
    """ImportRestApi's and PutRestApi's `parameters`: `endpointConfigurationTypes`,
    `basepath=ignore|prepend` and `ignore=documentation`. Others fail loudly."""
    out = document
    for name, value in parameters.items():
        if name == "endpointConfigurationTypes":
            out = _endpoint_types(out, value)
        elif name == "basepath":
            out = _base_path(out, value)
        elif name == "ignore":
            if value != "documentation":
                raise DocumentError(f"Invalid value for parameter ignore: {value!r}")
        else:
            raise DocumentError(
                f"Import parameter {name!r} is not supported (supported: {IMPORT_PARAMETERS})"
            )
    return out


def _endpoint_types(document: Document, value: str) -> Document:
    kind_ = value.strip().upper()
    if kind_ not in ENDPOINT_TYPES:
        raise DocumentError(
            f"Invalid endpointConfigurationTypes {value!r}: one of REGIONAL, EDGE, PRIVATE"
        )
    configured = document.get(ENDPOINT)
    endpoint = dict(configured) if isinstance(configured, dict) else {}
    endpoint["types"] = [kind_]
    return {**document, ENDPOINT: endpoint}


def _base_path(document: Document, mode: str) -> Document:
    if mode == "ignore":
        return document
    if mode != "prepend":
        raise DocumentError(f"basepath={mode} is not supported (ignore or prepend)")
    base = base_path(document).rstrip("/")
    paths = document.get("paths")
    if not base or not isinstance(paths, dict):
        return document
    moved = {(base if path == "/" else base + str(path)): item for path, item in paths.items()}
    return {**document, "paths": moved}


def base_path(document: Mapping[str, Any]) -> str:
    """Swagger's `basePath`, or the path of OpenAPI's first server URL (with its `basePath`
    variable's default substituted, as AWS exports it)."""
    if kind(document) == "swagger":
        value = document.get("basePath")
        return value if isinstance(value, str) else ""
    servers = document.get("servers")
    if not isinstance(servers, list) or not servers or not isinstance(servers[0], dict):
        return ""
    server = servers[0]
    url = str(server.get("url", ""))
    variables = server.get("variables")
    if isinstance(variables, dict):
        for name, spec in variables.items():
            if isinstance(spec, dict) and "default" in spec:
                url = url.replace(f"{{{name}}}", str(spec["default"]))
    if "://" in url:
        url = url.split("://", 1)[1]
        url = url[url.find("/") :] if "/" in url else ""
    return url if url.startswith("/") else ""
