"""Sign-in views and the login guard the other blueprints use."""

from __future__ import annotations

import functools
from urllib.parse import urlsplit

from flask import current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_user, logout_user
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.security import check_password_hash, generate_password_hash
from werkzeug.wrappers import Response

from app.auth import bp
from app.auth.forms import LoginForm
from app.auth.known import known_ids, remember
from app.extensions import db, limiter, login_manager
from app.i18n import SESSION_KEY as LANGUAGE_KEY
from app.models import User

BAD_LOGIN = lazy_gettext("아이디 또는 비밀번호가 올바르지 않습니다.")
@functools.cache
def _dummy_hash(method: str) -> str:
    """Checked against when the user is unknown, so both failures take the same time."""
    return generate_password_hash("not-a-password", method=method)

login_manager.login_view = "auth.login"
login_manager.login_message = lazy_gettext("로그인이 필요합니다.")
login_manager.localize_callback = str  # flashed in the reader's language, as plain text
login_manager.login_message_category = "warning"


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """Flask-Login's loader: the account whose id and session version the cookie names (a
    cookie from before a logout or a new password names an old version: nobody)."""
    account, _, version = user_id.partition(":")
    if not (account.isdigit() and version.isdigit()) or len(account) > 18:
        return None
    user = db.session.get(User, int(account))
    return user if user is not None and user.session_version == int(version) else None


def _login_ip_limit() -> str:
    return current_app.config["RATELIMIT_LOGIN_IP"]


def _login_pair_limit() -> str:
    return current_app.config["RATELIMIT_LOGIN_PAIR"]


def _login_account_limit() -> str:
    return current_app.config["RATELIMIT_LOGIN_ACCOUNT"]


def _login_name() -> str:
    return (request.form.get("username") or "").strip().lower()[:64]


def _known_browser() -> bool:
    """True when this browser signed in to the account being tried before (app/auth/known)."""
    if "login_known" not in g:
        name = (request.form.get("username") or "").strip()[:64]
        try:
            user = User.by_username(name) if name else None
        except SQLAlchemyError:  # the database is away: the view answers 503 anyway
            db.session.rollback()
            user = None
        g.login_known = user is not None and user.id in known_ids()
    return g.login_known


def _login_pair() -> str:
    """The key of failures per (account, address); a known browser counts apart, so a
    guesser at the owner's own address (NAT, proxy) cannot hold the owner's count."""
    known = ":known" if _known_browser() else ""
    return f"login-pair:{_login_name()}:{get_remote_address()}{known}"


def _login_account() -> str:
    """The key of failures per account, from every address together."""
    return "login-account:" + _login_name()


def _login_failed(response: Response) -> bool:
    """Only a refused sign-in costs (set by the view): successes are never counted."""
    return bool(g.get("login_failed"))


def require_login() -> Response | None:
    """A ``before_request`` hook: send anyone not signed in to the login page."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    return None


def _safe_next(target: str | None) -> str:
    parts = urlsplit(target or "")
    if target and not parts.scheme and not parts.netloc and target.startswith("/"):
        return target
    return url_for("mail_ui.send_mail")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_ip_limit, methods=["POST"])
@limiter.limit(_login_pair_limit, methods=["POST"], key_func=_login_pair,
               deduct_when=_login_failed)
@limiter.limit(_login_account_limit, methods=["POST"], key_func=_login_account,
               deduct_when=_login_failed, exempt_when=_known_browser)
def login() -> Response | str:
    """Show the sign-in form; sign in on a valid POST."""
    if current_user.is_authenticated:
        return redirect(url_for("mail_ui.send_mail"))
    form = LoginForm()
    if form.validate_on_submit():
        user = User.by_username(form.username.data.strip())
        if user is not None and user.check_password(form.password.data):
            return _sign_in(user)
        if user is None:
            check_password_hash(_dummy_hash(current_app.config["PASSWORD_HASH_METHOD"]),
                                form.password.data)
    if request.method == "POST":
        g.login_failed = True
        flash(str(BAD_LOGIN), "danger")
    return render_template("auth/login.html", form=form)


def _sign_in(user: User) -> Response:
    """A new session for ``user``, and this browser remembered as one of theirs."""
    target = _safe_next(request.args.get("next"))
    language = session.get(LANGUAGE_KEY)  # chosen on the sign-in page: kept
    session.clear()  # a new session (and CSRF token) for the signed-in user
    if language:
        session[LANGUAGE_KEY] = language
    session.permanent = True  # ends after PERMANENT_SESSION_LIFETIME
    login_user(user)
    response = redirect(target)
    remember(response, user.id)
    return response


@bp.post("/logout")
def logout() -> Response:
    """Sign out everywhere: every copy of this account's session stops working."""
    language = session.get(LANGUAGE_KEY)
    if current_user.is_authenticated:
        user = db.session.get(User, current_user.id)
        if user is not None:
            language = user.language or language
            user.end_sessions()
            db.session.commit()
    logout_user()
    session.clear()
    if language:  # the sign-in page stays in the language the account chose
        session[LANGUAGE_KEY] = language
    flash(_("로그아웃하였습니다."), "info")
    return redirect(url_for("auth.login"))
