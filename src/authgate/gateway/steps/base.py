"""The Step contract: one named part of the data-plane pipeline.

A step returns None to let the request go on, or a Rejection to answer it at once. It may
raise; the pipeline turns any exception into a denial, so a bug can never let a request
through.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Protocol

if TYPE_CHECKING:
    from authgate.gateway.exchange import Exchange
    from authgate.gateway.responses import Rejection

STEP_ORDER = ("screen", "authenticate", "authorize", "meter", "validate")
"""The fixed order. Extensions plug in inside a step (a new authorizer), never between steps."""


class Step(Protocol):
    name: ClassVar[str]
    """One of STEP_ORDER."""

    async def __call__(self, exchange: Exchange) -> Rejection | None: ...


def in_order(steps: list[Step]) -> tuple[Step, ...]:
    """Sort a method's steps into the fixed order; an unknown name is a programming error."""
    for step in steps:
        if step.name not in STEP_ORDER:
            raise ValueError(f"unknown pipeline step {step.name!r}")
    return tuple(sorted(steps, key=lambda step: STEP_ORDER.index(step.name)))
