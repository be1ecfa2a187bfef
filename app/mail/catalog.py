"""The mail templates the app ships: a subject, an HTML part and a text part each."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

TEMPLATE_DIR = os.path.join(os.path.dirname(__file__), "templates")


@dataclass(frozen=True)
class MailTemplate:
    name: str
    label: str
    subject: str


TEMPLATES: dict[str, MailTemplate] = {
    t.name: t
    for t in (
        MailTemplate("welcome", "환영 메일 (welcome)", "Mailroom에 오신 것을 환영합니다"),
        MailTemplate("notice", "공지 메일 (notice)", "[공지] Mailroom 서비스 안내"),
    )
}


@dataclass(frozen=True)
class RenderedMail:
    subject: str
    html: str
    text: str


@cache
def _environment() -> Environment:
    # Autoescape the HTML parts; user input only ever arrives as data.
    return Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=StrictUndefined,
    )


def render(template_name: str, **context: Any) -> RenderedMail:
    """Render the subject, HTML and text parts of ``template_name`` for one recipient."""
    template = TEMPLATES[template_name]
    env = _environment()
    return RenderedMail(
        subject=template.subject,
        html=env.get_template(f"{template_name}.html").render(**context),
        text=env.get_template(f"{template_name}.txt").render(**context),
    )
