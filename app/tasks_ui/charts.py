"""Pictures of sends, drawn on the server as SVG (no script; the CSP unchanged): one task's
deliveries over time with its outcome split, and the last 30 days of the user's sends.

The functions here compute shapes from plain values (pure, unit-tested); the queries that
feed them come last. Colours are CSS classes (static/css/tasks.css), never style."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask_babel import gettext as _

from app import labels
from app.extensions import db
from app.models import Delivery, Task
from app.models.task import DELIVERED, NOT_BUILT, REFUSED, SUPPRESSED, UNKNOWN

WIDTH, HEIGHT = 600, 120
BINS = 24
# The outcome split, in the order it is drawn; ``not_built`` is a refusal of our own.
SPLIT_ORDER = ("delivered", "bounced", "refused", NOT_BUILT, "unknown", "suppressed",
               "pending")
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


def frame(first: datetime, last: datetime, bins: int = BINS) -> tuple[int, timedelta]:
    """How many bins span ``first`` to ``last``, and how long each is (one second-long bin
    when all happened at one moment)."""
    if last > first:
        return bins, (last - first) / bins
    return 1, timedelta(seconds=1)


@dataclass
class Binned:
    """Served recipients counted in equal spans of time: ``counted[i]`` holds the outcomes
    of the span that starts at ``first + span * i``; ``last`` is the latest moment."""

    first: datetime
    last: datetime
    span: timedelta
    counted: list[dict[str, int]]

    @property
    def total(self) -> int:
        """How many were counted in all."""
        return sum(sum(c.values()) for c in self.counted)


def binned(events: Sequence[tuple[datetime, str]], bins: int = BINS) -> Binned | None:
    """``events`` (time, outcome) counted in ``bins`` equal spans from the first to the
    last; None when there are none."""
    if not events:
        return None
    first = min(t for t, _ in events)
    last = max(t for t, _ in events)
    count, span = frame(first, last, bins)
    counted: list[dict[str, int]] = [{} for _ in range(count)]
    for moment, kind in events:
        index = min(count - 1, int((moment - first) / span)) if last > first else 0
        counted[index][kind] = counted[index].get(kind, 0) + 1
    return Binned(first, last, span, counted)


def bins_of(events: Sequence[tuple[datetime, str]], bins: int = BINS
            ) -> tuple[datetime, timedelta, list[dict[str, int]]]:
    """``events`` (time, outcome) counted in ``bins`` equal spans from the first to the
    last: (first, span, counts per bin). All at one moment: one bin."""
    made = binned(events, bins)
    if made is None:
        raise ValueError("no events to count")
    return made.first, made.span, made.counted


def timeline(events: Binned | Sequence[tuple[datetime, str]] | None,
             when: Callable[[datetime], str], bins: int = BINS) -> Chart:
    """One task's served recipients over time as stacked bars (``when`` writes a time):
    from their counts in spans (``Binned``, e.g. ``task_bins``) or from the events."""
    made = events if isinstance(events, Binned) or events is None else binned(events, bins)
    if made is None or not made.total:
        return Chart(summary=_("아직 처리된 받는 사람이 없습니다."))
    tallest = max(sum(c.values()) for c in made.counted)
    width = WIDTH / len(made.counted)
    rects: list[Rect] = []
    for i, counts in enumerate(made.counted):
        title = f"{when(made.first + made.span * i)}: " + _words(counts, STACK)
        rects += _stack(i * width + 1, width - 2, counts, HEIGHT / tallest, title)
    start, end = when(made.first), when(made.last)
    return Chart(rects, start, end, _("%(start)s부터 %(end)s까지 처리된 받는 사람 %(count)s명",
                                     start=start, end=end, count=made.total))


def split(counts: Mapping[str, int]) -> Chart:
    """The outcome split as one bar across the whole width, with its text."""
    total = sum(counts.values())
    rects, x = [], 0.0
    for kind in SPLIT_ORDER:
        n = counts.get(kind, 0)
        if n and total:
            w = WIDTH * n / total
            rects.append(Rect(round(x, 2), 0, round(w, 2), 24, kind,
                              _("%(label)s %(count)s명", label=split_label(kind), count=n)))
            x += w
    return Chart(rects, summary=_("받는 사람 %(count)s명: %(words)s", count=total,
                                  words=_words(counts, SPLIT_ORDER)))


def _words(counts: Mapping[str, int], order: Iterable[str]) -> str:
    parts = [f"{split_label(k)} {counts[k]}" for k in order if counts.get(k)]
    return ", ".join(parts) or _("없음")


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
        title = _("%(day)s: 보내기 %(sends)s건, %(words)s", day=day_text(d.day), sends=d.sends,
                  words=_words(d.counts, STACK))
        rects += _stack(i * width + 1, width - 2, d.counts, HEIGHT / tallest, title)
    sends = sum(d.sends for d in days)
    total: dict[str, int] = {}
    for d in days:
        for kind, n in d.counts.items():
            total[kind] = total.get(kind, 0) + n
    summary = _("최근 %(days)s일 동안 보내기 %(sends)s건, 받는 사람 %(count)s명: %(words)s",
                days=len(days), sends=sends, count=sum(total.values()),
                words=_words(total, STACK))
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


def running_counts(task: Task) -> dict[str, int]:
    """``task_counts`` of a task still sending, from the counts its run keeps on the task
    (at most a progress write old) and two narrow index ranges (suppressed; refused not
    built): no pass over a big task's rows on each look."""
    rows = dict(db.session.execute(
        db.select(Delivery.status, db.func.count())
        .where(Delivery.task_id == task.id, Delivery.status == SUPPRESSED)
        .group_by(Delivery.status)).all())
    not_built = db.session.scalar(db.select(db.func.count()).where(
        Delivery.task_id == task.id, Delivery.status == REFUSED,
        Delivery.reason_kind == NOT_BUILT)) or 0
    counts = {"delivered": task.delivered_count, "refused": task.failed_count - not_built,
              NOT_BUILT: not_built, "unknown": task.unknown_count,
              "suppressed": rows.get(SUPPRESSED, 0), "bounced": task.bounced_count}
    counts["pending"] = max(0, task.recipient_count - sum(counts.values()))
    return {kind: n for kind, n in counts.items() if n > 0}


SERVED = (DELIVERED, REFUSED, UNKNOWN)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)


def epoch_micros(column: Any) -> Any:
    """SQL for a UTCDateTime column as whole microseconds since 1970 (UTC), exact on both
    backends: PostgreSQL's ``extract(epoch ...)`` is a numeric; SQLite keeps the time as
    text ``YYYY-MM-DD HH:MM:SS.ffffff`` (whole seconds from ``strftime('%s')``, the digits
    after the dot read as they are: ``julianday`` keeps only milliseconds)."""
    if db.engine.dialect.name == "sqlite":
        seconds = db.cast(db.func.strftime("%s", column), db.Integer)
        digits = db.func.substr(db.func.substr(column, 21).concat("000000"), 1, 6)
        return seconds * 1_000_000 + db.cast(digits, db.Integer)
    return db.cast(db.extract("epoch", column) * 1_000_000, db.BigInteger)


def task_events(task_id: int) -> list[tuple[datetime, str]]:
    """When each served recipient of the task was served, and how (every row: for tests
    and small tasks; the page uses ``task_bins``)."""
    rows = db.session.execute(
        db.select(Delivery.updated_at, Delivery.status).where(*_served(task_id)))
    return [(moment, status) for moment, status in rows]


def _served(task_id: int) -> tuple[Any, ...]:
    return (Delivery.task_id == task_id, Delivery.updated_at.is_not(None),
            Delivery.status.in_(SERVED))


def task_bins(task_id: int, bins: int = BINS) -> Binned | None:
    """The task's served recipients counted in ``bins`` spans by the database (two
    queries, whatever the task's size): the same counts ``binned`` makes of
    ``task_events``; None when none was served yet."""
    first, last = db.session.execute(
        db.select(db.func.min(Delivery.updated_at), db.func.max(Delivery.updated_at))
        .where(*_served(task_id))).one()
    if first is None or last is None:
        return None
    count, span = frame(first, last, bins)
    start = db.literal((first - EPOCH) // MICROSECOND, db.BigInteger)
    index = ((epoch_micros(Delivery.updated_at) - start)
             // db.literal(span // MICROSECOND, db.BigInteger)).label("bin")
    rows = db.session.execute(
        db.select(index, Delivery.status, db.func.count())
        .where(*_served(task_id)).group_by(index, Delivery.status))
    counted: list[dict[str, int]] = [{} for _ in range(count)]
    for at, status, n in rows:
        slot = counted[min(count - 1, max(0, int(at)))]
        slot[status] = slot.get(status, 0) + n
    return Binned(first, last, span, counted)


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
