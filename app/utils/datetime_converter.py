"""Remaining-time text in Korean and time-zone helpers. Pure: imports nothing of the app."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_PERIODS = (
    ("일", 86400),
    ("시간", 3600),
    ("분", 60),
    ("초", 1),
)
DUE_TEXT = "곧 전송"


def timedelta_to_remain(td: timedelta) -> str:
    """``3분 20초 남음``; at zero or below, ``곧 전송`` (never an empty string)."""
    seconds = int(td.total_seconds())
    if seconds <= 0:
        return DUE_TEXT
    parts = []
    for name, size in _PERIODS:
        if seconds >= size:
            value, seconds = divmod(seconds, size)
            parts.append(f"{value}{name}")
    return " ".join(parts) + " 남음"


def zone(name: str | None, default: str) -> ZoneInfo:
    """The IANA zone ``name``, or ``default`` when it is empty or unknown."""
    for candidate in (name, default):
        if candidate:
            try:
                return ZoneInfo(candidate)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return ZoneInfo("UTC")


def localtime(moment: datetime, tz: ZoneInfo) -> datetime:
    """``moment`` (aware; naive is read as UTC) in the zone ``tz``."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(tz)


def korean_datetime(moment: datetime) -> str:
    """``2026년11월23일 14시 05분 00초``, as the reserved list shows it."""
    return moment.strftime("%Y년%m월%d일 %H시 %M분 %S초")
