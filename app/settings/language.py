"""``POST /settings/language``: the navbar's language switch. A signed-in user's choice is
kept on the account (it follows them to every browser and across sign-outs); a visitor's
in the session. Back to the page the switch was on."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_babel import refresh
from flask_login import current_user
from werkzeug.wrappers import Response

from app.extensions import db
from app.i18n import LANGUAGES, SESSION_KEY
from app.settings import bp


def _local(target: str | None) -> str | None:
    """``target`` when it is a path on this site (never another host, ``//`` or ``/\\``)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or any(ord(c) < 32 for c in target):
        return None
    return target


def back() -> str:
    """Where the switch was: the form's ``next``, else the referrer on this host, else home."""
    target = _local(request.form.get("next"))
    if target is None and request.referrer:
        referrer = urlsplit(request.referrer)
        if referrer.netloc == request.host:
            target = _local(referrer.path + (f"?{referrer.query}" if referrer.query else ""))
    return target or url_for("index")


@bp.post("/language")
def language() -> Response:
    """Switch the reader's language to ``lang`` (``ko`` or ``en``); anything else: refused
    with a message, nothing changed."""
    lang = request.form.get("lang", "")
    if lang not in LANGUAGES:
        flash(_("언어는 한국어(ko)나 English(en) 가운데 하나를 고르세요."), "warning")
        return redirect(back(), code=303)
    session[SESSION_KEY] = lang
    if current_user.is_authenticated:
        current_user.language = lang
        db.session.commit()
    refresh()  # so the answer's own words (none today) come in the new language
    return redirect(back(), code=303)
