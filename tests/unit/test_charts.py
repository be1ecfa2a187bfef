"""The server-drawn charts' shapes (app/tasks_ui/charts.py): pure arithmetic, no app."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from app.tasks_ui import charts

T0 = datetime(2026, 12, 6, 3, 0, tzinfo=UTC)


def test_timeline_bins_span_first_to_last_and_stack_by_outcome() -> None:
    events = [(T0 + timedelta(seconds=s), kind) for s, kind in
              ((0, "delivered"), (1, "delivered"), (1, "refused"), (47, "unknown"),
               (48, "delivered"))]
    first, span, counted = charts.bins_of(events, bins=24)
    assert first == T0 and span == timedelta(seconds=2)
    assert counted[0] == {"delivered": 2, "refused": 1}
    assert counted[-1] == {"unknown": 1, "delivered": 1}
    assert sum(sum(c.values()) for c in counted) == 5
    chart = charts.timeline(events, lambda t: t.strftime("%H:%M:%S"), bins=24)
    tallest = [r for r in chart.rects if r.x < charts.WIDTH / 24]
    assert [r.kind for r in tallest] == ["delivered", "refused"]
    assert tallest[0].h == 80 and tallest[1].h == 40 and tallest[1].y == 0  # full height: 3
    assert all(0 <= r.y and r.y + r.h <= charts.HEIGHT + 1e-6 for r in chart.rects)
    assert all(r.x + r.w <= charts.WIDTH for r in chart.rects)
    assert chart.summary == "03:00:00부터 03:00:48까지 처리된 받는 사람 5명"


def test_timeline_of_one_moment_is_one_bar_and_of_nothing_says_so() -> None:
    chart = charts.timeline([(T0, "delivered")] * 3, str)
    assert len(chart.rects) == 1 and chart.rects[0].w == charts.WIDTH - 2
    empty = charts.timeline([], str)
    assert empty.rects == [] and empty.summary == "아직 처리된 받는 사람이 없습니다."


def test_split_is_proportional_and_says_every_part() -> None:
    chart = charts.split({"delivered": 6, "refused": 1, "not_built": 1, "pending": 0,
                          "suppressed": 2})
    assert [r.kind for r in chart.rects] == ["delivered", "refused", "not_built", "suppressed"]
    assert [r.w for r in chart.rects] == [360, 60, 60, 120]
    assert chart.rects[-1].x + chart.rects[-1].w == charts.WIDTH
    assert chart.summary == ("받는 사람 10명: 전송 6, 거부 1, 메일을 만들지 못함 1, "
                             "수신 거부로 건너뜀 2")
    assert charts.split({}).rects == [] and charts.split({}).summary == "받는 사람 0명: 없음"


def test_daily_has_a_bar_a_day_scaled_to_the_busiest() -> None:
    days = [charts.Day(date(2026, 12, 1) + timedelta(days=i)) for i in range(30)]
    days[3].sends, days[3].counts = 2, {"delivered": 8, "refused": 2}
    days[29].sends, days[29].counts = 1, {"delivered": 5}
    chart = charts.daily(days, lambda d: f"{d.month}월 {d.day}일")
    assert (chart.start, chart.end) == ("12월 1일", "12월 30일")
    assert [r.h for r in chart.rects] == [96.0, 24.0, 60.0]
    assert chart.rects[0].title == "12월 4일: 보내기 2건, 전송 8, 거부 2"
    assert chart.summary == "최근 30일 동안 보내기 3건, 받는 사람 15명: 전송 13, 거부 2"
    assert charts.daily([], str).summary.startswith("최근 0일")


def test_timeline_from_counted_spans_is_the_timeline_of_the_events() -> None:
    events = [(T0 + timedelta(seconds=s, microseconds=m), kind) for s, m, kind in
              ((0, 0, "delivered"), (7, 3, "refused"), (7, 4, "unknown"),
               (95, 999_999, "delivered"))]
    made = charts.binned(events)
    assert made is not None and made.total == 4 and made.last == events[-1][0]
    assert (made.first, made.span, made.counted) == charts.bins_of(events)
    assert charts.frame(made.first, made.last) == (charts.BINS, made.span)
    assert charts.frame(T0, T0) == (1, timedelta(seconds=1))
    when = lambda t: t.isoformat()  # noqa: E731
    assert charts.timeline(made, when) == charts.timeline(events, when)
    assert charts.timeline(None, str) == charts.timeline([], str)
    assert charts.binned([]) is None
