"""``/bounces``: what came back to the signed-in user's mail, newest first, each with what
was concluded and the raw message it was concluded from. An operator (an admin account)
also sees what matched nobody's mail, for a person to read."""

from __future__ import annotations

from flask import abort, render_template
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.bounces import bp
from app.extensions import db
from app.models import Bounce
from app.views import page_number

PER_PAGE = 30

# What came back (``Bounce.kind``), in words.
KIND_WORDS = {
    "hard": _l("영구 반송"),
    "soft": _l("일시 반송"),
    "complaint": _l("스팸 신고"),
    "unknown": _l("알 수 없음"),
}
# What it did (``Bounce.effect``), in words.
EFFECT_WORDS = {
    "suppressed": _l("수신 거부 목록에 추가"),
    "bounced": _l("반송으로 표시"),
    "ignored": _l("바꾼 것 없음"),
}


def kind_text(kind: str) -> str:
    """The words for a bounce's kind (an unknown one as it is)."""
    return str(KIND_WORDS.get(kind, kind))


def effect_text(effect: str) -> str:
    """The words for what a bounce did (an unknown one as it is)."""
    return str(EFFECT_WORDS.get(effect, effect))


@bp.get("/bounces")
def index() -> str:
    """The user's bounces (a page past the last is a 404, page 1 never)."""
    mine = Bounce.owner == current_user.username
    if current_user.is_admin:
        mine = db.or_(mine, Bounce.owner.is_(None))
    query = (db.select(Bounce).where(mine)
             .order_by(Bounce.received_at.desc(), Bounce.id.desc()))
    page = db.paginate(query, page=page_number(), per_page=PER_PAGE, error_out=False)
    if page.page > 1 and not page.items:
        abort(404)
    return render_template("bounces/index.html", page=page, kind_text=kind_text,
                           effect_text=effect_text)
