"""Request identifiers look like AWS's and do not repeat."""

from __future__ import annotations

import re

from authgate.gateway.dataplane import new_ids


def test_shapes_and_uniqueness() -> None:
    seen: set[str] = set()
    for _ in range(2000):
        request_id, extended, trace = new_ids()
        assert re.fullmatch(
            r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", request_id
        )
        assert re.fullmatch(r"[A-Za-z0-9+/]{15}=", extended)
        assert re.fullmatch(r"Root=1-[0-9a-f]{8}-[0-9a-f]{24}", trace)
        seen.add(request_id)
    assert len(seen) == 2000
