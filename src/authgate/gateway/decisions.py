"""The decision trail of recent requests, kept by request id for `authgate explain`.

An authgate extension: AWS cannot say why it refused a request; we keep, for the last
requests, which steps ran, what each decided, and which policy statement decided it.
Nothing secret is recorded (ARNs, statement references and outcomes only), and nothing
large: the request itself is not kept. Requests on which nothing was decided (a public route
that simply answered) are not kept either.
"""

from __future__ import annotations

from collections import OrderedDict
from itertools import chain
from typing import Final

from authgate.gateway.exchange import Exchange

Record = dict[str, object]


_FIELDS: Final = (
    "received_at",
    "method",
    "path",
    "source_ip",
    "api_id",
    "stage",
    "resource_path",
    "caller",
    "status",
    "gateway_response",
)
"""What is kept of a request, in this order, followed by its trail flattened to
step, outcome, detail, step, outcome, detail, ..."""

_Kept = tuple[object, ...]
"""One flat tuple of strings and numbers. The collector untracks such a tuple the first time
it looks at it and never visits it again; named tuples, or tuples of tuples, stayed tracked
and made every full collection walk the thousands of records kept here."""


class DecisionLog:
    def __init__(self, capacity: int = 10_000) -> None:
        self._records: OrderedDict[str, _Kept] = OrderedDict()
        self._capacity = capacity

    def keep(self, exchange: Exchange, status: int) -> None:
        stage, method, principal = exchange.stage, exchange.method, exchange.principal
        records = self._records
        records[exchange.request_id] = (
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
            *chain.from_iterable(exchange.trail),
        )
        if len(records) > self._capacity:
            records.popitem(last=False)

    def find(self, request_id: str) -> Record | None:
        kept = self._records.get(request_id)
        if kept is None:
            return None
        record: Record = {"requestId": request_id, **dict(zip(_FIELDS, kept, strict=False))}
        trail = iter(kept[len(_FIELDS) :])
        record["trail"] = [
            {"step": step, "outcome": outcome, "detail": detail}
            for step, outcome, detail in zip(trail, trail, trail, strict=True)
        ]
        return record
