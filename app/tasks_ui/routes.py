"""The history page: the user's tasks, filtered and paged."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask import abort, current_app, render_template, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import Select

from app.extensions import db
from app.filters import user_zone_name
from app.labels import status_choices
from app.models import Delivery, Task
from app.models.task import FINISHED, STATUSES
from app.models.types import utcnow
from app.tasks_ui import bp, charts
from app.utils.datetime_converter import localtime, zone
from app.utils.text import like_pattern as _like
from app.views import page_number

PER_PAGE = 20


def _day_start(raw: str, zone_name: str) -> datetime | None:
    """Midnight of ``raw`` (YYYY-MM-DD) in the user's zone, in UTC; None if not a date."""
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        return None
    local = datetime.combine(day, time.min, tzinfo=zone(zone_name, "UTC"))
    return local.astimezone(UTC)


def filtered(query: Select[Any], args: Mapping[str, str], zone_name: str) -> tuple[Any, list[str]]:
    """``query`` narrowed by ``status``, ``from``, ``to`` (dates in the user's zone) and
    ``q`` (text in a recipient or the description); and what could not be read."""
    errors = []
    status = args.get("status", "")
    if status == "failed":
        query = query.where(Task.status == FINISHED, Task.failed.is_(True))
    elif status == FINISHED:
        query = query.where(Task.status == FINISHED, Task.failed.is_(False))
    elif status in STATUSES:
        query = query.where(Task.status == status)
    elif status:
        errors.append(_("알 수 없는 상태입니다: %(value)s", value=status[:20]))
    for name, op in (("from", "ge"), ("to", "lt")):
        raw = args.get(name, "")
        start = _day_start(raw, zone_name) if raw else None
        if raw and start is None:
            errors.append(_("날짜 형식이 올바르지 않습니다 (YYYY-MM-DD): %(value)s",
                            value=raw[:20]))
        elif start is not None:
            bound = start if op == "ge" else start + timedelta(days=1)
            query = query.where(Task.created_at >= bound if op == "ge"
                                else Task.created_at < bound)
    text = args.get("q", "").strip()[:200]
    if text:
        pattern = _like(text)
        in_recipients = db.select(Delivery.id).where(
            Delivery.task_id == Task.id, Delivery.recipient.ilike(pattern, escape="\\"))
        query = query.where(db.or_(Task.description.ilike(pattern, escape="\\"),
                                   in_recipients.exists()))
    return query, errors


@bp.get("/tasks")
def index() -> str:
    """The user's tasks, newest first, filtered and paged; a page past the last is a 404
    (page 1 never)."""
    query = (
        db.select(Task)
        .where(Task.username == current_user.username)
        .order_by(Task.created_at.desc(), Task.id.desc())
    )
    query, errors = filtered(query, request.args, user_zone_name())
    page = db.paginate(query, page=page_number(), per_page=PER_PAGE, error_out=False)
    if page.page > 1 and not page.items:
        abort(404)
    filters = {k: v for k, v in request.args.items() if k in ("status", "from", "to", "q") and v}
    return render_template("tasks_ui/index.html", page=page, filters=filters, errors=errors,
                           statuses=status_choices(), chart=last_days_chart())


def last_days_chart(days: int = 30) -> charts.Chart:
    """The signed-in user's last ``days`` days of sends, a bar a day in the user's zone."""
    tz = zone(user_zone_name(), current_app.config["APP_TIMEZONE"])
    today = localtime(utcnow(), tz).date()
    rows = charts.user_days(current_user.username, today,
                            lambda moment: localtime(moment, tz).date(), days)
    return charts.daily(rows, lambda day: _("%(month)s월 %(day)s일", month=day.month, day=day.day))

