"""``/bounces``: what came back to the signed-in user's mail, newest first, each with what
was concluded and the raw message it was concluded from."""

from __future__ import annotations

from flask import abort, render_template
from flask_login import current_user

from app.bounces import bp
from app.extensions import db
from app.models import Bounce
from app.views import page_number

PER_PAGE = 30


@bp.get("/bounces")
def index() -> str:
    """The user's bounces (a page past the last is a 404, page 1 never)."""
    query = (db.select(Bounce).where(Bounce.owner == current_user.username)
             .order_by(Bounce.received_at.desc(), Bounce.id.desc()))
    page = db.paginate(query, page=page_number(), per_page=PER_PAGE, error_out=False)
    if page.page > 1 and not page.items:
        abort(404)
    return render_template("bounces/index.html", page=page)
