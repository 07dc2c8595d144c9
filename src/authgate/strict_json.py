"""JSON objects that refuse a member name given twice.

Pure: no I/O. Two parsers could keep different copies of a repeated name (first or last),
so a policy or a token read here could mean something else to its author: refuse it.
"""

from __future__ import annotations


def no_duplicate_members(pairs: list[tuple[str, object]]) -> dict[str, object]:
    """An `object_pairs_hook` for `json`: ValueError on a repeated member name."""
    members = dict(pairs)
    if len(members) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise ValueError(f"key {key!r} given more than once")
            seen.add(key)
    return members
