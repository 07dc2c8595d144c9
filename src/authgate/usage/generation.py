"""A write counter shared by the key and plan services, so one number tells the gateway that
any usage record changed (in this process)."""

from __future__ import annotations


class Generation:
    __slots__ = ("_value",)

    def __init__(self) -> None:
        self._value = 0

    @property
    def value(self) -> int:
        return self._value

    def bump(self) -> None:
        self._value += 1
