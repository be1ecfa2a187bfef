"""Who calls the API: the owner of the bearer token, never a browser's session (the API
takes no CSRF token, so a session must not sign anything in here). Rate limits count per
token."""

from __future__ import annotations

import hashlib

from flask import current_app, g, request
from flask_babel import gettext as _
from flask_babel import refresh
from flask_limiter.util import get_remote_address

from app.api import bp
from app.api.problems import Problem
from app.extensions import limiter, login_manager
from app.models import ApiToken, User

PUBLIC = frozenset({"api.openapi_document"})  # the API's own description: no token needed
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="mailroom"'}


def bearer() -> str | None:
    """The token of ``Authorization: Bearer <token>``, or None."""
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    value = value.strip()
    return value if scheme.lower() == "bearer" and value else None


def per_token() -> str:
    """The rate-limit key of the caller: its token (by a digest, nothing kept in clear),
    or its address when it has none."""
    secret = bearer()
    if secret is None:
        return f"api-ip:{get_remote_address()}"
    return "api-token:" + hashlib.sha256(secret.encode("utf-8")).hexdigest()[:32]


def _api_limit() -> str:
    return current_app.config["RATELIMIT_API"]


limiter.limit(_api_limit, key_func=per_token)(bp)


def token() -> ApiToken:
    """The token this request came with (set by ``authenticate``)."""
    return g.api_token


@bp.before_request
def authenticate() -> None:
    """Sign the request in as the token's owner for this request only, or answer 401."""
    g._login_user = login_manager.anonymous_user()  # never the session's user
    g.pop("api_owner_language", None)
    if request.endpoint in PUBLIC:
        return
    secret = bearer()
    if secret is None:
        raise Problem("unauthorized", _("Authorization: Bearer <토큰> 머리글이 필요합니다. "
                                        "토큰은 /settings/tokens에서 만듭니다."), CHALLENGE)
    found = ApiToken.by_secret(secret)
    user = User.by_username(found.username) if found is not None else None
    if found is None or user is None:
        raise Problem("unauthorized", _("토큰이 올바르지 않거나 폐기되었습니다."), CHALLENGE)
    g._login_user = user
    g.api_token = found
    g.api_owner_language = user.language  # the answers' language when no header chooses
    refresh()  # chosen again, now knowing the owner (app/api/language.py)
    found.touch()
