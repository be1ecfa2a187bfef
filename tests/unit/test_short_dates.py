"""Short local dates for tables (issue 24): ``12월 6일 오전 3:15``, seconds only when asked,
the year only when it is not this year; the long form of the send page's reserved list
(SPEC) is unchanged."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from flask import Flask

from app import create_app
from app.filters import iso_local, short_text, to_localtime, to_short_local

SEOUL = ZoneInfo("Asia/Seoul")
TODAY = datetime(2026, 12, 6, 9, 0, tzinfo=SEOUL)


@pytest.mark.parametrize(("local", "seconds", "text"), [
    (datetime(2026, 12, 6, 3, 15, 33, tzinfo=SEOUL), False, "12월 6일 오전 3:15"),
    (datetime(2026, 12, 6, 3, 15, 33, tzinfo=SEOUL), True, "12월 6일 오전 3:15:33"),
    (datetime(2026, 12, 6, 0, 5, tzinfo=SEOUL), False, "12월 6일 오전 12:05"),
    (datetime(2026, 12, 6, 12, 0, tzinfo=SEOUL), False, "12월 6일 오후 12:00"),
    (datetime(2026, 1, 23, 23, 59, tzinfo=SEOUL), False, "1월 23일 오후 11:59"),
    (datetime(2025, 12, 31, 14, 5, tzinfo=SEOUL), False, "2025년 12월 31일 오후 2:05"),
])
def test_short_text(local: datetime, seconds: bool, text: str) -> None:
    assert short_text(local, TODAY, seconds) == text


@pytest.fixture
def bare_app() -> Flask:
    return create_app({"TESTING": True, "SECRET_KEY": "x" * 32, "APP_TIMEZONE": "Asia/Seoul",
                       "UNSUBSCRIBE_SECRET": "y" * 32,
                       "SQLALCHEMY_DATABASE_URI": "sqlite://"})


def test_filters_in_the_users_zone(bare_app: Flask) -> None:
    moment = datetime(2026, 11, 23, 5, 5, 0, tzinfo=UTC)  # 14:05 in Seoul
    with bare_app.test_request_context():
        assert to_localtime(moment) == "2026년11월23일 14시 05분 00초"  # SPEC's reserved list
        assert to_short_local(moment).endswith("11월 23일 오후 2:05")
        assert iso_local(moment) == "2026-11-23T14:05:00+09:00"
        assert to_short_local(None) == "" and iso_local(None) == ""
