"""Rendering the users' own mail templates safely.

A template is Jinja run in ``ImmutableSandboxedEnvironment`` with ``StrictUndefined``: the
HTML part autoescaped, subject and text not. What a sandbox alone leaves open is closed here:

- no attribute or key starting with ``_`` (``''.__class__``), no macros, includes, imports
  or recursive loops, no method calls but a few harmless ones, loops two deep at most
  (checked on the parsed template, so a save names the line);
- every value a template builds (``+``, ``*``, ``~``, ``%``, a ``{% set %}`` block, a
  filter such as ``center``) and every rendered part is capped at ``MAX_OUTPUT``
  characters, checked as it grows, and ``range`` hands out ``RANGE_BUDGET`` numbers per
  render in all, so neither memory nor time can be run away with;
- only filters whose output is bounded by their input (or checked) exist.

``check`` is what a save runs (syntax, the rules above, a trial render); ``compile_mail``
is what the worker runs once per task, then ``CompiledMail.render`` once per recipient.
"""

from __future__ import annotations

import functools
import traceback
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from jinja2 import StrictUndefined, TemplateError, meta, nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.defaults import DEFAULT_FILTERS
from jinja2.environment import Template
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

MAX_SOURCE = 50_000  # characters in one part of a template as written
MAX_OUTPUT = 200_000  # characters in one rendered part, or any value built on the way
MAX_SUBJECT = 500
RANGE_BUDGET = 10_000
MAX_LOOP_DEPTH = 2
# Variables every template may use besides the recipient's own fields.
BUILTIN_VARIABLES = frozenset({"email", "recipient", "sender_name", "unsubscribe_url"})
RESERVED_NAMES = BUILTIN_VARIABLES | {"range", "dict", "loop", "true", "false", "none"}
PARTS = {"subject": "제목", "body_text": "텍스트 본문", "body_html": "HTML 본문"}

# Filters whose result is no larger than what they are given (or a small multiple of it).
_BOUNDED_FILTERS = (
    "abs capitalize count d default e escape first float forceescape int join last length "
    "list lower max min reverse round safe select reject selectattr rejectattr map sort "
    "string striptags sum title trim truncate unique upper urlencode urlize wordcount "
    "wordwrap batch slice items groupby dictsort filesizeformat tojson attr"
).split()
# Method calls allowed on a value: none of them can grow it much.
_SAFE_METHODS = frozenset(
    "upper lower title capitalize strip lstrip rstrip split startswith endswith isdigit "
    "isalpha isalnum isspace islower isupper items keys values get cycle".split())
_FORBIDDEN_NODES = {
    nodes.Macro: "매크로(macro)", nodes.CallBlock: "call 블록", nodes.Import: "import",
    nodes.FromImport: "import", nodes.Include: "include", nodes.Extends: "extends",
    nodes.Block: "block", nodes.ExprStmt: "do",
}


class TemplateProblem(ValueError):
    """A template that cannot be used, with the part and line at fault, in Korean."""

    def __init__(self, message: str, part: str | None = None, line: int | None = None):
        where = PARTS.get(part or "", "")
        if where and line:
            where += f" {line}번째 줄"
        super().__init__(f"{where}: {message}" if where else message)
        self.part, self.line = part, line


class TooLarge(SecurityError):
    """A value or a rendered part grew past ``MAX_OUTPUT``."""


def _cap(size: int) -> None:
    if size > MAX_OUTPUT:
        raise TooLarge(f"결과가 너무 깁니다({MAX_OUTPUT:,}자 초과).")


def _sized(value: Any) -> Any:
    if isinstance(value, str | list | tuple):
        _cap(len(value))
    return value


def _capped_filter(func: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(func)  # keeps Jinja's pass_context / pass_eval_context marks
    def capped(*args: Any, **kwargs: Any) -> Any:
        return _sized(func(*args, **kwargs))

    return capped


class _CappedGenerator(CodeGenerator):
    """Compiles ``a ~ b`` so its result is checked against the cap."""

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        self.write("environment.capped(")
        super().visit_Concat(node, frame)
        self.write(")")


def _checked_center(value: Any, width: int = 80) -> str:
    _cap(int(width))
    return str(value).center(int(width))


def _checked_indent(value: Any, width: int | str = 4, first: bool = False,
                    blank: bool = False) -> str:
    pad = width if isinstance(width, str) else " " * min(int(width), MAX_OUTPUT + 1)
    _cap(len(str(value)) + len(pad) * (str(value).count("\n") + 1))
    return DEFAULT_FILTERS["indent"](value, width, first, blank)


def _checked_replace(eval_ctx: Any, value: Any, old: str, new: str, count: int | None = None
                     ) -> Any:
    text, old, new = str(value), str(old), str(new)
    hits = text.count(old) if old else len(text) + 1
    _cap(len(text) + max(0, len(new) - len(old)) * hits)
    return DEFAULT_FILTERS["replace"](eval_ctx, value, old, new, count)


_checked_replace.jinja_pass_arg = DEFAULT_FILTERS["replace"].jinja_pass_arg  # type: ignore[attr-defined]


class MailSandbox(ImmutableSandboxedEnvironment):
    """The environment user templates run in (one for HTML, one for the rest)."""

    intercepted_binops = frozenset({"+", "*", "**", "%"})
    code_generator_class = _CappedGenerator

    def __init__(self, autoescape: bool) -> None:
        super().__init__(undefined=StrictUndefined, autoescape=autoescape,
                         keep_trailing_newline=True)
        filters = {name: DEFAULT_FILTERS[name] for name in _BOUNDED_FILTERS}
        filters.update(center=_checked_center, indent=_checked_indent, replace=_checked_replace)
        # A filter may grow its input a few times (``escape``, ``tojson``): a chain of them
        # must not, so each result is checked too.
        self.filters = {name: _capped_filter(func) for name, func in filters.items()}
        self.globals = {"dict": dict}  # ``range`` comes with each render, on a budget

    def capped(self, value: Any) -> Any:
        """A value built by ``~``, checked against the cap."""
        return _sized(value)

    def concat(self, parts: Iterable[str]) -> str:  # type: ignore[override]
        """Joins a rendered part or a ``{% set %}`` block, stopping once it is too long."""
        out, size = [], 0
        for part in parts:
            size += len(part)
            _cap(size)
            out.append(part)
        return "".join(out)

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        """``+ * ** %`` with their results' size checked before they are made."""
        if operator == "**":
            if abs(right) > 64 or abs(left) > 10**6:
                raise TooLarge("거듭제곱이 너무 큽니다.")
        elif operator == "*" and isinstance(left, int) != isinstance(right, int):
            times, seq = (left, right) if isinstance(left, int) else (right, left)
            if isinstance(seq, str | list | tuple):
                _cap(len(seq) * int(times))
        elif operator == "%" and isinstance(left, str):
            raise SecurityError("문자열 % 서식은 쓸 수 없습니다.")
        elif operator == "+" and isinstance(left, str | list | tuple):
            _cap(len(left) + len(right))
        return super().call_binop(context, operator, left, right)


@cache
def _sandbox(autoescape: bool) -> MailSandbox:
    return MailSandbox(autoescape)


def _environment(part: str) -> MailSandbox:
    return _sandbox(part == "body_html")


def _budgeted_range() -> Callable[..., range]:
    left = RANGE_BUDGET

    def bounded(*args: int) -> range:
        nonlocal left
        numbers = range(*args)
        left -= len(numbers)
        if left < 0:
            raise TooLarge(f"range로 만드는 수는 한 번에 모두 {RANGE_BUDGET:,}개까지입니다.")
        return numbers

    return bounded


def _check_rules(tree: nodes.Template, part: str) -> None:
    """Refuse what the sandbox would allow but a mail template never needs (at the line)."""
    def refuse(node: nodes.Node, message: str) -> None:
        raise TemplateProblem(message, part, node.lineno)

    for node in tree.find_all(nodes.Node):
        for kind, what in _FORBIDDEN_NODES.items():
            if isinstance(node, kind):
                refuse(node, f"메일 템플릿에서는 {what}을(를) 쓸 수 없습니다.")
        # ``x._y``, ``x['_y']``, and any ``'__y'`` handed to a filter (``attr``, ``map``).
        if isinstance(node, nodes.Getattr) and node.attr.startswith("_") or (
                isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const)
                and str(node.arg.value).startswith("_")) or (
                isinstance(node, nodes.Const) and str(node.value).startswith("__")):
            refuse(node, "밑줄(_)로 시작하는 속성에는 접근할 수 없습니다.")
        if isinstance(node, nodes.Call):
            callee = node.node
            allowed = (isinstance(callee, nodes.Name) and callee.name in ("range", "dict")) or (
                isinstance(callee, nodes.Getattr) and callee.attr in _SAFE_METHODS)
            if not allowed:
                refuse(node, "이 함수나 메서드는 호출할 수 없습니다. 필터(|)를 쓰세요.")
        if isinstance(node, nodes.For):
            if node.recursive:
                refuse(node, "재귀 반복(recursive)은 쓸 수 없습니다.")
            if _loop_depth(node) > MAX_LOOP_DEPTH:
                refuse(node, f"반복(for)은 {MAX_LOOP_DEPTH}겹까지만 쓸 수 있습니다.")


def _loop_depth(node: nodes.Node) -> int:
    inner = [_loop_depth(child) for child in node.iter_child_nodes()]
    return (1 if isinstance(node, nodes.For) else 0) + max(inner, default=0)


def _line_of(exc: BaseException) -> int | None:
    """The template line an error at render time came from (Jinja puts it in the trace)."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == "<template>"]
    return frames[-1].lineno if frames else getattr(exc, "lineno", None)


def _syntax(exc: TemplateError, part: str) -> TemplateProblem:
    return TemplateProblem(f"문법 오류: {exc.message}", part, getattr(exc, "lineno", None))


def _parse(source: str, part: str) -> nodes.Template:
    if len(source) > MAX_SOURCE:
        raise TemplateProblem(f"{MAX_SOURCE:,}자를 넘을 수 없습니다.", part)
    try:
        tree = _environment(part).parse(source)
    except TemplateError as exc:
        raise _syntax(exc, part) from exc
    _check_rules(tree, part)
    return tree


def _compile(source: str, part: str) -> Template:
    tree = _parse(source, part)
    try:
        return _environment(part).from_string(tree)
    except TemplateError as exc:  # e.g. a filter that does not exist
        raise _syntax(exc, part) from exc


def _variables(source: str, part: str) -> set[str]:
    tree = _parse(source, part)
    try:
        return meta.find_undeclared_variables(tree)
    except TemplateError as exc:
        raise _syntax(exc, part) from exc


@dataclass(frozen=True)
class RenderedMail:
    subject: str
    html: str | None
    text: str


@dataclass(frozen=True)
class CompiledMail:
    """A template ready to render for one recipient after another."""

    subject: Template
    text: Template
    html: Template | None

    def render(self, context: Mapping[str, Any]) -> RenderedMail:
        """The recipient's mail; TemplateProblem (naming part and line) if it cannot be."""
        values = {**context, "range": None}
        rendered: dict[str, str | None] = {"body_html": None}
        for part, template in (("subject", self.subject), ("body_text", self.text),
                               ("body_html", self.html)):
            if template is None:
                continue
            values["range"] = _budgeted_range()
            try:
                rendered[part] = template.render(values)
            except Exception as exc:  # whatever a template does wrong, say where
                message = getattr(exc, "message", None) or str(exc)
                raise TemplateProblem(message, part, _line_of(exc)) from exc
        subject = " ".join((rendered["subject"] or "").split())
        if len(subject) > MAX_SUBJECT:
            raise TemplateProblem(f"{MAX_SUBJECT}자를 넘을 수 없습니다.", "subject")
        return RenderedMail(subject=subject, text=rendered["body_text"] or "",
                            html=rendered["body_html"])


def compile_mail(template: Mapping[str, Any]) -> CompiledMail:
    """Compile a template (a MailTemplate's ``snapshot()``)."""
    html = template.get("body_html") or None
    return CompiledMail(subject=_compile(template["subject"], "subject"),
                        text=_compile(template["body_text"], "body_text"),
                        html=_compile(html, "body_html") if html else None)


def fields_used(template: Mapping[str, Any]) -> list[str]:
    """The recipient fields a template uses (its variables but the built-in ones)."""
    found: set[str] = set()
    for part in PARTS:
        source = template.get(part) or ""
        if source:
            found |= _variables(source, part)
    return sorted(found - RESERVED_NAMES)


def recipient_context(email: str, fields: Mapping[str, str] | None, sender_name: str,
                      unsubscribe_url: str) -> dict[str, Any]:
    """The variables one recipient's mail renders with: their fields, then the built-ins."""
    return {**(fields or {}), "email": email, "recipient": email, "sender_name": sender_name,
            "unsubscribe_url": unsubscribe_url}


EXAMPLE_UNSUBSCRIBE_URL = "https://example.com/unsubscribe"


def sample_context(fields: Iterable[str], email: str = "someone@example.com") -> dict[str, str]:
    """What a trial render gives a template: every variable it uses, with example text."""
    return recipient_context(email, {name: f"[{name}]" for name in fields}, "보내는 사람",
                             EXAMPLE_UNSUBSCRIBE_URL)


def check(template: Mapping[str, Any]) -> list[str]:
    """What a save runs: TemplateProblem unless every part parses, keeps the rules and
    renders for an example recipient. The recipient fields it uses."""
    if not (template.get("subject") or "").strip():
        raise TemplateProblem("제목을 입력하세요.", "subject")
    if not (template.get("body_text") or "").strip():
        raise TemplateProblem("텍스트 본문을 입력하세요.", "body_text")
    fields = fields_used(template)
    compile_mail(template).render(sample_context(fields))
    return fields
