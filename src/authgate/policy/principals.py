"""The `Principal` / `NotPrincipal` element of resource policies.

`"*"` and `{"AWS": "*"}` mean everyone, anonymous callers included. Any other `AWS` entry
names SigV4 callers only: an account (`"123456789012"` or `arn:...:iam::123456789012:root`,
equivalent) covers every identity in it; a user ARN that user; a role ARN the sessions of
that role. Principals take no partial wildcards.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from authgate.errors import Problem
from authgate.policy.context import Principal, PrincipalType

_ACCOUNT = re.compile(r"\d{12}")
_KINDS = ("AWS", "Service", "Federated")


@dataclass(frozen=True, slots=True)
class PrincipalSpec:
    everyone: bool = False
    accounts: frozenset[str] = frozenset()
    arns: frozenset[str] = frozenset()
    roles: frozenset[tuple[str, str]] = frozenset()
    """(account, role name): a role ARN matches every session of the role."""
    services: frozenset[str] = frozenset()
    federated: frozenset[str] = frozenset()

    def matches(self, principal: Principal) -> bool:
        if self.everyone:
            return True
        if principal.signed:
            if principal.account in self.accounts or principal.arn in self.arns:
                return True
            role = principal.role_name
            return role is not None and (principal.account, role) in self.roles
        if principal.type is PrincipalType.SERVICE:
            return principal.arn in self.services
        if principal.type is PrincipalType.WEB_IDENTITY:
            return principal.arn in self.federated
        return False


def parse_principal(raw: object, where: str, problems: list[Problem]) -> PrincipalSpec | None:
    """Parse a Principal/NotPrincipal value; problems are appended, None if any was found."""
    if raw == "*":
        return PrincipalSpec(everyone=True)
    if not isinstance(raw, Mapping) or not raw:
        problems.append(Problem(where, 'must be "*" or an object with AWS, Service or Federated'))
        return None
    before = len(problems)
    everyone = False
    accounts: set[str] = set()
    arns: set[str] = set()
    roles: set[tuple[str, str]] = set()
    services: set[str] = set()
    federated: set[str] = set()
    for kind, value in raw.items():
        at = f"{where}.{kind}"
        if kind not in _KINDS:
            problems.append(Problem(at, f"unsupported principal type (use {', '.join(_KINDS)})"))
            continue
        entries = value if isinstance(value, list) else [value]
        if not entries:
            problems.append(Problem(at, "must name at least one principal"))
        for i, entry in enumerate(entries):
            here = f"{at}[{i}]" if isinstance(value, list) else at
            if not isinstance(entry, str) or not entry:
                problems.append(Problem(here, "must be a non-empty string"))
                continue
            if kind == "AWS" and entry == "*":
                everyone = True
                continue
            if "*" in entry or "?" in entry:
                problems.append(Problem(here, 'principals take no wildcards (only a lone "*")'))
                continue
            if kind == "Service":
                services.add(entry)
            elif kind == "Federated":
                federated.add(entry)
            else:
                _add_aws(entry, here, problems, accounts, arns, roles)
    if len(problems) > before:
        return None
    return PrincipalSpec(
        everyone,
        frozenset(accounts),
        frozenset(arns),
        frozenset(roles),
        frozenset(services),
        frozenset(federated),
    )


def _add_aws(
    entry: str,
    where: str,
    problems: list[Problem],
    accounts: set[str],
    arns: set[str],
    roles: set[tuple[str, str]],
) -> None:
    if _ACCOUNT.fullmatch(entry):
        accounts.add(entry)
        return
    parts = entry.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or parts[2] not in ("iam", "sts"):
        problems.append(Problem(where, "must be an account id or an IAM/STS principal ARN"))
        return
    account, resource = parts[4], parts[5]
    if not _ACCOUNT.fullmatch(account):
        problems.append(Problem(where, "principal ARN must name a 12-digit account"))
        return
    if parts[2] == "iam" and resource == "root":
        accounts.add(account)
    elif parts[2] == "iam" and resource.startswith("role/"):
        roles.add((account, resource.rsplit("/", 1)[-1]))
        arns.add(entry)
    else:
        arns.add(entry)
