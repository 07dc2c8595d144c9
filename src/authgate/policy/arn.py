"""ARNs: parsing, execute-api method ARNs, and the segment-wise wildcard match IAM applies.

IAM matches an ARN pattern segment by segment (segments are separated by the first five
colons); a wildcard never crosses a colon, except inside the last segment, where `*` covers
everything that is left, `/` and `:` included. Matching is case-sensitive. A pattern with
fewer than six segments is read the same way: its last segment absorbs the rest of the ARN.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from authgate.policy.variables import (
    Part,
    SingleValues,
    Template,
    literal_template,
    parse_template,
)
from authgate.policy.wildcard import ANY, NOT_COLON, RegexTemplate, Slot, template_fragments

MAX_METHOD_ARN_BYTES = 1600
"""An authorization-enabled method's ARN may not exceed this; longer requests get 414."""

SHORTHAND_PREFIX = "execute-api:/"


@dataclass(frozen=True, slots=True)
class Arn:
    partition: str
    service: str
    region: str
    account: str
    resource: str

    @classmethod
    def parse(cls, text: str) -> Arn:
        parts = text.split(":", 5)
        if len(parts) != 6 or parts[0] != "arn" or not parts[1] or not parts[2]:
            raise ValueError(f"not an ARN: {text!r}")
        return cls(parts[1], parts[2], parts[3], parts[4], parts[5])

    def __str__(self) -> str:
        return f"arn:{self.partition}:{self.service}:{self.region}:{self.account}:{self.resource}"


@dataclass(frozen=True, slots=True)
class MethodArn:
    """`arn:{p}:execute-api:{region}:{account}:{apiId}/{stage}/{VERB}/{path}`.

    `path` has no leading `/` (root is the empty string); for a WebSocket route
    (`.../{stage}/{routeKey}`) `verb` holds the route key and `path` is None.
    """

    partition: str
    region: str
    account: str
    api_id: str
    stage: str
    verb: str
    path: str | None

    @classmethod
    def parse(cls, text: str) -> MethodArn:
        arn = Arn.parse(text)
        if arn.service != "execute-api":
            raise ValueError(f"not an execute-api ARN: {text!r}")
        pieces = arn.resource.split("/", 3)
        if len(pieces) < 3 or not all(pieces[:3]):
            raise ValueError(f"not a method ARN (apiId/stage/VERB/path): {text!r}")
        path = pieces[3] if len(pieces) == 4 else None
        return cls(arn.partition, arn.region, arn.account, pieces[0], pieces[1], pieces[2], path)

    def __str__(self) -> str:
        tail = self.verb if self.path is None else f"{self.verb}/{self.path}"
        return (
            f"arn:{self.partition}:execute-api:{self.region}:{self.account}:"
            f"{self.api_id}/{self.stage}/{tail}"
        )


def partition_for_region(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def build_method_arn(
    *,
    region: str,
    account: str,
    api_id: str,
    stage: str,
    verb: str,
    path: str,
    partition: str | None = None,
) -> str:
    """The ARN of an actual request: `path` is the request path without the stage prefix
    (parameters already substituted, `{proxy+}` expanded); `verb` is the real verb, never ANY.
    Root `/` yields an ARN ending in `/{VERB}/`."""
    partition = partition or partition_for_region(region)
    return (
        f"arn:{partition}:execute-api:{region}:{account}:"
        f"{api_id}/{stage}/{verb}/{path.removeprefix('/')}"
    )


def build_route_arn(
    *,
    region: str,
    account: str,
    api_id: str,
    stage: str,
    route_key: str,
    partition: str | None = None,
) -> str:
    """A WebSocket route ARN: `.../{apiId}/{stage}/{routeKey}`."""
    partition = partition or partition_for_region(region)
    return f"arn:{partition}:execute-api:{region}:{account}:{api_id}/{stage}/{route_key}"


def method_arn_too_long(arn: str) -> bool:
    return len(arn.encode()) > MAX_METHOD_ARN_BYTES


def mask_account(arn: str) -> str:
    """The ARN as error messages show it: account masked to its last four digits."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or len(parts[4]) <= 4:
        return arn
    account = parts[4]
    parts[4] = "*" * (len(account) - 4) + account[-4:]
    return ":".join(parts)


def expand_shorthand(
    resource: str, *, region: str, account: str, api_id: str, partition: str | None = None
) -> str:
    """`execute-api:/{stage}/{VERB}/{path}` → the full ARN under the owning API, as API Gateway
    rewrites resource policies on save. Anything else is returned unchanged."""
    if not resource.startswith(SHORTHAND_PREFIX):
        return resource
    partition = partition or partition_for_region(region)
    rest = resource[len(SHORTHAND_PREFIX) :]
    return f"arn:{partition}:execute-api:{region}:{account}:{api_id}/{rest}"


class ArnPattern:
    """A compiled ARN pattern, possibly containing policy variables.

    Without variables it is one anchored regular expression; with variables the expression
    is assembled per request from precompiled fragments. A variable without a value makes the
    pattern match nothing.
    """

    __slots__ = ("_template", "_variable_segments", "text")

    def __init__(self, text: str, segments: tuple[Template, ...]) -> None:
        self.text = text
        self._variable_segments = tuple(i for i, s in enumerate(segments) if s.has_variables)
        last = len(segments) - 1
        fragments: list[str | Slot] = []
        for index, segment in enumerate(segments):
            if index:
                fragments.append(":")
            fragments += template_fragments(segment.parts, ANY if index == last else NOT_COLON)
        self._template = RegexTemplate(fragments)

    @property
    def has_variables(self) -> bool:
        return self._template.static is None

    def variable_segments(self) -> tuple[int, ...]:
        """Indexes of segments that use variables (Resource allows them only in the sixth)."""
        return self._variable_segments

    @property
    def regex(self) -> re.Pattern[str] | None:
        """The compiled expression, for patterns without variables."""
        return self._template.static

    @property
    def template(self) -> RegexTemplate:
        return self._template

    def matches(self, value: str, keys: SingleValues) -> bool:
        regex = self._template.compiled(keys)
        return regex is not None and regex.fullmatch(value) is not None

    def __repr__(self) -> str:
        return f"ArnPattern({self.text!r})"


def compile_arn_pattern(text: str, *, variables: bool) -> ArnPattern:
    """Compile `text`; with `variables` (2012-10-17 policies) `${...}` is a policy variable."""
    if not variables:
        return ArnPattern(text, tuple(literal_template(s) for s in text.split(":", 5)))
    return ArnPattern(text, _split_template(text))


def _split_template(text: str) -> tuple[Template, ...]:
    """Split on the first five colons that are not inside `${...}`."""
    segments: list[list[Part]] = [[]]
    for part in parse_template(text).parts:
        if not isinstance(part, str):
            segments[-1].append(part)
            continue
        for i, piece in enumerate(part.split(":", 6 - len(segments))):
            if i:
                segments.append([])
            if piece:
                segments[-1].append(piece)
    return tuple(Template(tuple(s)) for s in segments)
