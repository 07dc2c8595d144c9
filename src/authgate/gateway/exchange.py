"""The Exchange: the one typed object each request becomes, which every step reads and fills."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from authgate.definition.model import empty
from authgate.definition.routes import MethodPlan, StagePlan
from authgate.http1.message import Request
from authgate.policy.context import EMPTY_KEYS, ContextKeys

if TYPE_CHECKING:
    from authgate.authorizers.base import Principal


TrailEntry = tuple[str, str, str]
"""One decision on the way through the pipeline, kept for `explain`: (step, outcome, detail).

A plain tuple of strings: made several times a request (a named tuple's constructor is a
Python call), and the decision log keeps thousands, which the collector never has to visit."""


PASSED = "passed"


@dataclass(slots=True)
class Exchange:
    request: Request
    request_id: str
    extended_request_id: str
    trace_id: str
    received_at: float
    """Epoch seconds when the gateway received the request."""
    started: float
    """Monotonic seconds at the same moment, for latencies."""
    source_ip: str
    stage: StagePlan | None = None
    method: MethodPlan | None = None
    path: str = ""
    """The request path below the stage, raw (percent-escapes kept), starting with '/'."""
    path_parameters: Mapping[str, str] = field(default_factory=empty)
    authorizer_context: Mapping[str, object] | None = None
    """What the authenticate step learned, shaped as `requestContext.authorizer`."""
    identity: dict[str, object | None] = field(default_factory=dict)
    """Extra `requestContext.identity` fields (apiKey, accessKey, userArn, ...)."""
    trail: list[TrailEntry] = field(default_factory=list)
    decided: bool = False
    """Whether the trail holds a decision: an entry other than a step that merely passed."""
    principal: Principal | None = None
    """Who the authenticate step found the caller to be; None for anonymous callers."""
    context_keys: ContextKeys = EMPTY_KEYS
    """Condition keys about the request (aws:SourceIp, aws:CurrentTime, ...), set by screen."""
    endpoint: tuple[str, str] | None = None
    """(VPC id, VPC endpoint id) when the request came in on a private listener."""
    integration_latency_ms: int | None = None
    error_type: str | None = None
    """The gateway response type when the gateway answered itself (for logs)."""
    error_message: str | None = None

    def record(self, step: str, outcome: str, detail: str = "") -> None:
        self.trail.append((step, outcome, detail))
        if outcome != PASSED:
            self.decided = True

    def add_entry(self, entry: TrailEntry) -> None:
        """`record` for an entry made once and kept (a cached decision's)."""
        self.trail.append(entry)
        if entry[1] != PASSED:
            self.decided = True

    def passed(self, step: str) -> None:
        """`step` let the request by and decided nothing."""
        self.trail.append((step, PASSED, ""))

    @property
    def method_arn(self) -> str:
        """`arn:aws:execute-api:REGION:ACCOUNT:API/STAGE/VERB/PATH` of this very request."""
        stage = self.stage
        assert stage is not None, "the method ARN exists once the stage is known"
        return (
            f"arn:aws:execute-api:{stage.region}:{stage.account_id}:{stage.api_id}/"
            f"{stage.stage}/{self.request.method}/{self.path[1:]}"
        )
