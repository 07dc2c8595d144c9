"""`position`/`limit` paging as API Gateway's Get* list calls use it.

Pure: no I/O. A position is opaque to clients: the (name, id) of the last item returned,
base64url-encoded, so a page boundary stays put when items before it come or go.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from authgate.usage.errors import BadRequest

T = TypeVar("T")

DEFAULT_LIMIT = 25
MAX_LIMIT = 500


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    position: str | None
    """Where the next page starts; None on the last page."""


def check_limit(limit: int | None) -> int:
    if limit is None:
        return DEFAULT_LIMIT
    if not 1 <= limit <= MAX_LIMIT:
        raise BadRequest(f"Invalid limit specified: {limit}; it must be between 1 and {MAX_LIMIT}")
    return limit


def encode_position(name: str, item_id: str) -> str:
    raw = json.dumps([name, item_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_position(position: str | None) -> tuple[str, str] | None:
    if position is None or position == "":
        return None
    try:
        padded = position + "=" * (-len(position) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (UnicodeError, binascii.Error, ValueError):
        raise BadRequest("Invalid position specified") from None
    if (
        not isinstance(value, list)
        or len(value) != 2
        or not all(isinstance(part, str) for part in value)
    ):
        raise BadRequest("Invalid position specified")
    return (value[0], value[1])


def page_of(fetched: Sequence[T], limit: int, order_key: Callable[[T], tuple[str, str]]) -> Page[T]:
    """The page from `fetched`, which holds up to `limit + 1` items in order: one more than
    asked for tells that another page follows."""
    items = list(fetched[:limit])
    if len(fetched) > limit and items:
        return Page(items, encode_position(*order_key(items[-1])))
    return Page(items, None)


def page_in_memory(
    items: Sequence[T],
    position: str | None,
    limit: int | None,
    order_key: Callable[[T], tuple[str, str]],
) -> Page[T]:
    """Page a short list the service holds whole (usage plans: at most a few hundred)."""
    size = check_limit(limit)
    after = decode_position(position)
    ordered = sorted(items, key=order_key)
    if after is not None:
        ordered = [item for item in ordered if order_key(item) > after]
    return page_of(ordered[: size + 1], size, order_key)
