"""The request as policies see it: who (principal), what (action), on what (resource), and
the condition context keys.

Everything is frozen and normalised at construction so that evaluating many statements
against one request does no repeated work: key names are lower-cased once (key names are
case-insensitive in IAM) and values become tuples of strings, the form every condition
operator parses from.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

ContextValue = str | bool | int | float | Sequence[str | bool | int | float] | None
"""A context key's value as callers give it; a list makes the key multivalued."""


class PrincipalType(StrEnum):
    """Values of `aws:PrincipalType`, plus the two non-IAM callers resource policies can name."""

    ANONYMOUS = "Anonymous"
    ACCOUNT = "Account"
    USER = "User"
    ASSUMED_ROLE = "AssumedRole"
    FEDERATED_USER = "FederatedUser"
    SERVICE = "Service"
    """An AWS service principal (`{"Service": ...}`); `arn` holds the service name."""
    WEB_IDENTITY = "WebIdentity"
    """A caller vouched for by an identity provider (`{"Federated": ...}`); `arn` holds the
    provider."""


SIGNED_TYPES = frozenset(
    {
        PrincipalType.ACCOUNT,
        PrincipalType.USER,
        PrincipalType.ASSUMED_ROLE,
        PrincipalType.FEDERATED_USER,
    }
)
"""Callers that authenticated with SigV4: the only ones `{"AWS": [...]}` principals can match."""


@dataclass(frozen=True, slots=True)
class Principal:
    arn: str
    account: str
    type: PrincipalType

    @classmethod
    def from_arn(cls, arn: str) -> Principal:
        """Principal for an IAM/STS caller ARN (`...:user/x`, `...:root`, `...:assumed-role/r/s`,
        `...:federated-user/x`); ValueError for anything else."""
        parts = arn.split(":", 5)
        if len(parts) != 6 or parts[0] != "arn" or not parts[4]:
            raise ValueError(f"not an IAM principal ARN: {arn!r}")
        service, account, resource = parts[2], parts[4], parts[5]
        if service == "iam" and resource == "root":
            return cls(arn, account, PrincipalType.ACCOUNT)
        if service == "iam" and resource.startswith("user/"):
            return cls(arn, account, PrincipalType.USER)
        if service == "sts" and resource.startswith("assumed-role/") and resource.count("/") >= 2:
            return cls(arn, account, PrincipalType.ASSUMED_ROLE)
        if service == "sts" and resource.startswith("federated-user/"):
            return cls(arn, account, PrincipalType.FEDERATED_USER)
        raise ValueError(f"not an IAM principal ARN: {arn!r}")

    @property
    def signed(self) -> bool:
        return self.type in SIGNED_TYPES

    @property
    def role_name(self) -> str | None:
        """For an assumed-role session, the role's name (a role principal matches its sessions)."""
        if self.type is not PrincipalType.ASSUMED_ROLE:
            return None
        return self.arn.split(":", 5)[5].split("/")[1]

    @property
    def user_name(self) -> str | None:
        """For an IAM user, the friendly name (`aws:username`); None for everyone else."""
        if self.type is not PrincipalType.USER:
            return None
        return self.arn.rsplit("/", 1)[-1]


ANONYMOUS = Principal("anonymous", "", PrincipalType.ANONYMOUS)


class ContextKeys(Mapping[str, tuple[str, ...]]):
    """Condition context keys, case-insensitive, each holding a tuple of string values.

    `None` and empty lists mean "absent": IAM has no way to tell them apart from a missing key.
    Booleans become `"true"`/`"false"` and numbers their decimal text, which is what the
    Bool, Numeric and Date operators parse.
    """

    __slots__ = ("_multi", "_values")

    def __init__(self, values: Mapping[str, ContextValue] | None = None) -> None:
        self._values: dict[str, tuple[str, ...]] = {}
        self._multi: set[str] = set()
        for key, value in (values or {}).items():
            normalised = _normalise(key, value)
            if normalised is None:
                continue
            name = key.lower()
            self._values[name] = normalised
            if not isinstance(value, str | bool | int | float):
                self._multi.add(name)

    def __getitem__(self, key: str) -> tuple[str, ...]:
        return self._values[key.lower()]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key.lower() in self._values

    def __repr__(self) -> str:
        return f"ContextKeys({self._values!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ContextKeys):
            return self._values == other._values and self._multi == other._multi
        return super().__eq__(other)

    def __hash__(self) -> int:
        return hash(frozenset(self._values.items()))

    def lookup(self, key: str) -> tuple[str, ...] | None:
        """Values of an already lower-cased key, or None when absent (the hot path)."""
        return self._values.get(key)

    def single(self, key: str) -> str | None:
        """The value of a single-valued key (lower-cased); multivalued keys are no variables."""
        if key in self._multi:
            return None
        values = self._values.get(key)
        return values[0] if values else None

    def is_multivalued(self, key: str) -> bool:
        return key.lower() in self._multi

    @classmethod
    def of_strings(cls, values: Mapping[str, str]) -> ContextKeys:
        """Single-valued keys whose values are already text: the request path's fast way in."""
        keys = cls()
        keys._values = {key.lower(): (value,) for key, value in values.items()}
        return keys

    def __or__(self, other: ContextKeys) -> ContextKeys:
        """Both sets of keys; `other` wins where both have one."""
        if not other._values:
            return self
        if not self._values:
            return other
        out = ContextKeys()
        out._values = {**self._values, **other._values}
        out._multi = (self._multi - other._values.keys()) | other._multi
        return out

    def merged(self, defaults: Mapping[str, ContextValue]) -> ContextKeys:
        """A copy with `defaults` added for keys not already present."""
        out = ContextKeys(defaults)
        for key in list(out._values):
            if key in self._values:
                del out._values[key]
                out._multi.discard(key)
        out._values.update(self._values)
        out._multi.update(self._multi)
        return out


EMPTY_KEYS = ContextKeys()


def principal_keys(principal: Principal) -> dict[str, ContextValue]:
    """The global keys a SigV4 caller brings (API Gateway: AWS_IAM methods only)."""
    if not principal.signed:
        return {}
    keys: dict[str, ContextValue] = {
        "aws:PrincipalArn": principal.arn,
        "aws:PrincipalAccount": principal.account,
        "aws:PrincipalType": principal.type.value,
    }
    if principal.user_name is not None:
        keys["aws:username"] = principal.user_name
    return keys


@dataclass(frozen=True, slots=True)
class RequestContext:
    """One authorization question: may `principal` perform `action` on `resource`?

    For signed callers `aws:PrincipalArn`, `aws:PrincipalAccount`, `aws:PrincipalType` and
    (IAM users) `aws:username` are filled in from the principal unless `keys` already has them.
    """

    action: str
    resource: str
    principal: Principal = ANONYMOUS
    keys: ContextKeys = EMPTY_KEYS

    def __post_init__(self) -> None:
        keys = self.keys
        if not isinstance(keys, ContextKeys):  # a plain mapping slipped through untyped code
            keys = ContextKeys(keys)
        if self.principal.signed and "aws:principalarn" not in keys:
            keys = keys.merged(principal_keys(self.principal))
        if keys is not self.keys:
            object.__setattr__(self, "keys", keys)


def _normalise(key: str, value: ContextValue) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, str | bool | int | float):
        return (_scalar(key, value),)
    if isinstance(value, Sequence):
        items = tuple(_scalar(key, v) for v in value if v is not None)
        return items or None
    raise TypeError(f"context key {key!r}: unsupported value {value!r}")


def _scalar(key: str, value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return str(value)
    raise TypeError(f"context key {key!r}: unsupported value {value!r}")
