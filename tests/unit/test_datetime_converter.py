"""The pure time helpers: remaining seconds (shown in the words of ``app.labels``), zone-aware
parsing, the window."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.labels import DUE_TEXT, remaining_text
from app.utils.datetime_converter import (
    check_reservation_window,
    korean_datetime,
    localtime,
    parse_local_datetime,
    remaining_seconds,
    zone,
)

FORMAT_ERROR = "시간 형식이 올바르지 않습니다."
UNIT_SECONDS = {"일": 86400, "시간": 3600, "분": 60, "초": 1}
UNIT_ORDER = ["일", "시간", "분", "초"]
ZONES = [
    "Asia/Seoul",
    "UTC",
    "America/Los_Angeles",
    "America/New_York",
    "Europe/London",
    "Australia/Lord_Howe",
]


def gap_message(tz_name: str) -> str:
    return f"{tz_name}에는 없는 시각입니다(서머타임 전환). 다른 시각을 고르세요."


def ambiguous_message(tz_name: str) -> str:
    return f"{tz_name}에서 두 번 있는 시각입니다(서머타임 전환). 다른 시각을 고르세요."


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def remain(td: timedelta) -> str:
    """The words the pages show for ``td`` left: remaining_seconds read by remaining_text."""
    start = utc(2026, 1, 1, 12, 0, 0)
    return remaining_text(remaining_seconds(start + td, start))


# -- remaining time in words --------------------------------------------------------


@pytest.mark.parametrize(
    ("td", "expected"),
    [
        (timedelta(days=1, hours=2, minutes=3), "1일 2시간 3분 남음"),
        (timedelta(minutes=3, seconds=20), "3분 20초 남음"),
        (timedelta(seconds=59), "59초 남음"),
        (timedelta(seconds=60), "1분 남음"),
        (timedelta(hours=2), "2시간 남음"),
        (timedelta(days=1, seconds=5), "1일 5초 남음"),
        (timedelta(seconds=0.3), "1초 남음"),
        (timedelta(microseconds=1), "1초 남음"),
        (timedelta(seconds=59.2), "1분 남음"),
        (timedelta(seconds=3599.5), "1시간 남음"),
        (timedelta(days=1, hours=23, minutes=59, seconds=59), "1일 23시간 59분 59초 남음"),
    ],
)
def test_remain_examples(td: timedelta, expected: str) -> None:
    assert remain(td) == expected


@pytest.mark.parametrize(
    "td", [timedelta(0), timedelta(seconds=-1), timedelta(microseconds=-1), timedelta(days=-3)]
)
def test_remain_due(td: timedelta) -> None:
    assert DUE_TEXT == "곧 전송"
    assert remain(td) == DUE_TEXT


def parse_remain(text: str) -> list[tuple[int, str]]:
    assert text.endswith(" 남음")
    tokens = text[: -len(" 남음")].split(" ")
    parsed = []
    for token in tokens:
        match = re.fullmatch(r"([0-9]+)(일|시간|분|초)", token)
        assert match is not None, token
        parsed.append((int(match.group(1)), match.group(2)))
    return parsed


@given(st.timedeltas(min_value=timedelta(days=-10), max_value=timedelta(days=400)))
def test_remain_property(td: timedelta) -> None:
    text = remain(td)
    assert text
    expected = math.ceil(td.total_seconds())
    if expected <= 0:
        assert text == DUE_TEXT
        return
    parsed = parse_remain(text)
    assert sum(value * UNIT_SECONDS[unit] for value, unit in parsed) == expected
    assert all(value > 0 for value, _ in parsed)
    positions = [UNIT_ORDER.index(unit) for _, unit in parsed]
    assert positions == sorted(set(positions))
    limits = {"시간": 24, "분": 60, "초": 60}
    assert all(value < limits[unit] for value, unit in parsed if unit in limits)


# -- remaining_seconds --------------------------------------------------------------


def test_remaining_seconds() -> None:
    now = utc(2026, 1, 1, 12, 0, 0)
    assert remaining_seconds(now + timedelta(seconds=90), now) == 90
    assert remaining_seconds(now + timedelta(seconds=0.2), now) == 1
    assert remaining_seconds(now + timedelta(seconds=10, microseconds=1), now) == 11
    assert remaining_seconds(now, now) == 0
    assert remaining_seconds(now - timedelta(hours=1), now) == 0


def test_remaining_seconds_across_zones() -> None:
    now = utc(2026, 1, 1, 12, 0, 0)
    target = datetime(2026, 1, 1, 21, 1, 0, tzinfo=ZoneInfo("Asia/Seoul"))
    assert remaining_seconds(target, now) == 60


# -- parse_local_datetime -----------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "2026-05-10T14:30",
        "2026-05-10T14:30:00",
        "2026-05-10 14:30",
        "2026-05-10 14:30:00",
        "2026-05-10T14:30:00.000",
        "  2026-05-10T14:30 \n",
    ],
)
def test_parse_seoul_is_nine_hours_back(text: str) -> None:
    result = parse_local_datetime(text, "Asia/Seoul")
    assert result == utc(2026, 5, 10, 5, 30, 0)
    assert result.utcoffset() == timedelta(0)
    assert result.tzinfo is UTC


def test_parse_seoul_crosses_midnight() -> None:
    assert parse_local_datetime("2026-01-01T03:15:07", "Asia/Seoul") == utc(2025, 12, 31, 18, 15, 7)


def test_parse_los_angeles_summer_and_winter() -> None:
    assert parse_local_datetime("2026-07-01T09:00", "America/Los_Angeles") == utc(
        2026, 7, 1, 16, 0
    )
    assert parse_local_datetime("2026-01-15 09:00:00", "America/Los_Angeles") == utc(
        2026, 1, 15, 17, 0
    )


def test_parse_utc() -> None:
    assert parse_local_datetime("2026-05-10T14:30:45", "UTC") == utc(2026, 5, 10, 14, 30, 45)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-05-10T12:00:00.2", utc(2026, 5, 10, 3, 0, 1)),
        ("2026-05-10T12:00:00.000001", utc(2026, 5, 10, 3, 0, 1)),
        ("2026-05-10T12:00:59.999", utc(2026, 5, 10, 3, 1, 0)),
        ("2026-12-31T23:59:59.5", utc(2026, 12, 31, 15, 0, 0)),
        ("2026-05-10 12:00:00.200", utc(2026, 5, 10, 3, 0, 1)),
    ],
)
def test_parse_rounds_up_fraction(text: str, expected: datetime) -> None:
    result = parse_local_datetime(text, "Asia/Seoul")
    assert result == expected
    assert result.microsecond == 0


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "None",
        "garbage",
        "2026-05-10",
        "14:30",
        "2026-13-01T00:00",
        "2026-02-30T10:00",
        "2026-05-10T24:00",
        "2026-05-10T12:60",
        "2026-05-10T12:00:61",
        "2026-5-10T12:00",
        "2026-05-10T12:00Z",
        "2026-05-10T12:00+09:00",
        "2026-05-10T12:00:00.1234567",
        "2026-05-10T12",
        "2026-05-10X12:00",
        "２０２６-05-10T12:00",
        "9999-12-31T23:59:59.5",
        "0001-01-01T00:00",
    ],
)
def test_parse_rejects_bad_format(text: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_local_datetime(text, "Asia/Seoul")
    assert str(info.value) == FORMAT_ERROR


def test_parse_rejects_none() -> None:
    with pytest.raises(ValueError) as info:
        parse_local_datetime(None, "Asia/Seoul")  # type: ignore[arg-type]
    assert str(info.value) == FORMAT_ERROR


@pytest.mark.parametrize("tz_name", ["Mars/Olympus", "", "America", "../etc/passwd", "Seoul"])
def test_parse_rejects_unknown_zone(tz_name: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_local_datetime("2026-05-10T14:30", tz_name)
    assert str(info.value) == f"알 수 없는 시간대입니다: {tz_name}"


@pytest.mark.parametrize(
    ("text", "tz_name"),
    [
        ("2026-03-08T02:30", "America/New_York"),
        ("2026-03-08 02:00:00", "America/New_York"),
        ("2026-03-08T02:59:59", "America/New_York"),
        ("2026-03-08T01:59:59.5", "America/New_York"),
        ("2026-03-29T01:30", "Europe/London"),
        ("2026-10-04T02:15", "Australia/Lord_Howe"),
    ],
)
def test_parse_rejects_spring_forward_gap(text: str, tz_name: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_local_datetime(text, tz_name)
    assert str(info.value) == gap_message(tz_name)


@pytest.mark.parametrize(
    ("text", "tz_name"),
    [
        ("2026-11-01T01:30", "America/New_York"),
        ("2026-11-01 01:00:00", "America/New_York"),
        ("2026-11-01T01:59:59", "America/New_York"),
        ("2026-10-25T01:30", "Europe/London"),
        ("2026-04-05T01:45", "Australia/Lord_Howe"),
    ],
)
def test_parse_rejects_fall_back_overlap(text: str, tz_name: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_local_datetime(text, tz_name)
    assert str(info.value) == ambiguous_message(tz_name)


def test_parse_edges_of_new_york_transitions() -> None:
    tz = "America/New_York"
    assert parse_local_datetime("2026-03-08T01:59:59", tz) == utc(2026, 3, 8, 6, 59, 59)
    assert parse_local_datetime("2026-03-08T03:00", tz) == utc(2026, 3, 8, 7, 0)
    assert parse_local_datetime("2026-11-01T00:59:59", tz) == utc(2026, 11, 1, 4, 59, 59)
    assert parse_local_datetime("2026-11-01T02:00", tz) == utc(2026, 11, 1, 7, 0)


@given(
    st.datetimes(
        min_value=datetime(2000, 1, 1),
        max_value=datetime(2100, 12, 31, 23, 59, 59),
        timezones=st.just(UTC),
    ).map(lambda d: d.replace(microsecond=0)),
    st.sampled_from(ZONES),
)
def test_parse_round_trips_formatted_instants(moment: datetime, tz_name: str) -> None:
    text = moment.astimezone(ZoneInfo(tz_name)).strftime("%Y-%m-%dT%H:%M:%S")
    try:
        result = parse_local_datetime(text, tz_name)
    except ValueError as error:
        assert str(error) == ambiguous_message(tz_name)
    else:
        assert result == moment
        assert result.utcoffset() == timedelta(0)


# -- check_reservation_window -------------------------------------------------------


NOW = utc(2026, 5, 10, 12, 0, 0)


@pytest.mark.parametrize(
    "when",
    [
        NOW + timedelta(seconds=60),
        NOW + timedelta(minutes=5),
        NOW + timedelta(days=30),
        datetime(2026, 5, 10, 21, 1, 0, tzinfo=ZoneInfo("Asia/Seoul")),
    ],
)
def test_window_accepts(when: datetime) -> None:
    assert check_reservation_window(when, NOW, 60, 30) is None


@pytest.mark.parametrize(
    "when",
    [
        NOW + timedelta(seconds=59, microseconds=999999),
        NOW,
        NOW - timedelta(hours=1),
        datetime(2026, 5, 10, 21, 0, 30, tzinfo=ZoneInfo("Asia/Seoul")),
    ],
)
def test_window_rejects_too_soon_or_past(when: datetime) -> None:
    with pytest.raises(ValueError) as info:
        check_reservation_window(when, NOW, 60, 30)
    assert str(info.value) == "현재보다 60초 이내의 예약은 불가능합니다."


def test_window_rejects_too_far() -> None:
    with pytest.raises(ValueError) as info:
        check_reservation_window(NOW + timedelta(days=30, seconds=1), NOW, 60, 30)
    assert str(info.value) == "현재보다 30일 이후로는 예약할 수 없습니다."


def test_window_uses_its_arguments() -> None:
    check_reservation_window(NOW + timedelta(seconds=5), NOW, 5, 1)
    with pytest.raises(ValueError, match="현재보다 1일 이후로는"):
        check_reservation_window(NOW + timedelta(days=1, seconds=1), NOW, 5, 1)
    with pytest.raises(ValueError, match="현재보다 120초 이내의"):
        check_reservation_window(NOW + timedelta(seconds=90), NOW, 120, 30)


# -- existing helpers ---------------------------------------------------------------


def test_zone_falls_back() -> None:
    assert zone("America/New_York", "Asia/Seoul") == ZoneInfo("America/New_York")
    assert zone(None, "Asia/Seoul") == ZoneInfo("Asia/Seoul")
    assert zone("Mars/Olympus", "Asia/Seoul") == ZoneInfo("Asia/Seoul")
    assert zone("America", "Asia/Seoul") == ZoneInfo("Asia/Seoul")
    assert zone("", "") == ZoneInfo("UTC")


def test_localtime_and_korean_datetime() -> None:
    seoul = ZoneInfo("Asia/Seoul")
    assert localtime(datetime(2026, 11, 23, 5, 5), seoul) == datetime(
        2026, 11, 23, 14, 5, tzinfo=seoul
    )
    shown = korean_datetime(localtime(utc(2026, 11, 23, 5, 5, 0), seoul))
    assert shown == "2026년11월23일 14시 05분 00초"
