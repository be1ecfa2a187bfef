"""The reader's language (Korean or English) through Flask-Babel: the catalogs in
app/translations, the choice made with the navbar's switch (kept on the account, or in the
session of a visitor not signed in), else the browser's ``Accept-Language``, else Korean."""

from __future__ import annotations

from contextlib import AbstractContextManager

from flask import Flask, has_request_context, request, session
from flask_babel import force_locale, get_locale, refresh
from flask_login import current_user

from app.extensions import babel

# The languages the catalogs hold, the default first; each one's name in itself (what the
# switch shows: a reader finds their own language by the way it is written).
LANGUAGES = {"ko": "한국어", "en": "English"}
DEFAULT_LANGUAGE = "ko"
SESSION_KEY = "lang"  # a visitor's choice (a signed-in user's is on the account)


def N_(message: str) -> str:  # noqa: N802 (the name pybabel extracts by default)
    """Marks ``message`` for the catalogs and returns it as it is: for a constant kept in
    Korean (compared by tests), translated with ``gettext`` where it is shown."""
    return message


def written_in(language: str | None) -> AbstractContextManager[None]:
    """Write in ``language`` (a task's, an operator's; None: Korean) where no request
    chooses: the worker's words about a send are in the language the send was made in."""
    return force_locale(language if language in LANGUAGES else DEFAULT_LANGUAGE)


def chosen_language() -> str | None:
    """The language this reader chose with the switch, or None."""
    if current_user.is_authenticated and current_user.language in LANGUAGES:
        return current_user.language
    stored = session.get(SESSION_KEY)
    return stored if stored in LANGUAGES else None


def select_locale() -> str:
    """Flask-Babel's locale selector: the reader's choice, else ``Accept-Language``, else
    Korean (outside a request, the worker's jobs and the CLI: Korean)."""
    if not has_request_context():
        return DEFAULT_LANGUAGE
    return (chosen_language() or request.accept_languages.best_match(list(LANGUAGES))
            or DEFAULT_LANGUAGE)


def current_language() -> str:
    """The language of this page (``ko`` or ``en``), for ``<html lang>`` and the switch."""
    locale = get_locale()
    return locale.language if locale is not None else DEFAULT_LANGUAGE


def init_app(app: Flask) -> None:
    """Bind Flask-Babel to ``app`` with Korean as the default and the switch's globals."""
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LANGUAGE)
    babel.init_app(app, locale_selector=select_locale)
    # Each request chooses afresh: Flask-Babel keeps its choice on ``g``, which a request
    # shares with an app context already pushed (tests, the CLI).
    app.before_request(refresh)
    app.jinja_env.globals["current_language"] = current_language
    app.jinja_env.globals["languages"] = LANGUAGES
