"""IAM's Marker/MaxItems/IsTruncated paging over a list the service returns whole.

Pure: no I/O. Items are ordered by name (case-insensitively, as IAM names are unique that
way); the marker is the name of the first item of the next page, so a page boundary stays
put when items before it are created or deleted between calls.
"""

from __future__ import annotations

import base64
import binascii
from bisect import bisect_left
from collections.abc import Callable, Sequence
from typing import Final, TypeVar

from authgate.admin.validate import Params, integer, length
from authgate.iam.errors import ValidationError
from authgate.wire.xml import XmlValue

T = TypeVar("T")

DEFAULT_MAX_ITEMS: Final = 100


def page(
    items: Sequence[T], name_of: Callable[[T], str], params: Params
) -> tuple[list[T], dict[str, XmlValue]]:
    """The requested page, and the `IsTruncated`/`Marker` fields to add to the result."""
    limit = integer(params, "MaxItems", 1, 1000, DEFAULT_MAX_ITEMS)
    ordered = sorted(items, key=lambda item: _order(name_of(item)))
    start = 0
    marker = params.get("Marker")
    if marker is not None:
        after = _order(_decode(length(marker, "Marker", 1, 320)))
        start = bisect_left(ordered, after, key=lambda item: _order(name_of(item)))
    chosen = ordered[start : start + limit]
    truncated = start + limit < len(ordered)
    fields: dict[str, XmlValue] = {"IsTruncated": truncated}
    if truncated:
        fields["Marker"] = _encode(name_of(ordered[start + limit]))
    return chosen, fields


def _order(name: str) -> tuple[str, str]:
    return name.lower(), name


def _encode(name: str) -> str:
    return base64.urlsafe_b64encode(name.encode()).decode()


def _decode(marker: str) -> str:
    try:
        return base64.urlsafe_b64decode(marker.encode("ascii")).decode()
    except (UnicodeError, binascii.Error, ValueError):
        raise ValidationError("Invalid Marker.") from None
