"""Compile a RestApi and one of its stages into the immutable tables the data plane reads.

Pure: no I/O. Integrations are built by a factory the caller passes in, so this module stays
free of sockets and imports while every per-request decision that can be made once is made
here: stage variables substituted, URIs checked, resource ids assigned, the tree laid out.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING

from authgate.definition.model import Integration as IntegrationSpec
from authgate.definition.model import Method, RestApi, Stage
from authgate.definition.openapi import DEFAULT_ROUTE, pointer, resource_id
from authgate.definition.routes import MethodPlan, ResourceNode, StagePlan, StageRoutes
from authgate.errors import ConfigError, Problem

if TYPE_CHECKING:
    from authgate.gateway.steps.base import Step
    from authgate.integrations.base import Integration

IntegrationFactory = Callable[[IntegrationSpec, str, StagePlan, str], "Integration"]
"""(spec, uri with stage variables substituted, stage, location) → a ready Integration.
Raises ConfigError for a spec it cannot serve."""

StepFactory = Callable[[RestApi, str, Method, StagePlan, str], "tuple[Step, ...]"]
"""(api, resource path, method, stage, location) → the method's pipeline steps, in order."""


def no_steps(
    api: RestApi, resource_path: str, method: Method, stage: StagePlan, where: str
) -> tuple[Step, ...]:
    return ()


_STAGE_VARIABLE = re.compile(r"\$\{stageVariables\.([A-Za-z0-9_]+)\}")


def substitute_stage_variables(
    text: str, variables: Mapping[str, str], where: str, problems: list[Problem]
) -> str:
    """Resolve `${stageVariables.name}` once, at deploy time; an undefined name is a problem."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in variables:
            problems.append(Problem(where, f"stage variable {name!r} is not defined"))
            return ""
        return variables[name]

    return _STAGE_VARIABLE.sub(replace, text)


def compile_stage(
    api: RestApi,
    stage: Stage,
    *,
    account_id: str,
    region: str,
    deployment_id: str,
    make_integration: IntegrationFactory,
    make_steps: StepFactory = no_steps,
    source: str,
) -> StageRoutes:
    plan = StagePlan(
        api_id=api.id,
        api_name=api.name,
        protocol=api.protocol,
        stage=stage.name,
        deployment_id=deployment_id,
        account_id=account_id,
        region=region,
        variables=MappingProxyType(dict(stage.variables)),
        binary_media_types=api.binary_media_types,
        gateway_responses=api.gateway_responses,
        access_log_format=stage.access_log_format,
        throttle=stage.throttle,
        method_throttles=stage.method_throttles,
    )
    problems: list[Problem] = []
    root = ResourceNode()
    default_route: dict[str, MethodPlan] = {}
    for resource in api.resources:
        methods: dict[str, MethodPlan] = {}
        for verb, method in resource.methods.items():
            where = f"{source}:{pointer('paths', resource.path, verb.lower())}"
            uri = substitute_stage_variables(
                method.integration.uri, plan.variables, where, problems
            )
            try:
                integration = make_integration(method.integration, uri, plan, where)
                steps = make_steps(api, resource.path, method, plan, where)
            except ConfigError as exc:
                problems.extend(exc.problems)
                continue
            methods[verb] = MethodPlan(
                stage=plan,
                http_method=verb,
                resource_path=resource.path,
                resource_id=resource_id(api.id, resource.path),
                integration=integration,
                payload_version=method.integration.payload_format_version,
                operation_name=method.operation_name,
                steps=steps,
                authorization=method.authorization,
                authorization_scopes=method.authorization_scopes,
            )
        if resource.path == DEFAULT_ROUTE:
            default_route.update(methods)
        else:
            _insert(
                root,
                resource.path,
                methods,
                f"{source}:{pointer('paths', resource.path)}",
                problems,
            )
    if problems:
        # one broken declaration (an authorizer) shared by many methods is reported once
        raise ConfigError(list(dict.fromkeys(problems)))
    return StageRoutes(plan, root, MappingProxyType(default_route))


def _insert(
    root: ResourceNode,
    path: str,
    methods: dict[str, MethodPlan],
    where: str,
    problems: list[Problem],
) -> None:
    node = root
    for segment in path.strip("/").split("/") if path != "/" else ():
        if segment.startswith("{") and segment.endswith("+}"):
            name = segment[1:-2]
            if node.greedy is not None and node.greedy[0] != name:
                problems.append(Problem(where, f"conflicts with greedy {{{node.greedy[0]}+}}"))
                return
            node.greedy = node.greedy or (name, ResourceNode())
            node = node.greedy[1]
        elif segment.startswith("{"):
            name = segment[1:-1]
            if node.param is not None and node.param[0] != name:
                problems.append(
                    Problem(where, f"{{{name}}} conflicts with sibling {{{node.param[0]}}}")
                )
                return
            node.param = node.param or (name, ResourceNode())
            node = node.param[1]
        else:
            node = node.literal.setdefault(segment, ResourceNode())
    if node.methods is not None:
        problems.append(Problem(where, "the same resource is declared twice"))
        return
    node.methods = methods
