"""Jinja filters: times in the user's zone and language (app/dates.py); the words of
app/labels.py (statuses, outcomes, remaining time) for the templates, and for the page
scripts through ``page_labels``."""

from __future__ import annotations

from datetime import datetime

from flask import Flask, current_app, session

from app import labels
from app.dates import long_text, short_text
from app.models import Task
from app.models.types import utcnow
from app.utils.datetime_converter import localtime, remaining_seconds, zone


def user_zone_name() -> str:
    """The signed-in user's zone, as the browser last told it (default ``APP_TIMEZONE``)."""
    return session.get("timezone") or current_app.config["APP_TIMEZONE"]


def local_text(moment: datetime, zone_name: str, fmt: str | None = None) -> str:
    """``moment`` in the zone ``zone_name``, in the reader's long form unless ``fmt``."""
    local = localtime(moment, zone(zone_name, current_app.config["APP_TIMEZONE"]))
    return local.strftime(fmt) if fmt else long_text(local)


def to_localtime(moment: datetime | None, fmt: str | None = None) -> str:
    """A UTC time shown in the signed-in user's zone."""
    return "" if moment is None else local_text(moment, user_zone_name(), fmt)


def to_short_local(moment: datetime | None, seconds: bool = False) -> str:
    """A UTC time in the signed-in user's zone, short (``12월 6일 오전 3:15``, ``Dec 6,
    3:15 AM``); the long form (``localtime``) stays for the send page's reserved list."""
    if moment is None:
        return ""
    tz = zone(user_zone_name(), current_app.config["APP_TIMEZONE"])
    return short_text(localtime(moment, tz), localtime(utcnow(), tz), seconds)


def iso_local(moment: datetime | None) -> str:
    """ISO 8601 with the user's offset, for ``<time datetime=...>``."""
    if moment is None:
        return ""
    tz = zone(user_zone_name(), current_app.config["APP_TIMEZONE"])
    return localtime(moment, tz).isoformat(timespec="seconds")


def remain_from_now(moment: datetime | None) -> str:
    """How long until ``moment``, in words (``3분 20초 남음``; ``곧 전송`` when due)."""
    if moment is None:
        return ""
    return labels.remaining_text(remaining_seconds(moment, utcnow()))


def seconds_until(moment: datetime | None) -> int:
    """Whole seconds until ``moment`` (0 when past), for the page's countdowns."""
    return 0 if moment is None else remaining_seconds(moment, utcnow())


def status_label(task: Task) -> str:
    """The task's state in words (a failed finish reads 실패)."""
    return labels.status_text(task.status, task.failed)


def register(app: Flask) -> None:
    """Install the filters and globals on ``app``."""
    app.jinja_env.filters["localtime"] = to_localtime
    app.jinja_env.filters["short_local"] = to_short_local
    app.jinja_env.filters["iso_local"] = iso_local
    app.jinja_env.filters["remain_from_now"] = remain_from_now
    app.jinja_env.globals["status_label"] = status_label
    app.jinja_env.globals["outcome_label"] = labels.outcome_text
    app.jinja_env.globals["stop_texts"] = labels.STOP_TEXTS
    app.jinja_env.globals["page_labels"] = labels.for_js
    app.jinja_env.globals["remaining_seconds"] = seconds_until
    app.jinja_env.globals["user_zone_name"] = user_zone_name
