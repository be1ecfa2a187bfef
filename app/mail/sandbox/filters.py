"""The filters a template may use: those whose result is bounded by their input, and the
amplifying ones checked before they run; every call charged to the render's budget; and
``finalize``, which prints only text and numbers."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from typing import Any

from jinja2 import Undefined
from jinja2.defaults import DEFAULT_FILTERS
from jinja2.filters import (
    do_batch,
    do_tojson,
    do_wordwrap,
    sync_do_join,
    sync_do_slice,
    sync_do_sum,
)
from jinja2.sandbox import SecurityError
from jinja2.utils import pass_environment, pass_eval_context

from .budget import LIMITS, cap, size, sized, spend
from .messages import N_

MAX_JSON_INDENT = 8
# Filters whose result is no larger than what they are given (or a small multiple of it).
_BOUNDED_FILTERS = (
    "abs capitalize count d default e escape first float forceescape int last length "
    "list lower max min reverse round safe select reject selectattr rejectattr map sort "
    "string striptags title trim truncate unique upper urlencode urlize wordcount "
    "items groupby dictsort filesizeformat attr"
).split()


def _charged_filter(func: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(func)  # keeps Jinja's pass_context / pass_eval_context marks
    def charged(*args: Any, **kwargs: Any) -> Any:
        for arg in args:
            if isinstance(arg, str | list | tuple | dict):
                spend(size(arg))
        return sized(func(*args, **kwargs))

    return charged


def _items(value: Any) -> list[Any]:
    items = list(value)
    spend(size(items))
    return items


def _checked_center(value: Any, width: int = 80) -> str:
    cap(int(width))
    return str(value).center(int(width))


def _checked_indent(value: Any, width: int | str = 4, first: bool = False,
                    blank: bool = False) -> str:
    pad = width if isinstance(width, str) else " " * min(int(width), LIMITS.max_output + 1)
    cap(len(str(value)) + len(pad) * (str(value).count("\n") + 1))
    return DEFAULT_FILTERS["indent"](value, width, first, blank)


@pass_eval_context
def _checked_replace(eval_ctx: Any, value: Any, old: str, new: str,
                     count: int | None = None) -> Any:
    text, old, new = str(value), str(old), str(new)
    hits = text.count(old) if old else len(text) + 1
    cap(len(text) + max(0, len(new) - len(old)) * hits)
    return DEFAULT_FILTERS["replace"](eval_ctx, value, old, new, count)


@pass_eval_context
def _checked_join(eval_ctx: Any, value: Any, d: str = "", attribute: Any = None) -> str:
    items = _items(value)
    cap(size(items) + len(str(d)) * max(len(items) - 1, 0))
    return sync_do_join(eval_ctx, items, d, attribute)


def _checked_batch(value: Any, linecount: int, fill_with: Any = None) -> Iterator[list[Any]]:
    items, linecount = _items(value), int(linecount)
    if linecount < 1:
        raise SecurityError(N_("batch의 묶음 크기는 1 이상이어야 합니다."))
    if fill_with is not None:
        cap(len(items) + (-len(items)) % linecount)
    return do_batch(items, linecount, fill_with)


def _checked_slice(value: Any, slices: int, fill_with: Any = None) -> Iterator[list[Any]]:
    items, slices = _items(value), int(slices)
    if slices < 1:
        raise SecurityError(N_("slice의 조각 수는 1 이상이어야 합니다."))
    cap(len(items) + slices)
    spend(slices)
    return sync_do_slice(items, slices, fill_with)


@pass_environment
def _checked_wordwrap(environment: Any, s: Any, width: int = 79, break_long_words: bool = True,
                      wrapstring: str | None = None, break_on_hyphens: bool = True) -> str:
    text, width = str(s), int(width)
    if width < 1:
        raise SecurityError(N_("wordwrap의 너비는 1 이상이어야 합니다."))
    wrap = str(wrapstring) if wrapstring is not None else environment.newline_sequence
    cap(len(text) + len(wrap) * (len(text) // width + text.count("\n") + 1))
    return do_wordwrap(environment, text, width, break_long_words, wrapstring, break_on_hyphens)


@pass_eval_context
def _checked_tojson(eval_ctx: Any, value: Any, indent: int | None = None) -> Any:
    if indent is not None and not (type(indent) is int and 0 <= indent <= MAX_JSON_INDENT):
        raise SecurityError(N_("tojson의 들여쓰기는 0~%(limit)s칸만 쓸 수 있습니다.")
                            % {"limit": MAX_JSON_INDENT})
    size(value)
    return do_tojson(eval_ctx, value, indent)


@pass_environment
def _checked_sum(environment: Any, iterable: Any, attribute: Any = None, start: Any = 0) -> Any:
    if type(start) not in (int, float):
        raise SecurityError(N_("sum의 시작값(start)은 숫자여야 합니다."))
    return sync_do_sum(environment, _items(iterable), attribute, start)


def finalize(value: Any) -> Any:
    """What ``{{ ... }}`` may print: text and numbers (``None`` prints nothing)."""
    if value is None:
        return ""
    if isinstance(value, str | int | float | Undefined):  # Undefined raises its own error
        return value
    raise SecurityError(N_("목록·사전·함수는 그대로 쓸 수 없습니다. 글자나 숫자를 쓰세요"
                           "(목록은 |join(', '))."))




def bounded_filters() -> dict[str, Callable[..., Any]]:
    """Every filter a template may use, each charged to the render's budget."""
    found: dict[str, Callable[..., Any]] = {
        name: DEFAULT_FILTERS[name] for name in _BOUNDED_FILTERS}
    found.update(center=_checked_center, indent=_checked_indent, replace=_checked_replace,
                 join=_checked_join, batch=_checked_batch, slice=_checked_slice,
                 wordwrap=_checked_wordwrap, tojson=_checked_tojson, sum=_checked_sum)
    return {name: _charged_filter(func) for name, func in found.items()}
