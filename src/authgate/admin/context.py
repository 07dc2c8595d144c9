"""What one management call runs with, and the shape of an operation's entry in a table."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from authgate.iam.model import Caller, ResolvedCredential
from authgate.wire.xml import Result

if TYPE_CHECKING:
    from authgate.iam.service import IamService
    from authgate.iam.sts import StsService

Params = Mapping[str, str]
"""The request's query parameters, flat (`Tags.member.1.Key`), without Action and Version."""


@dataclass(frozen=True, slots=True)
class AdminContext:
    """One authenticated management call: who is calling, and the services it may use."""

    caller: Caller
    request_id: str
    account_id: str
    iam: IamService
    sts: StsService
    credential: ResolvedCredential | None = None
    """The credential the call was signed with, when known: STS needs to know whether it is
    temporary (GetSessionToken refuses those) and reuses its resolved policies (AssumeRole)."""


OperationHandler = Callable[[AdminContext, Params], Awaitable[Result | None]]
"""Validates its parameters, calls the services, returns the result (None: no output)."""

ResourceOf = Callable[[AdminContext, Params], Awaitable[str | None]]
"""The ARN the call is authorized against. None: no policy check before the handler, either
because AWS never applies one (GetCallerIdentity, GetSessionToken) or because the service
decides in full (AssumeRole: trust policy and identity policies together). It may validate
the parameters it reads, so a malformed call fails validation before authorization."""


@dataclass(frozen=True, slots=True)
class Operation:
    handler: OperationHandler
    action: str
    """The IAM action, e.g. `iam:CreateUser`."""
    resource: ResourceOf


OperationTable = Mapping[str, Operation]
