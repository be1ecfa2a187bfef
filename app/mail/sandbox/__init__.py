"""The rules a user's mail template runs under: Jinja's ``ImmutableSandboxedEnvironment``
with ``StrictUndefined`` (the HTML part autoescaped, subject and text not), shrunk further:

- no attribute, key or name starting with ``_``, no macros, includes, imports or recursive
  loops, no method calls but a few harmless ones, loops two deep at most (checked on the
  parsed template, so a save names the line);
- every value a template builds and every rendered part is capped at ``LIMITS.max_output``
  characters, lists and dicts counted with what they hold, checked before an amplifying
  filter argument (``batch``/``slice`` fill, a ``join`` separator, a ``wordwrap`` string,
  a ``tojson`` indent, a ``sum`` start) can make it;
- each render has a work budget: every loop turn, every character a filter, an operator or
  a method reads or makes is charged, and ``range`` hands out ``LIMITS.range_budget``
  numbers; ``int * int`` is bounded in bits;
- only text and numbers are printed (``finalize``): never a Python repr;
- a nesting deep enough to exhaust Python's stack is a template problem, not a crash.

This package imports nothing of the app (only relative imports inside it): the render
process (``render_child.py``) loads it alone, as a top-level package. The app never runs a
template in its own process: it calls ``app.mail.render``, which hands the work to that
process under a deadline and a memory limit. Here: parsing, compiling, rendering, checking
(``rules.py`` what may be written, ``environment.py`` and ``filters.py`` what may run,
``budget.py`` how much).
"""

from __future__ import annotations

import traceback
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from jinja2 import TemplateError, meta, nodes
from jinja2.environment import Template
from jinja2.sandbox import SecurityError

from .budget import LIMITS, Budget, Limits, configure, current
from .environment import budgeted_range, environment
from .messages import N_, SYNTAX, known_or_generic
from .rules import PARTS, TemplateProblem, check_rules

__all__ = ["BUILTIN_VARIABLES", "EXAMPLE_UNSUBSCRIBE_URL", "LIMITS", "Limits", "MAX_SOURCE",
           "PARTS", "CompiledMail", "RenderedMail", "TemplateProblem", "check",
           "compile_mail", "configure", "fields_used", "recipient_context", "sample_context"]

MAX_SOURCE = 50_000  # characters in one part of a template as written
MAX_SUBJECT = 500
# Variables every template may use besides the recipient's own fields.
BUILTIN_VARIABLES = frozenset({"email", "recipient", "sender_name", "unsubscribe_url"})
RESERVED_NAMES = BUILTIN_VARIABLES | {"range", "dict", "loop", "true", "false", "none"}
TOO_LONG = N_("%(limit)s자를 넘을 수 없습니다.")
TOO_DEEP = N_("템플릿이 너무 깊게 겹쳐 있습니다. 괄호나 필터를 몇 겹으로 줄이세요.")


def _line_of(exc: BaseException) -> int | None:
    """The template line an error at render time came from (Jinja puts it in the trace)."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == "<template>"]
    return frames[-1].lineno if frames else getattr(exc, "lineno", None)


def _syntax(exc: TemplateError, part: str) -> TemplateProblem:
    return TemplateProblem(SYNTAX % {"detail": exc.message}, part, getattr(exc, "lineno", None))


def _parse(source: str, part: str) -> nodes.Template:
    if len(source) > MAX_SOURCE:
        raise TemplateProblem(TOO_LONG % {"limit": f"{MAX_SOURCE:,}"}, part)
    try:
        tree = environment(part).parse(source)
        check_rules(tree, part)
    except TemplateError as exc:
        raise _syntax(exc, part) from exc
    except RecursionError as exc:
        raise TemplateProblem(TOO_DEEP, part) from exc
    return tree


def _compile(source: str, part: str) -> Template:
    tree = _parse(source, part)
    try:
        return environment(part).from_string(tree)
    except TemplateError as exc:  # e.g. a filter that does not exist
        raise _syntax(exc, part) from exc
    except RecursionError as exc:
        raise TemplateProblem(TOO_DEEP, part) from exc


def _variables(source: str, part: str) -> set[str]:
    tree = _parse(source, part)
    try:
        return meta.find_undeclared_variables(tree)
    except TemplateError as exc:
        raise _syntax(exc, part) from exc
    except RecursionError as exc:
        raise TemplateProblem(TOO_DEEP, part) from exc


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
        budget = Budget()
        token = current.set(budget)
        try:
            rendered = {part: _render_part(template, part, context, budget)
                        for part, template in (("subject", self.subject),
                                               ("body_text", self.text),
                                               ("body_html", self.html))}
        finally:
            current.reset(token)
        subject = " ".join((rendered["subject"] or "").split())
        if len(subject) > MAX_SUBJECT:
            raise TemplateProblem(TOO_LONG % {"limit": MAX_SUBJECT}, "subject")
        return RenderedMail(subject=subject, text=rendered["body_text"] or "",
                            html=rendered["body_html"])


def _render_part(template: Template | None, part: str, context: Mapping[str, Any],
                 budget: Budget) -> str | None:
    if template is None:
        return None
    try:
        return template.render({**context, "range": budgeted_range(budget)})
    except RecursionError as exc:
        raise TemplateProblem(TOO_DEEP, part) from exc
    except MemoryError:
        raise  # the render process reports it as the memory limit
    except Exception as exc:  # whatever a template does wrong, say where
        message = getattr(exc, "message", None) or str(exc)
        if not isinstance(exc, SecurityError):  # ours (Korean) and the sandbox's are known
            message = known_or_generic(message)
        raise TemplateProblem(message, part, _line_of(exc)) from exc


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
        raise TemplateProblem(N_("제목을 입력하세요."), "subject")
    if not (template.get("body_text") or "").strip():
        raise TemplateProblem(N_("텍스트 본문을 입력하세요."), "body_text")
    fields = fields_used(template)
    compile_mail(template).render(sample_context(fields))
    return fields
