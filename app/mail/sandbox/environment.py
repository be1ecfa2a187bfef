"""The environment users' templates run in: Jinja's immutable sandbox with the filters of
``filters.py``, every ``~``, ``+``, ``*``, slice and method call checked against the cap,
and every loop turn counted."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from jinja2 import StrictUndefined, nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

from .budget import LIMITS, Budget, TooLarge, cap, current, size, sized, spend
from .filters import bounded_filters, finalize
from .messages import N_

MAX_INT_BITS = 4096  # ``int * int``: about 1,200 digits


class _CheckedGenerator(CodeGenerator):
    """Compiles ``a ~ b`` so its result is checked against the cap, and every ``for`` so
    its turns are counted (Jinja allows no node types of our own: the loop's iterable is
    recognised by identity when it is visited)."""

    def visit(self, node: nodes.Node, *args: Any, **kwargs: Any) -> Any:
        if id(node) in getattr(self, "_loop_iterables", ()):
            self.write("environment.counted(")
            super().visit(node, *args, **kwargs)
            self.write(")")
            return None
        return super().visit(node, *args, **kwargs)

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        self.write("environment.capped(")
        super().visit_Concat(node, frame)
        self.write(")")

    def visit_For(self, node: nodes.For, frame: Frame) -> None:
        if not hasattr(self, "_loop_iterables"):
            self._loop_iterables: set[int] = set()
        self._loop_iterables.add(id(node.iter))
        super().visit_For(node, frame)


class MailSandbox(ImmutableSandboxedEnvironment):
    """The environment user templates run in (one for HTML, one for the rest)."""

    intercepted_binops = frozenset({"+", "*", "**", "%"})
    code_generator_class = _CheckedGenerator

    def __init__(self, autoescape: bool) -> None:
        super().__init__(undefined=StrictUndefined, autoescape=autoescape,
                         keep_trailing_newline=True, finalize=finalize)
        self.filters = bounded_filters()
        self.globals = {"dict": dict}  # ``range`` comes with each render, on a budget

    def capped(self, value: Any) -> Any:
        """A value built by ``~``, charged and checked against the cap."""
        return sized(value)

    def counted(self, iterable: Iterable[Any]) -> Iterator[Any]:
        """A loop's items, one unit of work each."""
        budget = current.get()
        for item in iterable:
            budget.spend(1)
            yield item

    def concat(self, parts: Iterable[str]) -> str:  # type: ignore[override]
        """Joins a rendered part or a ``{% set %}`` block, stopping once it is too long."""
        out, length = [], 0
        for part in parts:
            length += len(part)
            cap(length)
            spend(len(part))
            out.append(part)
        return "".join(out)

    def getitem(self, obj: Any, argument: Any) -> Any:
        """``x[i]`` and ``x[a:b]``, the result charged (a slice is a new value)."""
        return sized(super().getitem(obj, argument))

    def call(__self, __context: Any, __obj: Any, *args: Any,  # noqa: N805 (Jinja's names)
             **kwargs: Any) -> Any:
        """A call the rules allowed, its result charged and checked."""
        return sized(super().call(__context, __obj, *args, **kwargs))

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        """``+ * ** %`` with their results' size checked before they are made."""
        if operator == "**":
            if abs(right) > 64 or abs(left) > 10**6:
                raise TooLarge(N_("거듭제곱이 너무 큽니다."))
        elif operator == "*":
            _check_product(left, right)
        elif operator == "%" and isinstance(left, str):
            raise SecurityError(N_("문자열 % 서식은 쓸 수 없습니다."))
        elif operator == "+" and isinstance(left, str | list | tuple):
            cap(size(left) + size(right))
        return sized(super().call_binop(context, operator, left, right))


def _check_product(left: Any, right: Any) -> None:
    """``a * b`` would stay under the cap (a sequence repeated) or ``MAX_INT_BITS``."""
    if type(left) is int and type(right) is int:
        if left.bit_length() + right.bit_length() > MAX_INT_BITS:
            raise TooLarge(N_("곱한 수가 너무 큽니다."))
    elif isinstance(left, int) != isinstance(right, int):
        times, seq = (left, right) if isinstance(left, int) else (right, left)
        if isinstance(seq, str | list | tuple):
            cap(size(seq) * int(times))


@functools.cache
def _sandbox(autoescape: bool) -> MailSandbox:
    return MailSandbox(autoescape)


def environment(part: str) -> MailSandbox:
    """The environment for ``part`` (HTML autoescaped, subject and text not)."""
    return _sandbox(part == "body_html")


def budgeted_range(budget: Budget) -> Callable[..., range]:
    """A ``range`` for one render, handing out ``budget``'s numbers."""
    def bounded(*args: int) -> range:
        numbers = range(*args)
        budget.numbers -= len(numbers)
        if budget.numbers < 0:
            raise TooLarge(N_("range로 만드는 수는 한 번에 모두 %(limit)s개까지입니다.")
                           % {"limit": f"{LIMITS.range_budget:,}"})
        return numbers

    return bounded
