"""Pictures of sends, drawn on the server as SVG (no script; the CSP unchanged): one task's
deliveries over time with its outcome split, and the last 30 days of the user's sends.

The functions here compute shapes from plain values (pure, unit-tested); the queries that
feed them come last. Colours are CSS classes (static/css/tasks.css), never style."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from app import labels
from app.extensions import db
from app.models import Delivery, Task
from app.models.task import DELIVERED, NOT_BUILT, REFUSED, UNKNOWN

WIDTH, HEIGHT = 600, 120
BINS = 24
# The outcome split, in the order it is drawn; ``not_built`` is a refusal of our own.
SPLIT_ORDER = ("delivered", "refused", NOT_BUILT, "unknown", "suppressed", "pending")
# What a bar of the timeline stacks, bottom first.
STACK = ("delivered", "refused", "unknown")


def split_label(kind: str) -> str:
    """The words for one part of the outcome split."""
    return labels.NOT_BUILT_LABEL if kind == NOT_BUILT else labels.outcome_text(kind)


@dataclass
class Rect:
    """One rectangle of a chart, in the SVG's own units."""

    x: float
    y: float
    w: float
    h: float
    kind: str
    title: str = ""


@dataclass
class Chart:
    """What a chart partial draws: rectangles, axis words and the text that says it all."""

    rects: list[Rect] = field(default_factory=list)
    start: str = ""
    end: str = ""
    summary: str = ""


def _stack(x: float, w: float, counts: Mapping[str, int], scale: float,
           title: str) -> list[Rect]:
    """One stacked bar standing on the baseline."""
    rects, y = [], float(HEIGHT)
    for kind in STACK:
        h = counts.get(kind, 0) * scale
        if h > 0:
            y -= h
            rects.append(Rect(round(x, 2), round(y, 2), round(w, 2), round(h, 2), kind, title))
    return rects


def bins_of(events: Sequence[tuple[datetime, str]], bins: int = BINS
            ) -> tuple[datetime, timedelta, list[dict[str, int]]]:
    """``events`` (time, outcome) counted in ``bins`` equal spans from the first to the
    last: (first, span, counts per bin). All at one moment: one bin."""
    first = min(t for t, _ in events)
    last = max(t for t, _ in events)
    count = bins if last > first else 1
    span = (last - first) / count if last > first else timedelta(seconds=1)
    counted: list[dict[str, int]] = [{} for _ in range(count)]
    for moment, kind in events:
        index = min(count - 1, int((moment - first) / span)) if last > first else 0
        counted[index][kind] = counted[index].get(kind, 0) + 1
    return first, span, counted


def timeline(events: Sequence[tuple[datetime, str]], when: Callable[[datetime], str],
             bins: int = BINS) -> Chart:
    """One task's served recipients over time as stacked bars (``when`` writes a time)."""
    if not events:
        return Chart(summary="아직 처리된 받는 사람이 없습니다.")
    first, span, counted = bins_of(events, bins)
    tallest = max(sum(c.values()) for c in counted)
    width = WIDTH / len(counted)
    rects: list[Rect] = []
    for i, counts in enumerate(counted):
        title = f"{when(first + span * i)}: " + _words(counts, STACK)
        rects += _stack(i * width + 1, width - 2, counts, HEIGHT / tallest, title)
    last = max(t for t, _ in events)
    return Chart(rects, when(first), when(last),
                 f"{when(first)}부터 {when(last)}까지 처리된 받는 사람 {len(events)}명")


def split(counts: Mapping[str, int]) -> Chart:
    """The outcome split as one bar across the whole width, with its text."""
    total = sum(counts.values())
    rects, x = [], 0.0
    for kind in SPLIT_ORDER:
        n = counts.get(kind, 0)
        if n and total:
            w = WIDTH * n / total
            rects.append(Rect(round(x, 2), 0, round(w, 2), 24, kind,
                              f"{split_label(kind)} {n}명"))
            x += w
    return Chart(rects, summary=f"받는 사람 {total}명: " + _words(counts, SPLIT_ORDER))


def _words(counts: Mapping[str, int], order: Iterable[str]) -> str:
    parts = [f"{split_label(k)} {counts[k]}" for k in order if counts.get(k)]
    return ", ".join(parts) or "없음"


@dataclass
class Day:
    """One day of the user's sends (in the user's zone)."""

    day: date
    sends: int = 0
    counts: dict[str, int] = field(default_factory=dict)


def daily(days: Sequence[Day], day_text: Callable[[date], str]) -> Chart:
    """The last days' outcomes as one stacked bar a day, and their text."""
    tallest = max([sum(d.counts.values()) for d in days] + [1])
    width = WIDTH / max(1, len(days))
    rects: list[Rect] = []
    for i, d in enumerate(days):
        title = f"{day_text(d.day)}: 보내기 {d.sends}건, " + _words(d.counts, STACK)
        rects += _stack(i * width + 1, width - 2, d.counts, HEIGHT / tallest, title)
    sends = sum(d.sends for d in days)
    total: dict[str, int] = {}
    for d in days:
        for kind, n in d.counts.items():
            total[kind] = total.get(kind, 0) + n
    summary = (f"최근 {len(days)}일 동안 보내기 {sends}건, 받는 사람 "
               f"{sum(total.values())}명: " + _words(total, STACK))
    return Chart(rects, day_text(days[0].day) if days else "",
                 day_text(days[-1].day) if days else "", summary)


# -- the queries -------------------------------------------------------------------------

def task_counts(task_id: int) -> dict[str, int]:
    """The task's recipients by outcome, a refusal of our own (not built) apart."""
    rows = db.session.execute(
        db.select(Delivery.status, Delivery.reason_kind, db.func.count())
        .where(Delivery.task_id == task_id).group_by(Delivery.status, Delivery.reason_kind))
    counts: dict[str, int] = {}
    for status, kind, n in rows:
        key = NOT_BUILT if status == REFUSED and kind == NOT_BUILT else \
            "pending" if status == "sending" else status
        counts[key] = counts.get(key, 0) + n
    return counts


def task_events(task_id: int) -> list[tuple[datetime, str]]:
    """When each served recipient of the task was served, and how."""
    rows = db.session.execute(
        db.select(Delivery.updated_at, Delivery.status)
        .where(Delivery.task_id == task_id, Delivery.updated_at.is_not(None),
               Delivery.status.in_((DELIVERED, REFUSED, UNKNOWN))))
    return [(moment, status) for moment, status in rows]


def user_days(username: str, today: date, local_day: Callable[[datetime], date],
              days: int = 30) -> list[Day]:
    """The user's sends of the last ``days`` days (``local_day`` maps a UTC time to the
    user's date), one Day each, oldest first, from the tasks' own counts."""
    since = datetime.combine(today - timedelta(days=days + 1), datetime.min.time(), tzinfo=UTC)
    rows = db.session.execute(
        db.select(Task.created_at, Task.delivered_count, Task.failed_count, Task.unknown_count)
        .where(Task.username == username, Task.created_at >= since))
    by_day = {today - timedelta(days=days - 1 - i): Day(today - timedelta(days=days - 1 - i))
              for i in range(days)}
    for created, delivered, failed, unknown in rows:
        day = by_day.get(local_day(created))
        if day is None:
            continue
        day.sends += 1
        for kind, n in (("delivered", delivered), ("refused", failed), ("unknown", unknown)):
            day.counts[kind] = day.counts.get(kind, 0) + (n or 0)
    return list(by_day.values())
