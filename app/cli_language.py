"""The language operators read: the ``flask`` commands' output, prompts and errors, and the
worker's refusals. No request says it, so the process's environment does:
``MAILROOM_LANGUAGE`` (``ko`` or ``en``), else the POSIX locale (the first of ``LC_ALL``,
``LC_MESSAGES``, ``LANG`` that is set: English when it starts with ``en``), else Korean."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

import click
from flask import current_app
from flask.cli import AppGroup, ScriptInfo
from flask_babel import force_locale

from app.i18n import DEFAULT_LANGUAGE, LANGUAGES

ENV_VAR = "MAILROOM_LANGUAGE"
POSIX_VARS = ("LC_ALL", "LC_MESSAGES", "LANG")  # POSIX: the first one set wins
_LANGUAGE_PART = re.compile(r"[-_.@]")  # en_US.UTF-8, en-GB, ko_KR.eucKR


def operator_language(environ: Mapping[str, str] | None = None) -> str:
    """``ko`` or ``en``: ``MAILROOM_LANGUAGE``, else the POSIX locale, else Korean."""
    env = os.environ if environ is None else environ
    chosen = _LANGUAGE_PART.split(env.get(ENV_VAR, "").strip().lower(), maxsplit=1)[0]
    if chosen in LANGUAGES:
        return chosen
    for name in POSIX_VARS:
        value = env.get(name, "").strip()
        if value:
            return "en" if value.lower().startswith("en") else DEFAULT_LANGUAGE
    return DEFAULT_LANGUAGE


class SpokenGroup(AppGroup):
    """An ``AppGroup`` whose commands (their prompts, output and errors) speak the
    operator's language: the app context (``force_locale`` keeps its choice on ``g``) is
    pushed before the command's arguments are read, as ``flask`` itself does, so a prompt
    is translated too."""

    def invoke(self, ctx: click.Context) -> Any:
        if not current_app:
            ctx.with_resource(ctx.ensure_object(ScriptInfo).load_app().app_context())
        with force_locale(operator_language()):
            return super().invoke(ctx)
