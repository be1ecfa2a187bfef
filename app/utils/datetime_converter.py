"""Time helpers: remaining seconds, zone-aware parsing, the reservation window. Pure:
imports nothing of the app (the words for the time left are ``app.labels.remaining_text``);
its messages are in the reader's language through Flask-Babel (Korean outside an app)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask_babel import gettext as _

_LOCAL_RE = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?",
    re.ASCII,
)


def _format_error() -> str:
    return _("시간 형식이 올바르지 않습니다.")


def _zone_error(tz_name: object) -> str:
    return _("알 수 없는 시간대입니다: %(tz_name)s", tz_name=tz_name)


def _ceil_seconds(td: timedelta) -> int:
    """Whole seconds in ``td``, rounded up (exact integer arithmetic)."""
    return td.days * 86400 + td.seconds + (1 if td.microseconds else 0)


def remaining_seconds(target: datetime, now: datetime) -> int:
    """Whole seconds from ``now`` until ``target`` (both aware), rounded up, never negative."""
    return max(0, _ceil_seconds(target - now))


def _parse_wall_time(text: str) -> datetime:
    """The naive wall time in ``text``, rounded up to the next whole second."""
    match = _LOCAL_RE.fullmatch(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise ValueError(_format_error())
    year, month, day, hour, minute, second, fraction = match.groups()
    try:
        wall = datetime(int(year), int(month), int(day), int(hour), int(minute),
                        int(second or 0))
        if fraction and int(fraction):
            wall += timedelta(seconds=1)
    except (ValueError, OverflowError):
        raise ValueError(_format_error()) from None
    return wall


def _load_zone(tz_name: str) -> ZoneInfo:
    """The IANA zone ``tz_name``; ValueError with a Korean message when unknown."""
    if not isinstance(tz_name, str) or not tz_name.strip():
        raise ValueError(_zone_error(tz_name))
    try:
        return ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(_zone_error(tz_name)) from None


def parse_local_datetime(text: str, tz_name: str) -> datetime:
    """Read ``text`` as wall-clock time in ``tz_name``; return it aware in UTC, whole seconds."""
    wall = _parse_wall_time(text)
    tz = _load_zone(tz_name)
    first = wall.replace(tzinfo=tz, fold=0)
    second = wall.replace(tzinfo=tz, fold=1)
    try:
        if first.utcoffset() != second.utcoffset():
            back = first.astimezone(UTC).astimezone(tz).replace(tzinfo=None, fold=0)
            if back != wall:
                raise ValueError(_("%(tz_name)s에는 없는 시각입니다(서머타임 전환). 다른 시각을 "
                                   "고르세요.", tz_name=tz_name))
            raise ValueError(_("%(tz_name)s에서 두 번 있는 시각입니다(서머타임 전환). 다른 시각을 "
                               "고르세요.", tz_name=tz_name))
        return first.astimezone(UTC)
    except OverflowError:
        raise ValueError(_format_error()) from None


def check_reservation_window(
    when: datetime, now: datetime, min_lead_seconds: int, max_days: int
) -> None:
    """Raise ValueError unless ``when`` is ``min_lead_seconds`` to ``max_days`` after ``now``."""
    ahead = when - now
    if ahead < timedelta(seconds=min_lead_seconds):
        raise ValueError(_("현재보다 %(seconds)s초 이내의 예약은 불가능합니다.",
                           seconds=min_lead_seconds))
    if ahead > timedelta(days=max_days):
        raise ValueError(_("현재보다 %(days)s일 이후로는 예약할 수 없습니다.", days=max_days))


def zone(name: str | None, default: str) -> ZoneInfo:
    """The IANA zone ``name``, or ``default`` when it is empty or unknown."""
    for candidate in (name, default):
        if candidate:
            try:
                return ZoneInfo(candidate)
            except (ZoneInfoNotFoundError, ValueError, OSError):
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
