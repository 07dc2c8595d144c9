"""The decision log: what it keeps of a request, for how long, and at what cost to the collector."""

from __future__ import annotations

import gc

from authgate.gateway.decisions import DecisionLog
from authgate.gateway.exchange import Exchange
from authgate.http1.message import EmptyBody, Request


def exchange(request_id: str, *steps: tuple[str, str, str]) -> Exchange:
    request = Request(
        "GET", "/prod/pets", "", [("host", "a")], EmptyBody(), ("10.0.0.1", 1), ("", 0)
    )
    kept = Exchange(request, request_id, "ext", "trace", 1.5, 0.0, "10.0.0.1")
    for step in steps:
        kept.record(*step)
    return kept


def test_a_kept_request_is_found_with_its_trail_in_order() -> None:
    log = DecisionLog()
    log.keep(
        exchange("r1", ("authenticate", "TOKEN", "bench"), ("authorize", "Deny", "Statement[2]")),
        403,
    )
    record = log.find("r1")
    assert record is not None
    assert record["requestId"] == "r1"
    assert record["method"] == "GET"
    assert record["path"] == "/prod/pets"
    assert record["caller"] == "anonymous"
    assert record["status"] == 403
    assert record["trail"] == [
        {"step": "authenticate", "outcome": "TOKEN", "detail": "bench"},
        {"step": "authorize", "outcome": "Deny", "detail": "Statement[2]"},
    ]
    assert log.find("r2") is None


def test_only_the_newest_records_are_kept() -> None:
    log = DecisionLog(capacity=2)
    for n in range(3):
        log.keep(exchange(f"r{n}", ("authorize", "Allow", "")), 200)
    assert log.find("r0") is None
    assert log.find("r1") is not None
    assert log.find("r2") is not None


def test_kept_records_leave_the_collector_after_one_young_pass() -> None:
    # Thousands of records live in the log: if the collector kept visiting them, every full
    # collection under load would walk them all (tens of milliseconds at p99).
    log = DecisionLog()
    for n in range(100):
        log.keep(exchange(f"r{n}", ("authenticate", "TOKEN", "x"), ("authorize", "Allow", "")), 200)
    gc.collect(0)
    records = list(log._records.values())
    assert records
    assert not any(gc.is_tracked(record) for record in records)
