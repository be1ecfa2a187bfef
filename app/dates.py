"""Local times in the reader's language, by Babel's locale data: the short form of table
cells (``12월 6일 오후 3:15``, ``Dec 6, 3:15 PM``; the year when it is not this year's) and
the long form of messages (Korean keeps the seeds' ``2026년11월24일 09시 00분 00초``, SPEC's;
English ``Dec 6, 2026, 3:15:00 PM``). The times given are already in the reader's zone."""

from __future__ import annotations

from datetime import datetime

from babel import Locale
from babel.dates import format_datetime, format_skeleton
from flask_babel import get_locale

from app.utils.datetime_converter import korean_datetime


def long_text(local: datetime) -> str:
    """``local`` in full, to the second."""
    locale = get_locale() or Locale("ko")
    if locale.language == "ko":
        return korean_datetime(local)
    return format_datetime(local, "medium", locale=locale)


def short_text(local: datetime, today: datetime, seconds: bool = False) -> str:
    """``local`` short enough for a table cell on a phone: month and day (the year too when
    it is not ``today``'s), the clock (``seconds``: to the second), joined as the locale
    joins a date and a time."""
    locale = get_locale() or Locale("ko")
    day = format_skeleton("MMMd" if local.year == today.year else "yMMMd", local,
                          locale=locale)
    clock = format_skeleton("hms" if seconds else "hm", local, locale=locale)
    return str(locale.datetime_formats["medium"]).format(clock, day)
