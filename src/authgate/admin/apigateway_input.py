"""What one `apigateway` REST-JSON call brings: path parameters, query, body; and the readers
that turn them into typed values, refusing anything else with BadRequestException.

Pure: no I/O. boto3 sends booleans in the query as `true`/`false` and integers in decimal;
JSON bodies are objects whose members have the types of botocore's model.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import orjson

from authgate.usage.errors import BadRequest
from authgate.usage.patch import OPS, PatchOperation

_INT_MAX = 2**31 - 1


@dataclass(slots=True)
class Call:
    path: Mapping[str, str]
    """Path parameters by name (`keyId`, `usageplanId`), percent-decoded."""
    query: Mapping[str, str]
    """Query parameters, decoded (`+` is a space); the first of repeated names wins."""
    body: bytes = b""
    _json: dict[str, Any] | None = field(default=None, repr=False)

    def json(self) -> dict[str, Any]:
        """The body as a JSON object (an empty body is `{}`)."""
        if self._json is not None:
            return self._json
        if not self.body.strip():
            parsed: object = {}
        else:
            try:
                parsed = orjson.loads(self.body)
            except orjson.JSONDecodeError:
                raise BadRequest("Could not parse request body into json") from None
        if not isinstance(parsed, dict):
            raise BadRequest("The request body must be a JSON object")
        self._json = parsed
        return parsed

    # -- query ---------------------------------------------------------------------------------

    def flag(self, name: str, default: bool = False) -> bool:
        text = self.query.get(name)
        if text is None or text == "":
            return default
        if text.lower() in ("true", "false"):
            return text.lower() == "true"
        raise BadRequest(f"Invalid value for query parameter {name}: {text!r}")

    def number(self, name: str) -> int | None:
        text = self.query.get(name)
        if text is None or text == "":
            return None
        if not text.lstrip("-").isdigit() or len(text) > 11:
            raise BadRequest(f"Invalid value for query parameter {name}: {text!r}")
        return int(text)

    def text(self, name: str) -> str | None:
        return self.query.get(name)

    # -- body ----------------------------------------------------------------------------------

    def string(self, name: str, default: str = "") -> str:
        value = self.json().get(name)
        if value is None:
            return default
        if not isinstance(value, str):
            raise BadRequest(f"Invalid value for {name}: a string is expected")
        return value

    def optional_string(self, name: str) -> str | None:
        value = self.json().get(name)
        if value is not None and not isinstance(value, str):
            raise BadRequest(f"Invalid value for {name}: a string is expected")
        return value

    def boolean(self, name: str, default: bool = False) -> bool:
        value = self.json().get(name)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise BadRequest(f"Invalid value for {name}: true or false is expected")
        return value

    def mapping(self, name: str) -> dict[str, Any] | None:
        value = self.json().get(name)
        if value is not None and not isinstance(value, dict):
            raise BadRequest(f"Invalid value for {name}: an object is expected")
        return value

    def items(self, name: str) -> list[Any]:
        value = self.json().get(name)
        if value is None:
            return []
        if not isinstance(value, list):
            raise BadRequest(f"Invalid value for {name}: a list is expected")
        return value

    def tags(self) -> dict[str, str] | None:
        tags = self.mapping("tags")
        if tags is not None and not all(isinstance(v, str) for v in tags.values()):
            raise BadRequest("Invalid value for tags: a map of strings is expected")
        return tags

    def patch_operations(self) -> list[PatchOperation]:
        operations = []
        for raw in self.items("patchOperations"):
            if not isinstance(raw, dict):
                raise BadRequest("Invalid patch operation: an object is expected")
            op, path = raw.get("op"), raw.get("path")
            value, source = raw.get("value"), raw.get("from")
            if op not in OPS or not isinstance(path, str) or not path.startswith("/"):
                raise BadRequest(f"Invalid patch operation specified: {raw.get('op')!r} {path!r}")
            if (value is not None and not isinstance(value, str)) or (
                source is not None and not isinstance(source, str)
            ):
                raise BadRequest(f"Invalid patch operation value for {path}: a string is expected")
            operations.append(PatchOperation(op, path, value, source))
        return operations


def parse_query(query: str) -> dict[str, str]:
    params: dict[str, str] = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        params.setdefault(name, value)
    return params


def throttle_pair(raw: object, where: str) -> tuple[object, object]:
    """(rateLimit, burstLimit) of a ThrottleSettings object, unchecked beyond its shape."""
    if not isinstance(raw, dict):
        raise BadRequest(f"Invalid throttle for {where}: an object is expected")
    return raw.get("rateLimit"), raw.get("burstLimit")


def integral(value: object) -> object:
    """JSON numbers like `5.0` where an integer is expected are taken as integers."""
    if isinstance(value, float) and value.is_integer() and abs(value) <= _INT_MAX:
        return int(value)
    return value
