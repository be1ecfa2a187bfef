"""Browsers that signed in to an account before: a cookie, signed with the session key and
set at each successful sign-in, lists the ids of the accounts it signed in to.

Sign-in limits use it so that a guesser elsewhere cannot lock the owner out: such a
browser passes the per-account ceiling on failed sign-ins and counts its own failures
apart from anyone else's at the same address. A cookie, not a remembered IP address:
the owner keeps it across networks (a phone, a new DHCP lease), while a guesser behind
the same NAT or proxy as the owner does not get it, and cannot forge it without the key.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, request, url_for
from itsdangerous import BadData, URLSafeTimedSerializer
from werkzeug.wrappers import Response

COOKIE = "mailroom_known"
SALT = "mailroom-known-browser"
MAX_ACCOUNTS = 10  # the accounts a shared browser remembers, newest first


def _serializer() -> URLSafeTimedSerializer:
    """Signs with SECRET_KEY and reads with its fallbacks too, like the session cookie."""
    keys = [*(current_app.config.get("SECRET_KEY_FALLBACKS") or []), current_app.secret_key]
    return URLSafeTimedSerializer(keys, salt=SALT)


def _max_age() -> int:
    return int(current_app.config.get("LOGIN_KNOWN_BROWSER_DAYS", 180)) * 86400


def known_ids() -> list[int]:
    """The accounts this browser signed in to (none for a missing, forged or old cookie)."""
    raw = request.cookies.get(COOKIE)
    if not raw:
        return []
    try:
        ids: Any = _serializer().loads(raw, max_age=_max_age())
    except BadData:
        return []
    return [i for i in ids if type(i) is int] if isinstance(ids, list) else []


def remember(response: Response, user_id: int) -> None:
    """Add ``user_id`` to the browser's cookie (sent to the sign-in page only)."""
    ids = [user_id, *(i for i in known_ids() if i != user_id)][:MAX_ACCOUNTS]
    response.set_cookie(COOKIE, _serializer().dumps(ids), max_age=_max_age(),
                        path=url_for("auth.login"), httponly=True, samesite="Lax",
                        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")))
