"""The history page."""

from __future__ import annotations

from flask import abort, render_template, request
from flask_login import current_user

from app.converters import MAX_PAGE, bounded_int
from app.extensions import db
from app.history import bp
from app.models import Task

PER_PAGE = 20


def _page_number() -> int:
    """``?page=`` from 1 to MAX_PAGE (1 when absent); anything else is a 404."""
    raw = request.args.get("page")
    if raw is None:
        return 1
    page = bounded_int(raw, MAX_PAGE)
    if page is None:
        abort(404)
    return page


@bp.get("/tasks")
def index() -> str:
    """The user's tasks, newest first, paged; a page past the last is a 404 (page 1 never)."""
    query = (
        db.select(Task)
        .where(Task.username == current_user.username)
        .order_by(Task.created_at.desc(), Task.id.desc())
    )
    page = db.paginate(query, page=_page_number(), per_page=PER_PAGE, error_out=True)
    return render_template("history/index.html", page=page)
