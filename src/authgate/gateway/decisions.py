"""The decision trail of recent requests, kept by request id for `authgate explain`.

An authgate extension: AWS cannot say why it refused a request; we keep, for the last
requests, which steps ran, what each decided, and which policy statement decided it.
Nothing secret is recorded (ARNs, statement references and outcomes only), and nothing
large: the request itself is not kept. Requests on which nothing was decided (a public route
that simply answered) are not kept either.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import NamedTuple

from authgate.gateway.exchange import Exchange, TrailEntry

Record = dict[str, object]


class _Kept(NamedTuple):
    received_at: float
    method: str
    path: str
    source_ip: str
    api_id: str | None
    stage: str | None
    resource_path: str | None
    caller: str
    status: int
    gateway_response: str | None
    trail: tuple[TrailEntry, ...]
    """A tuple of tuples of strings: records the garbage collector can stop visiting."""


class DecisionLog:
    def __init__(self, capacity: int = 10_000) -> None:
        self._records: OrderedDict[str, _Kept] = OrderedDict()
        self._capacity = capacity

    def keep(self, exchange: Exchange, status: int) -> None:
        stage, method, principal = exchange.stage, exchange.method, exchange.principal
        records = self._records
        records[exchange.request_id] = _Kept(
            exchange.received_at,
            exchange.request.method,
            exchange.request.path,
            exchange.source_ip,
            stage.api_id if stage else None,
            stage.stage if stage else None,
            method.resource_path if method else None,
            principal.subject if principal else "anonymous",
            status,
            exchange.error_type,
            tuple(exchange.trail),
        )
        if len(records) > self._capacity:
            records.popitem(last=False)

    def find(self, request_id: str) -> Record | None:
        kept = self._records.get(request_id)
        if kept is None:
            return None
        record: Record = {"requestId": request_id, **kept._asdict()}
        record["trail"] = [
            {"step": e.step, "outcome": e.outcome, "detail": e.detail} for e in kept.trail
        ]
        return record
