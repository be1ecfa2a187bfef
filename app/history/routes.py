"""The history page."""

from __future__ import annotations

from flask import render_template, request
from flask_login import current_user

from app.extensions import db
from app.history import bp
from app.models import Task

PER_PAGE = 20


@bp.get("/tasks")
def index() -> str:
    """The user's tasks, newest first, paged."""
    query = (
        db.select(Task)
        .where(Task.username == current_user.username)
        .order_by(Task.created_at.desc(), Task.id.desc())
    )
    page = db.paginate(query, page=request.args.get("page", 1, type=int), per_page=PER_PAGE,
                       error_out=False)
    return render_template("history/index.html", page=page)
