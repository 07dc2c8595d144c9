"""An API's resources as API Gateway lists them: every path prefix is a resource of its own,
from the root `/` down, each with its parent's id and its last path part.

Pure: no I/O. Ids come from `resource_id`, so they are stable across imports and deployments,
and the data plane reports the same ids in `$context.resourceId`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from authgate.definition.model import Method, RestApi, empty
from authgate.definition.openapi import resource_id


@dataclass(frozen=True, slots=True)
class ResourceEntry:
    id: str
    parent_id: str | None
    path: str
    path_part: str | None
    """None for the root."""
    methods: Mapping[str, Method] = field(default_factory=empty)


def root_resource_id(api_id: str) -> str:
    return resource_id(api_id, "/")


def resource_entries(api: RestApi) -> list[ResourceEntry]:
    """Every resource of the API, intermediate path prefixes included, ordered by path."""
    methods: dict[str, Mapping[str, Method]] = {r.path: r.methods for r in api.resources}
    paths = {"/"}
    for path in methods:
        parts = path.strip("/").split("/") if path != "/" else []
        for end in range(1, len(parts) + 1):
            paths.add("/" + "/".join(parts[:end]))
    entries = []
    for path in sorted(paths):
        if path == "/":
            parent_id, part = None, None
        else:
            parent, _, part = path.rpartition("/")
            parent_id = resource_id(api.id, parent or "/")
        entries.append(
            ResourceEntry(
                id=resource_id(api.id, path),
                parent_id=parent_id,
                path=path,
                path_part=part,
                methods=methods.get(path, empty()),
            )
        )
    return entries
