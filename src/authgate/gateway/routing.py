"""Find the API stage a request is for, from its invoke URL.

Three URL forms reach an API (design §2):
- `/restapis/{apiId}/{stage}/_user_request_/{path}`, always;
- Host `{apiId}.execute-api.<anything>` with `/{stage}/{path}`;
- `/{stage}/{path}` when exactly one API is deployed.
An HTTP API's `$default` stage has no stage segment in the path.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from authgate.definition.routes import StageRoutes

DEFAULT_STAGE = "$default"
_USER_REQUEST = "_user_request_"


@dataclass(frozen=True, slots=True)
class Target:
    routes: StageRoutes
    path: str
    """The path below the stage, starting with '/'."""


class Router:
    """An immutable map from (api id, stage name) to compiled routes; swapped whole on redeploy."""

    def __init__(self, stages: list[StageRoutes]) -> None:
        by_api: dict[str, dict[str, StageRoutes]] = {}
        for routes in stages:
            by_api.setdefault(routes.plan.api_id, {})[routes.plan.stage] = routes
        self._apis: Mapping[str, Mapping[str, StageRoutes]] = MappingProxyType(
            {api: MappingProxyType(s) for api, s in by_api.items()}
        )
        self._only: Mapping[str, StageRoutes] | None = (
            next(iter(self._apis.values())) if len(self._apis) == 1 else None
        )

    @property
    def api_ids(self) -> tuple[str, ...]:
        return tuple(self._apis)

    def stages(self) -> list[StageRoutes]:
        return [routes for stages in self._apis.values() for routes in stages.values()]

    def resolve(self, host: str | None, path: str) -> Target | None:
        if host is not None:
            api_id, dot, rest = host.partition(".")
            if dot and rest.startswith("execute-api."):
                stages = self._apis.get(api_id)
                return _in_stages(stages, path) if stages is not None else None
        if path.startswith("/restapis/"):
            parts = path.split("/", 5)
            # ['', 'restapis', apiId, stage, '_user_request_', rest]
            if len(parts) >= 5 and parts[4] == _USER_REQUEST:
                stages = self._apis.get(parts[2])
                routes = stages.get(parts[3]) if stages is not None else None
                if routes is not None:
                    return Target(routes, "/" + parts[5] if len(parts) == 6 else "/")
            return None
        if self._only is not None:
            return _in_stages(self._only, path)
        return None


def _in_stages(stages: Mapping[str, StageRoutes], path: str) -> Target | None:
    _, _, after = path.partition("/")
    name, slash, rest = after.partition("/")
    routes = stages.get(name)
    if routes is not None and name != DEFAULT_STAGE:
        return Target(routes, "/" + rest if slash else "/")
    default = stages.get(DEFAULT_STAGE)
    if default is not None:
        return Target(default, path)
    return None
