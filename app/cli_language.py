"""The language operators read: the ``flask`` commands' output, prompts and errors, and the
worker's refusals. No request says it, so the process's environment does:
``MAILROOM_LANGUAGE`` (``ko`` or ``en``), else the POSIX locale (the first of ``LC_ALL``,
``LC_MESSAGES``, ``LANG`` that is set): Korean for ``ko_*``, English for ``en_*`` and for the
``C``/``POSIX`` locale (POSIX's own, English: also when none is set, as on most servers and
in CI, where the commands' output stays as scripts have read it), Korean for any other."""

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
    """``ko`` or ``en``: ``MAILROOM_LANGUAGE``, else the POSIX locale's language (the
    ``C`` locale, or none set: English), else Korean."""
    env = os.environ if environ is None else environ
    chosen = _language(env.get(ENV_VAR, ""))
    if chosen in LANGUAGES:
        return chosen
    locale = next((env[name] for name in POSIX_VARS if env.get(name, "").strip()), "C")
    language = _language(locale)
    if language in ("c", "posix"):
        return "en"
    return language if language in LANGUAGES else DEFAULT_LANGUAGE


def _language(value: str) -> str:
    """The language part of a locale name: ``en_US.UTF-8`` → ``en``, ``C.UTF-8`` → ``c``."""
    return _LANGUAGE_PART.split(value.strip().lower(), maxsplit=1)[0]


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
