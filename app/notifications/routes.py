"""The polling endpoint."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from flask import request
from flask_login import current_user

from app.labels import remaining_text
from app.models import Notification
from app.models.types import utcnow
from app.notifications import bp
from app.utils.datetime_converter import remaining_seconds

TASK_RESERVE = "task_reserve"


def _with_remaining(entry: dict[str, Any], now: datetime) -> dict[str, Any]:
    """A reserve entry plus the remaining time, computed now."""
    seconds = remaining_seconds(datetime.fromisoformat(entry["reserved_at"]), now)
    return {**entry, "remaining_seconds": seconds, "remaining_text": remaining_text(seconds)}


def serialize(notification: Notification, now: datetime) -> dict[str, Any]:
    """One notification as the page reads it."""
    data = notification.entries
    if notification.name == TASK_RESERVE:
        data = [_with_remaining(entry, now) for entry in data]
    return {"name": notification.name, "data": data, "timestamp": notification.timestamp}


@bp.get("/notifications")
def index() -> dict[str, Any] | list[dict[str, Any]]:
    """The signed-in user's notifications newer than ``since`` (epoch seconds)."""
    since = request.args.get("since", 0.0, type=float)
    if since is None or not math.isfinite(since):
        since = 0.0
    now = utcnow()
    rows = Notification.newer_than(current_user.username, since)
    return [serialize(row, now) for row in rows]
