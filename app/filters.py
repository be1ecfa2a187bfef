"""Jinja filters: times in the user's zone; the words of app/labels.py (statuses, outcomes,
remaining time) for the templates, and for the page scripts through ``page_labels``."""

from __future__ import annotations

from datetime import datetime

from flask import Flask, current_app, session
from flask_babel import gettext as _

from app import labels
from app.models import Task
from app.models.types import utcnow
from app.utils.datetime_converter import korean_datetime, localtime, remaining_seconds, zone

KOREAN_LONG_FORM = "%Y년%m월%d일 %H시 %M분 %S초"  # korean_datetime's


def user_zone_name() -> str:
    """The signed-in user's zone, as the browser last told it (default ``APP_TIMEZONE``)."""
    return session.get("timezone") or current_app.config["APP_TIMEZONE"]


def local_text(moment: datetime, zone_name: str, fmt: str | None = None) -> str:
    """``moment`` in the zone ``zone_name`` (Korean long form unless ``fmt`` is given)."""
    local = localtime(moment, zone(zone_name, current_app.config["APP_TIMEZONE"]))
    if fmt:
        return local.strftime(fmt)
    # Korean's long form (korean_datetime's) unless the reader's language writes it otherwise
    long_form = _("%Y년%m월%d일 %H시 %M분 %S초")
    return korean_datetime(local) if long_form == KOREAN_LONG_FORM else local.strftime(long_form)


def to_localtime(moment: datetime | None, fmt: str | None = None) -> str:
    """A UTC time shown in the signed-in user's zone."""
    return "" if moment is None else local_text(moment, user_zone_name(), fmt)


def short_text(local: datetime, today: datetime, seconds: bool = False) -> str:
    """``12월 6일 오전 3:15`` (the year first when it is not ``today``'s; ``:33`` with
    ``seconds``): short enough for a table cell on a phone."""
    half = _("오전") if local.hour < 12 else _("오후")
    clock = f"{local.hour % 12 or 12}:{local.minute:02d}" + (f":{local.second:02d}"
                                                             if seconds else "")
    day = _("%(month)s월 %(day)s일", month=local.month, day=local.day)
    if local.year != today.year:
        day = _("%(year)s년 %(day)s", year=local.year, day=day)
    return _("%(day)s %(half)s %(clock)s", day=day, half=half, clock=clock)


def to_short_local(moment: datetime | None, seconds: bool = False) -> str:
    """A UTC time in the signed-in user's zone, short (``12월 6일 오전 3:15``); the long
    form (``localtime``) stays for the send page's reserved list."""
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
