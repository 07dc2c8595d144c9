"""Compile a stored stage from the snapshot its deployment holds.

Pure: no I/O. The snapshot is a complete document (settings folded in), so compiling it needs
only the factories the composition root passes, exactly as a file-managed API does.
"""

from __future__ import annotations

from authgate.definition.compile import IntegrationFactory, StepFactory, compile_stage, no_steps
from authgate.definition.documents import DocumentError, parse_stored
from authgate.definition.model import Stage
from authgate.definition.openapi import parse_definition
from authgate.definition.records import DeployedStage
from authgate.definition.routes import StageRoutes
from authgate.errors import ConfigError, Problem


def deployment_source(api_id: str, deployment_id: str) -> str:
    """How problems in a deployment's snapshot are located: like the management API's path."""
    return f"/restapis/{api_id}/deployments/{deployment_id}"


def compile_deployed(
    deployed: DeployedStage,
    *,
    account_id: str,
    region: str,
    make_integration: IntegrationFactory,
    make_steps: StepFactory = no_steps,
) -> StageRoutes:
    """Raises ConfigError listing every problem."""
    stage = deployed.stage
    source = deployment_source(stage.api_id, stage.deployment_id)
    try:
        document = parse_stored(deployed.document)
    except (DocumentError, ValueError) as exc:
        raise ConfigError([Problem(source, str(exc))]) from None
    api = parse_definition(document, api_id=stage.api_id, source=source)
    return compile_stage(
        api,
        Stage(stage.name, stage.variables),
        account_id=account_id,
        region=region,
        deployment_id=stage.deployment_id,
        make_integration=make_integration,
        make_steps=make_steps,
        source=source,
    )
