"""User attributes: what may be set, what a user is found by, how destinations are masked, and
ListUsers' filter language. Pure: no I/O.

Attribute values are strings everywhere on the wire (`"email_verified": "true"`); the token
module turns the verified flags into booleans.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Final

from authgate.identity.errors import InvalidParameter
from authgate.identity.model import Alias, UserRecord
from authgate.identity.pool_config import STANDARD_ATTRIBUTES, PoolSettings

MAX_VALUE: Final = 2048
EMAIL: Final = re.compile(r"[^@\s]+@[^@\s]+")
PHONE: Final = re.compile(r"\+[0-9]{4,15}")
VERIFIED_FLAG: Final = {"email": "email_verified", "phone_number": "phone_number_verified"}
NOT_CONFORMING: Final = "Attributes did not conform to the schema: "


def attribute_map(items: object, where: str = "UserAttributes") -> dict[str, str]:
    """`[{"Name": …, "Value": …}]` as a dict; InvalidParameter for anything else."""
    if items is None:
        return {}
    if not isinstance(items, list):
        raise InvalidParameter(f"{where} must be a list of attributes")
    found: dict[str, str] = {}
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("Name"), str):
            raise InvalidParameter(f"every entry of {where} needs a Name")
        value = item.get("Value", "")
        if not isinstance(value, str):
            raise InvalidParameter(f"the Value of {item['Name']} must be a string")
        found[item["Name"]] = value
    return found


def attribute_list(attributes: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"Name": name, "Value": value} for name, value in attributes.items()]


def check_values(
    pool: PoolSettings,
    values: Mapping[str, str],
    *,
    current: Mapping[str, str] | None = None,
    allowed: frozenset[str] | None = None,
    admin: bool = False,
) -> None:
    """Refuse unknown names, malformed values, and writes the writer may not make.

    `current`: the user's attributes when updating (immutable custom attributes keep their
    value); `allowed`: the app client's WriteAttributes; `admin`: admin operations may set the
    `*_verified` flags and developer-only attributes.
    """
    for name, value in values.items():
        if name == "sub":
            raise InvalidParameter(NOT_CONFORMING + "sub: cannot modify an immutable attribute")
        if len(value) > MAX_VALUE:
            raise InvalidParameter(f"{NOT_CONFORMING}{name}: value is longer than {MAX_VALUE}")
        custom = pool.custom.get(name)
        if custom is None and name not in STANDARD_ATTRIBUTES:
            raise InvalidParameter(
                f"{NOT_CONFORMING}Type for attribute {{{name}}} could not be determined"
            )
        if allowed is not None and name not in allowed:
            raise InvalidParameter(f"A client attempted to write unauthorized attribute {name}")
        if name.startswith("dev:") and not admin:
            raise InvalidParameter(f"A client attempted to write unauthorized attribute {name}")
        if custom is not None:
            if current is not None and not custom.mutable and name in current:
                raise InvalidParameter(
                    f"{NOT_CONFORMING}{name}: cannot modify an immutable attribute"
                )
            _check_custom(name, value, custom.data_type, custom)
        else:
            _check_standard(name, value)


def _check_standard(name: str, value: str) -> None:
    if name == "email" and value and not EMAIL.fullmatch(value):
        raise InvalidParameter("Invalid email address format.")
    if name == "phone_number" and value and not PHONE.fullmatch(value):
        raise InvalidParameter("Invalid phone number format.")
    if name in ("email_verified", "phone_number_verified") and value not in ("true", "false"):
        raise InvalidParameter(f"{NOT_CONFORMING}{name}: must be true or false")
    if name == "updated_at" and not value.isdigit():
        raise InvalidParameter(f"{NOT_CONFORMING}updated_at: must be a number")


def _check_custom(name: str, value: str, data_type: str, rule: object) -> None:
    low = getattr(rule, "min_length", None)
    high = getattr(rule, "max_length", None)
    if data_type == "String":
        if (low is not None and len(value) < low) or (high is not None and len(value) > high):
            raise InvalidParameter(f"{NOT_CONFORMING}{name}: String is too short or too long")
    elif data_type == "Number":
        try:
            number = int(value)
        except ValueError:
            raise InvalidParameter(f"{NOT_CONFORMING}{name}: Number must be an integer") from None
        minimum = getattr(rule, "min_value", None)
        maximum = getattr(rule, "max_value", None)
        if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
            raise InvalidParameter(f"{NOT_CONFORMING}{name}: Number is out of range")
    elif data_type == "Boolean" and value not in ("true", "false"):
        raise InvalidParameter(f"{NOT_CONFORMING}{name}: must be true or false")


def check_required(pool: PoolSettings, attributes: Mapping[str, str]) -> None:
    for name in sorted(pool.required):
        if not attributes.get(name):
            raise InvalidParameter(f"{NOT_CONFORMING}{name}: The attribute {name} is required")


def aliases_of(
    pool: PoolSettings, username: str, attributes: Mapping[str, str]
) -> tuple[Alias, ...]:
    """The values this user can be found by. With UsernameAttributes, email and phone count
    whether verified or not (they are the username); with AliasAttributes only verified email
    and phone do, and preferred_username always does."""
    found: list[Alias] = []
    for kind in sorted(pool.username_attributes | pool.alias_attributes):
        value = attributes.get(kind)
        if not value:
            continue
        verified = attributes.get(VERIFIED_FLAG.get(kind, ""), "false") == "true"
        if kind in pool.username_attributes or kind == "preferred_username" or verified:
            found.append(Alias(kind, pool.fold(value)))
    return tuple(found)


def lookup_aliases(pool: PoolSettings, identifier: str) -> list[Alias]:
    """The aliases an identifier typed at sign-in might be, in the order to try them."""
    kinds = pool.username_attributes | pool.alias_attributes
    candidates: list[Alias] = []
    if "email" in kinds and EMAIL.fullmatch(identifier):
        candidates.append(Alias("email", pool.fold(identifier)))
    if "phone_number" in kinds and PHONE.fullmatch(identifier):
        candidates.append(Alias("phone_number", identifier))
    if "preferred_username" in kinds:
        candidates.append(Alias("preferred_username", pool.fold(identifier)))
    return candidates


def readable(attributes: Mapping[str, str], allowed: frozenset[str] | None) -> dict[str, str]:
    if allowed is None:
        return dict(attributes)
    return {k: v for k, v in attributes.items() if k in allowed}


def mask(medium: str, destination: str) -> str:
    """`j***@e***` for an email, `+*******1234` for a phone (as Cognito shows destinations)."""
    if medium == "EMAIL":
        local, _, domain = destination.partition("@")
        return f"{local[:1]}***@{domain[:1]}***"
    return "+" + "*" * max(len(destination) - 5, 0) + destination[-4:]


@dataclass(frozen=True, slots=True)
class Delivery:
    """Where a code goes: the medium, the raw destination, and the attribute it came from."""

    medium: str
    destination: str
    attribute: str

    def details(self) -> dict[str, str]:
        return {
            "Destination": mask(self.medium, self.destination),
            "DeliveryMedium": self.medium,
            "AttributeName": self.attribute,
        }


def delivery_for(attributes: Mapping[str, str], kinds: Iterable[str]) -> Delivery | None:
    """The first of `kinds` (email, phone_number) the user has a value for."""
    for kind in kinds:
        value = attributes.get(kind)
        if value:
            return Delivery("EMAIL" if kind == "email" else "SMS", value, kind)
    return None


# -- ListUsers filters ---------------------------------------------------------------------------

SEARCHABLE: Final = frozenset(
    {
        "username",
        "email",
        "phone_number",
        "name",
        "given_name",
        "family_name",
        "preferred_username",
        "cognito:user_status",
        "status",
        "sub",
    }
)
_FILTER = re.compile(r'\s*([\w:]+)\s*(\^?=)\s*"((?:[^"\\]|\\.)*)"\s*')

UserTest = Callable[[UserRecord], bool]


def parse_filter(text: str) -> UserTest:
    """ListUsers' `Filter`: `name = "value"` (exact) or `name ^= "value"` (prefix), one
    attribute (ListUsers API reference). The empty filter matches every user."""
    if not text.strip():
        return lambda user: True
    match = _FILTER.fullmatch(text)
    if match is None:
        raise InvalidParameter("Error while parsing filter.")
    name, operator, raw = match.groups()
    if name not in SEARCHABLE:
        raise InvalidParameter(f"Invalid search attribute: {name}")
    value = re.sub(r"\\(.)", r"\1", raw)
    fold = name in ("cognito:user_status",)
    wanted = value.lower() if fold else value

    def read(user: UserRecord) -> str:
        if name == "username":
            return user.username
        if name == "sub":
            return user.sub
        if name == "cognito:user_status":
            return user.status.value.lower()
        if name == "status":
            return "Enabled" if user.enabled else "Disabled"
        return user.attributes.get(name, "")

    if operator == "=":
        return lambda user: read(user) == wanted
    return lambda user: read(user).startswith(wanted)
