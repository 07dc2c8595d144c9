"""Prometheus metrics. Every metric name authgate exports is defined in this module.

The data plane only bumps plain integers in dictionaries (a fraction of a microsecond);
the Prometheus objects are built when `/metrics` is scraped, not per request.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator

from prometheus_client.core import (
    CounterMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector, CollectorRegistry

LATENCY_BUCKETS = (
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
)

REQUESTS = "authgate_requests"
LATENCY = "authgate_request_duration_seconds"
GATEWAY_RESPONSES = "authgate_gateway_responses"
INTEGRATION_ERRORS = "authgate_integration_errors"


class _Histogram:
    __slots__ = ("buckets", "count", "total")

    def __init__(self) -> None:
        self.buckets = [0] * (len(LATENCY_BUCKETS) + 1)
        self.count = 0
        self.total = 0.0


class GatewayMetrics(Collector):
    """Counts kept by the data plane and exported on scrape."""

    def __init__(self) -> None:
        self.requests: dict[tuple[str, str, str], int] = {}
        self.latency: dict[tuple[str, str], _Histogram] = {}
        self.gateway_responses: dict[str, int] = {}
        self.integration_errors: dict[tuple[str, str], int] = {}

    def observe(self, api: str, stage: str, status: int, seconds: float) -> None:
        key = (api, stage, _STATUS_CLASS[status // 100] if status < 600 else "5xx")
        self.requests[key] = self.requests.get(key, 0) + 1
        hist = self.latency.get((api, stage))
        if hist is None:
            hist = self.latency[(api, stage)] = _Histogram()
        hist.buckets[bisect_left(LATENCY_BUCKETS, seconds)] += 1
        hist.count += 1
        hist.total += seconds

    def gateway_response(self, response_type: str) -> None:
        self.gateway_responses[response_type] = self.gateway_responses.get(response_type, 0) + 1

    def integration_error(self, api: str, kind: str) -> None:
        key = (api, kind)
        self.integration_errors[key] = self.integration_errors.get(key, 0) + 1

    def collect(self) -> Iterator[Metric]:
        requests = CounterMetricFamily(
            REQUESTS, "Requests answered by the data plane", labels=["api", "stage", "status"]
        )
        for (api, stage, status), value in self.requests.items():
            requests.add_metric([api, stage, status], value)
        yield requests
        latency = HistogramMetricFamily(
            LATENCY, "Time from request to response head", labels=["api", "stage"]
        )
        for (api, stage), hist in self.latency.items():
            cumulative: list[tuple[str, float]] = []
            running = 0
            for bound, count in zip((*LATENCY_BUCKETS, float("inf")), hist.buckets, strict=True):
                running += count
                cumulative.append(("+Inf" if bound == float("inf") else str(bound), running))
            latency.add_metric([api, stage], cumulative, hist.total)
        yield latency
        responses = CounterMetricFamily(
            GATEWAY_RESPONSES, "Responses the gateway produced itself, by type", labels=["type"]
        )
        for rtype, value in self.gateway_responses.items():
            responses.add_metric([rtype], value)
        yield responses
        errors = CounterMetricFamily(
            INTEGRATION_ERRORS, "Integration failures, by kind", labels=["api", "kind"]
        )
        for (api, kind), value in self.integration_errors.items():
            errors.add_metric([api, kind], value)
        yield errors


_STATUS_CLASS = ("0xx", "1xx", "2xx", "3xx", "4xx", "5xx")


def registry_with(metrics: GatewayMetrics) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(metrics)
    return registry
