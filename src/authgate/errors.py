"""The exception tree. Each error that reaches a client knows its public face; reasons stay inside.

AuthgateError
├── ConfigError                 a configuration or definition cannot be loaded (all problems)
└── IntegrationError            an allowed request could not be completed by its integration
    ├── IntegrationTimeout      no answer within the method's timeout
    ├── IntegrationUnreachable  the backend refused, reset or could not be resolved
    └── IntegrationMalformed    a handler raised, or returned something not in Lambda's shape
"""

from __future__ import annotations

from dataclasses import dataclass


class AuthgateError(Exception):
    """Base of every error authgate raises on purpose."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a configuration, and where: `file:#/json/pointer`."""

    location: str
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"


class ConfigError(AuthgateError):
    """Loading stopped; `problems` lists every problem found, not just the first."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


class IntegrationError(AuthgateError):
    """The integration failed; `reason` is for logs only, never for the client."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class IntegrationTimeout(IntegrationError):
    pass


class IntegrationUnreachable(IntegrationError):
    pass


class IntegrationMalformed(IntegrationError):
    pass
