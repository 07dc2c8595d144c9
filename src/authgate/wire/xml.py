"""The AWS query protocol, response side: XML as IAM and STS write it, and as botocore reads it.

Pure: no I/O. One generic renderer walks a result built like the botocore output shape:
a mapping becomes child elements in key order, a list becomes `<member>` elements, None is
left out, a datetime is written the way IAM writes timestamps (`2026-11-22T02:41:48Z`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Final, TypeAlias

IAM_NAMESPACE: Final = "https://iam.amazonaws.com/doc/2010-05-08/"
STS_NAMESPACE: Final = "https://sts.amazonaws.com/doc/2011-06-15/"
CONTENT_TYPE: Final = "text/xml"

XmlValue: TypeAlias = (
    "str | bool | int | datetime | Mapping[str, XmlValue] | Sequence[XmlValue] | None"
)
"""What a result may hold; `bool` is written `true`/`false`."""

Result = Mapping[str, XmlValue]

# XML 1.0 cannot carry these at all, not even as character references.
_NOT_XML: Final = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_ESCAPES: Final = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"})
_SPECIAL: Final = re.compile("[&<>\r\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def escape(text: str) -> str:
    """Escape element text; CR is kept as a reference so parsers do not fold it into LF."""
    if _SPECIAL.search(text) is None:
        return text
    return _NOT_XML.sub("\ufffd", text).translate(_ESCAPES)


def timestamp(epoch: float) -> datetime:
    """An epoch time as the aware datetime results carry."""
    return datetime.fromtimestamp(int(epoch), UTC)


def iso8601(moment: datetime) -> str:
    """A naive datetime is taken to be UTC already."""
    t = moment.astimezone(UTC) if moment.tzinfo is not None else moment
    return f"{t.year:04d}-{t.month:02d}-{t.day:02d}T{t.hour:02d}:{t.minute:02d}:{t.second:02d}Z"


def render_result(operation: str, namespace: str, result: Result | None, request_id: str) -> bytes:
    """`<{Op}Response>` with its `<{Op}Result>` (absent when the operation has no output)."""
    out = [f'<{operation}Response xmlns="{namespace}">']
    if result is not None:
        out.append(f"<{operation}Result>")
        _fields(out, result)
        out.append(f"</{operation}Result>")
    out.append(f"<ResponseMetadata><RequestId>{escape(request_id)}</RequestId></ResponseMetadata>")
    out.append(f"</{operation}Response>")
    return "".join(out).encode()


def render_error(
    code: str, message: str, request_id: str, *, sender: bool = True, namespace: str = IAM_NAMESPACE
) -> bytes:
    """The `<ErrorResponse>` envelope; botocore raises `client.exceptions.<Code>Exception`."""
    kind = "Sender" if sender else "Receiver"
    return (
        f'<ErrorResponse xmlns="{namespace}"><Error><Type>{kind}</Type>'
        f"<Code>{escape(code)}</Code><Message>{escape(message)}</Message></Error>"
        f"<RequestId>{escape(request_id)}</RequestId></ErrorResponse>"
    ).encode()


def _fields(out: list[str], fields: Mapping[str, XmlValue]) -> None:
    for name, value in fields.items():
        if value is not None:
            out.append(f"<{name}>")
            _value(out, value)
            out.append(f"</{name}>")


def _value(out: list[str], value: XmlValue) -> None:
    if isinstance(value, str):
        out.append(escape(value))
    elif isinstance(value, bool):
        out.append("true" if value else "false")
    elif isinstance(value, int):
        out.append(str(value))
    elif isinstance(value, datetime):
        out.append(iso8601(value))
    elif isinstance(value, Mapping):
        _fields(out, value)
    elif value is not None:
        for item in value:
            if item is not None:
                out.append("<member>")
                _value(out, item)
                out.append("</member>")
