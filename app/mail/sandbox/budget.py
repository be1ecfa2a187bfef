"""What one render may build and do: the limits, the work budget, and the size checks
every value a template makes goes through."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from jinja2.sandbox import SecurityError

from .messages import N_


@dataclass
class Limits:
    """What one render may build and do (the render process sets them from the config)."""

    max_output: int = 200_000  # characters in a rendered part or any value built on the way
    work_budget: int = 1_000_000  # loop turns plus characters read and made, per render
    range_budget: int = 10_000  # numbers ``range`` hands out, per render


LIMITS = Limits()


class TooLarge(SecurityError):
    """A value or a rendered part grew past ``LIMITS.max_output``."""


class TooMuchWork(SecurityError):
    """A render spent its work budget."""


class Budget:
    """One render's allowance of work and of ``range`` numbers."""

    def __init__(self) -> None:
        self.work = LIMITS.work_budget
        self.numbers = LIMITS.range_budget

    def spend(self, units: int) -> None:
        """Charge ``units`` of work; TooMuchWork once the budget is gone."""
        self.work -= units
        if self.work < 0:
            raise TooMuchWork(N_("템플릿이 한 번에 할 수 있는 일의 양을 넘었습니다(반복과 글자 "
                                 "처리 %(units)s 단위).") % {"units": f"{LIMITS.work_budget:,}"})


current: ContextVar[Budget] = ContextVar("mailroom_template_budget")


def spend(units: int) -> None:
    """Charge ``units`` of work to the render under way."""
    current.get().spend(units)


def cap(length: int) -> None:
    """TooLarge if ``length`` passes the cap."""
    if length > LIMITS.max_output:
        raise TooLarge(N_("결과가 너무 깁니다(%(limit)s자 초과).")
                       % {"limit": f"{LIMITS.max_output:,}"})


def size(value: Any) -> int:
    """Characters and items in ``value``, nested lists and dicts included; TooLarge as soon
    as the count passes the cap (so a huge value is never walked whole)."""
    total, todo = 0, [value]
    while todo:
        item = todo.pop()
        if isinstance(item, str | bytes):
            total += len(item)
        elif isinstance(item, list | tuple | set | frozenset):
            total += len(item)
            todo.extend(item)
        elif isinstance(item, dict):
            total += len(item)
            todo.extend(item.keys())
            todo.extend(item.values())
        cap(total)
    return total


def sized(value: Any) -> Any:
    """``value``, charged and checked against the cap."""
    spend(size(value))
    return value


def configure(max_output: int, work_budget: int) -> None:
    """Set the limits of every render in this process (the render process does, at start)."""
    LIMITS.max_output, LIMITS.work_budget = max_output, work_budget
