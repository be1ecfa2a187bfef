"""The language of the API's answers (problem details' ``title`` and ``detail``): an
explicit ``Accept-Language`` naming Korean or English first (the program's request says
what it wants), else the language the token's owner saved with the navbar's switch
(``users.language``), else Korean. A browser's session never chooses here: the API signs
in by its token alone (``auth.py``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import g, has_request_context, request
from flask.blueprints import BlueprintSetupState
from flask_babel import get_babel

from app.api import bp
from app.i18n import DEFAULT_LANGUAGE, LANGUAGES


def in_api() -> bool:
    """Whether this request is one for ``/api/v1`` (routed there or not)."""
    prefix = bp.url_prefix or "/api/v1"
    return request.blueprint == bp.name or (request.path + "/").startswith(prefix + "/")


def api_language() -> str:
    """``Accept-Language`` (ko or en), else the token owner's saved language, else Korean."""
    if request.headers.get("Accept-Language", "").strip():
        asked = request.accept_languages.best_match(list(LANGUAGES))
        if asked is not None:
            return asked
    saved = g.get("api_owner_language")  # set once the token is known (auth.py)
    return saved if saved in LANGUAGES else DEFAULT_LANGUAGE


def _with_api(selector: Callable[[], Any] | None) -> Callable[[], Any]:
    """The app's locale selector, with the API's rule for the API's requests."""
    def select() -> Any:
        if has_request_context() and in_api():
            return api_language()
        return selector() if selector is not None else None
    return select


@bp.record_once
def _install(state: BlueprintSetupState) -> None:
    """Put the API's rule in front of the app's selector (Flask-Babel is set up first)."""
    babel = get_babel(state.app)
    babel.locale_selector = _with_api(babel.locale_selector)
