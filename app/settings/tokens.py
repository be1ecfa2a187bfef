"""``/settings/tokens``: personal API tokens. A new token is shown once (``#new-token``)
and kept only as a digest; its first characters stay visible to recognise it by; a
revoked token stops working at once."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from app.extensions import db
from app.models import ApiToken
from app.models.types import utcnow
from app.settings import bp

NAME_MAX = 64
MAX_TOKENS = 50  # live tokens per account


def _page(secret: str | None = None, name: str = "", problem: str | None = None,
          status: int = 200) -> tuple[str, int]:
    return render_template("settings/tokens.html", tokens=ApiToken.of_user(
        current_user.username), secret=secret, name=name, problem=problem), status


@bp.get("/tokens")
def tokens() -> tuple[str, int]:
    """The user's tokens (never their secrets) and the form for a new one."""
    return _page()


def _live_count(username: str) -> int:
    return db.session.scalar(db.select(db.func.count()).where(
        ApiToken.username == username, ApiToken.revoked_at.is_(None)))


@bp.post("/tokens")
def create_token() -> tuple[str, int]:
    """Make a token named ``name``; the page shows its secret this once."""
    name = (request.form.get("name") or "").strip()
    if not name or len(name) > NAME_MAX:
        return _page(name=name[:NAME_MAX], status=422,
                     problem=_("이름을 1~%(max)s자로 입력하세요.", max=NAME_MAX))
    if _live_count(current_user.username) >= MAX_TOKENS:
        return _page(name=name, problem=_("토큰은 %(max)s개까지 둘 수 있습니다. 쓰지 않는 "
                                          "토큰을 폐기하세요.", max=MAX_TOKENS), status=422)
    secret = ApiToken.issue(current_user.username, name)[1]
    db.session.commit()
    return _page(secret=secret)


@bp.post("/tokens/<id:token_id>/revoke")
def revoke_token(token_id: int) -> Response:
    """Revoke one of the user's tokens (another user's: 404)."""
    token = db.one_or_404(db.select(ApiToken).filter_by(id=token_id,
                                                        username=current_user.username))
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        db.session.commit()
        flash(_("토큰 '%(name)s'(%(prefix)s…)을(를) 폐기했습니다.", name=token.name,
                prefix=token.prefix), "success")
    return redirect(url_for("settings.tokens"))
