"""The database away for a moment (down, restarting, out of connections), or Redis (a
restart, the seconds of a Sentinel failover without a primary): every request answers 503
with ``Retry-After`` (a Korean page, or JSON for the page's scripts), never a 500, wherever
the error rose: a view, a ``before_request`` hook, the user loader."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, g, has_request_context, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ReadOnlyError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy import event
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.exc import (
    DBAPIError,
    InterfaceError,
    OperationalError,
    PendingRollbackError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import InternalServerError
from werkzeug.wrappers import Response

from app.extensions import db, login_manager

log = logging.getLogger(__name__)

DB_RETRY_AFTER_SECONDS = 5
UNAVAILABLE_MESSAGE = lazy_gettext("잠시 데이터베이스에 연결할 수 없습니다. %(seconds)d초쯤 뒤에 "
                                   "다시 시도해 주세요.", seconds=DB_RETRY_AFTER_SECONDS)
REDIS_UNAVAILABLE_MESSAGE = lazy_gettext("잠시 작업 대기열(Redis)에 연결할 수 없습니다. "
                                         "%(seconds)d초쯤 뒤에 다시 시도해 주세요.",
                                         seconds=DB_RETRY_AFTER_SECONDS)
# Redis away: down, restarting, or no primary yet (Sentinel's MasterNotFoundError is a
# ConnectionError); READONLY: a primary just demoted, before the client moved on.
REDIS_OUTAGES = (RedisConnectionError, RedisTimeoutError, ReadOnlyError)
# Paths whose callers are scripts: they read JSON whatever their Accept header says.
JSON_PATHS = ("/notifications", "/send_mail/preview")


def is_outage(error: BaseException) -> bool:
    """True for an error that says the database or Redis cannot be reached right now (not
    a bug)."""
    if isinstance(error, REDIS_OUTAGES):
        return True
    if isinstance(error, (OperationalError, InterfaceError, PoolTimeout)):
        return True
    if isinstance(error, DBAPIError):
        return bool(error.connection_invalidated)
    # Code that caught a lost connection and carried on: the session still holds it.
    return isinstance(error, PendingRollbackError) and bool(g.get("db_connection_lost"))


def wants_json() -> bool:
    """True when the caller is the page's script (or anything that prefers JSON)."""
    path = request.path
    if path in JSON_PATHS or path.endswith(".json"):
        return True
    return request.accept_mimetypes.best == "application/json"


def _forget_session() -> None:
    """Give the session's connection back and make sure nothing after this answer (the
    error page, the after-request hooks) asks the database again for the signed-in user."""
    try:
        db.session.rollback()
    except Exception as exc:  # the connection is gone: nothing left to undo on it
        log.debug("rollback after a database outage failed: %s", exc)
    # The user loader may be what failed, and a loaded user's row expired with the
    # rollback: for the rest of this request, nobody is signed in (the session stays).
    g._login_user = login_manager.anonymous_user()


def unavailable(error: Exception) -> Response | tuple[Any, int, dict[str, str]]:
    """503 with ``Retry-After`` for a database outage; anything else goes on as before."""
    if not is_outage(error):
        raise error
    redis = isinstance(error, REDIS_OUTAGES)
    if not redis:
        _forget_session()
    reason = str(getattr(error, "orig", None) or error).strip().splitlines()
    log.warning("%s unavailable (%s %s): %s; answered 503", "Redis" if redis else "database",
                request.method, request.path,
                f"{type(error).__name__}: {reason[0] if reason else ''}")
    g.db_unavailable = True
    headers = {"Retry-After": str(DB_RETRY_AFTER_SECONDS), "Cache-Control": "no-store"}
    message = str(REDIS_UNAVAILABLE_MESSAGE if redis else UNAVAILABLE_MESSAGE)
    if wants_json():
        body = {"ok": False, "error": message, "message": message,
                "category": "warning", "retry_after": DB_RETRY_AFTER_SECONDS}
        return body, 503, headers
    page = render_template("errors/unavailable.html", seconds=DB_RETRY_AFTER_SECONDS,
                           posted=request.method not in ("GET", "HEAD"),
                           service=_("작업 대기열(Redis)") if redis else _("데이터베이스"))
    return page, 503, headers


def unavailable_late(error: InternalServerError) -> Any:
    """An outage met after the view (an after-request hook): 503 too; other 500s get the
    site's error page in the reader's language (JSON for the scripts)."""
    original = error.original_exception
    if original is not None and is_outage(original):
        return unavailable(original)
    if wants_json():
        return {"message": _("요청을 처리하다 서버에 문제가 생겼습니다. 잠시 후 다시 시도해 "
                             "주세요."), "category": "danger"}, 500
    from app.security import error_page

    return error_page(error)


def static_needs_no_user() -> None:
    """A ``before_request`` hook: static files never ask the database who is signed in (the
    after-request hooks look), so the 503 page keeps its styles while the database is away."""
    endpoint = request.endpoint or ""
    if endpoint == "static" or endpoint.endswith(".static"):
        g._login_user = login_manager.anonymous_user()


def _note_lost_connection(context: ExceptionContext) -> None:
    """Remember, for this request, that the database connection broke."""
    if has_request_context() and (context.is_disconnect or isinstance(
            context.sqlalchemy_exception, (OperationalError, InterfaceError))):
        g.db_connection_lost = True


def keep_retry_after(response: Response) -> Response:
    """An ``after_request`` hook: a 503 of ours keeps its ``Retry-After`` (Flask-Limiter,
    on a limited route, would put its window's reset there)."""
    if g.get("db_unavailable") and response.status_code == 503:
        response.headers["Retry-After"] = str(DB_RETRY_AFTER_SECONDS)
    return response


def register(app: Flask) -> None:
    """Answer database and Redis outages on ``app`` with 503 instead of 500 (call before
    ``security.register``: after-request hooks run last-registered first, and this one's
    ``Retry-After`` must come after Flask-Limiter's)."""
    app.after_request(keep_retry_after)
    for error in (OperationalError, InterfaceError, DBAPIError, PoolTimeout,
                  PendingRollbackError, *REDIS_OUTAGES):
        app.register_error_handler(error, unavailable)
    app.register_error_handler(InternalServerError, unavailable_late)
    app.before_request(static_needs_no_user)
    with app.app_context():
        event.listen(db.engine, "handle_error", _note_lost_connection)
