"""Rendering users' mail templates, the app's way: never in the calling process. Every
check, preview and per-recipient render goes to a render process (``renderpool.py``) with
a deadline (``TEMPLATE_RENDER_SECONDS``) and a memory limit (``TEMPLATE_RENDER_MEMORY_MB``);
what the template may do is in ``sandbox.py``. Past a limit the caller gets a
``TemplateProblem`` naming it, like any other problem of the template.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from email.utils import parseaddr
from typing import Any

from flask import current_app

from app.i18n import N_
from app.mail.renderpool import BUSY, MEMORY, TIME, RenderLimits, RenderPool, pool_for
from app.mail.sandbox import (
    BUILTIN_VARIABLES,
    EXAMPLE_UNSUBSCRIBE_URL,
    MAX_SOURCE,
    RenderedMail,
    TemplateProblem,
    recipient_context,
    sample_context,
)

__all__ = ["BUILTIN_VARIABLES", "EXAMPLE_UNSUBSCRIBE_URL", "MAX_SOURCE", "RenderedMail",
           "RenderLimitExceeded", "TemplateProblem", "check", "fields_used", "prewarm",
           "recipient_context", "render_mail", "render_many", "sample_context", "sender_name",
           "template_key"]


class RenderLimitExceeded(TemplateProblem):
    """A render stopped by its process's deadline or memory limit (``kind``)."""

    def __init__(self, message: str, kind: str) -> None:
        super().__init__(message)
        self.kind = kind


def _limits() -> RenderLimits:
    return RenderLimits.from_config(current_app.config)


def _pool() -> RenderPool:
    return pool_for(_limits())


def _limit_message(kind: str, limits: RenderLimits) -> str:
    """The limit's message as a TemplateProblem keeps it: Korean (the msgid, formatted),
    put in the reader's language where it is shown (``sandbox.messages.localize``)."""
    if kind == TIME:
        return (N_("템플릿을 만드는 데 %(seconds)s초가 넘게 걸려 중단했습니다"
                   "(TEMPLATE_RENDER_SECONDS).") % {"seconds": f"{limits.seconds:g}"})
    if kind == MEMORY:
        return (N_("템플릿이 메모리를 %(mb)sMiB 넘게 써서 중단했습니다"
                   "(TEMPLATE_RENDER_MEMORY_MB).") % {"mb": limits.memory_mb})
    assert kind == BUSY
    return N_("템플릿을 처리할 프로세스가 모두 바쁩니다. 잠시 후 다시 시도해 주세요.")


def _outcome(answer: dict[str, Any]) -> Any:
    """The answer's value, or the TemplateProblem it reports."""
    if "limit" in answer:
        raise RenderLimitExceeded(_limit_message(answer["limit"], _limits()), answer["limit"])
    if "problem" in answer:
        found = answer["problem"]
        raise TemplateProblem(found["message"], found.get("part"), found.get("line"))
    return answer


def _template(template: Mapping[str, Any]) -> dict[str, Any]:
    return {part: template.get(part) for part in ("subject", "body_text", "body_html")}


def prewarm() -> None:
    """Have a render process ready by the time this process first renders (a send calls
    it as it starts; a forked work horse has none yet)."""
    _pool().prewarm()


def check(template: Mapping[str, Any]) -> list[str]:
    """What a save runs: TemplateProblem unless every part parses, keeps the sandbox's rules
    and renders for an example recipient in time. The recipient fields it uses."""
    return _outcome(_pool().ask({"op": "check", "template": _template(template)}))["fields"]


def fields_used(template: Mapping[str, Any]) -> list[str]:
    """The recipient fields a template uses (its variables but the built-in ones)."""
    return _outcome(_pool().ask({"op": "fields", "template": _template(template)}))["fields"]


def _mail(answer: dict[str, Any]) -> RenderedMail:
    mail = _outcome(answer)["mail"]
    return RenderedMail(subject=mail["subject"], text=mail["text"], html=mail["html"])


def render_mail(template: Mapping[str, Any], context: dict[str, Any]) -> RenderedMail:
    """One recipient's mail; TemplateProblem if it cannot be made (or not in time)."""
    return _mail(_pool().render(_template(template), [context])[0])


def template_key(template: Mapping[str, Any]) -> str:
    """A name for ``template`` a render process keeps it under (one send, one compile)."""
    encoded = json.dumps(_template(template), sort_keys=True).encode()
    return hashlib.sha256(encoded).hexdigest()[:32]


def render_many(template: Mapping[str, Any], contexts: list[dict[str, Any]],
                key: str | None = None) -> list[RenderedMail | TemplateProblem]:
    """Each recipient's mail, or the TemplateProblem that kept it from being made (``key``:
    ``template_key(template)``, for a caller that renders the same template again and
    again)."""
    results: list[RenderedMail | TemplateProblem] = []
    for answer in _pool().render(_template(template), contexts, key):
        try:
            results.append(_mail(answer))
        except TemplateProblem as exc:
            results.append(exc)
    return results


def sender_name(username: str) -> str:
    """What ``{{ sender_name }}`` shows in ``username``'s mail: the account's display name,
    else the name in MAIL_DEFAULT_SENDER — never the login name, which recipients must not
    learn."""
    from app.models import User

    user = User.by_username(username)
    if user is not None and user.display_name:
        return user.display_name
    return parseaddr(current_app.config["MAIL_DEFAULT_SENDER"])[0] or "Mailroom"
