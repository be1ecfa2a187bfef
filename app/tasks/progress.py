"""Notification writes: each task's state mirrored into its user's ``task_progress`` and
``task_reserve`` lists, updated in place, ended entries pruned; and the progress writer a
running job reports through (which also beats for the run in the database)."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError

from app.extensions import db
from app.models import Notification, Task
from app.models.task import RESERVED, RUNNING
from app.models.types import utcnow
from app.tasks.patience import database_gone
from app.webhooks_out.events import task_ended

TASK_PROGRESS = "task_progress"
TASK_RESERVE = "task_reserve"
KEEP_ENDED_SECONDS = 120  # long enough for every open page to see the end
# Ended entries kept at most (the newest); live ones (waiting, running, reserved) are never
# dropped: the page removes the alert, and its cancel control, of a task missing from a list.
MAX_ENDED_ENTRIES = 200


def progress_entry(task: Task) -> dict[str, Any]:
    """The page's view of a queued, running or ended task."""
    return {
        "task_id": task.id,
        "progress": task.progress,
        "status": task.status,
        "failed": task.failed,
        "description": task.description,
        "delivered": task.delivered_count,
        "total": task.recipient_count,
        "log": task.log or "",
        "ended_at": task.finished_at.timestamp() if task.finished_at else None,
        "pause_requested": task.pause_requested_at is not None,
        "cancel_requested": task.cancel_requested_at is not None,
        # An import counts lines, not recipients: its alert shows its log instead.
        **({"kind": "import", "detail": task.log or ""} if task.is_import else {}),
    }


def reserve_entry(task: Task) -> dict[str, Any]:
    """The page's view of a reservation (remaining time is added when served)."""
    assert task.reserved_at is not None
    return {"task_id": task.id, "reserved_at": task.reserved_at.isoformat(),
            "description": task.description}


def _locked(username: str, name: str) -> Notification:
    """The user's list ``name``, locked for this transaction; made first (empty) when it
    does not exist yet, by an insert that does nothing when another process made it just
    before: nothing to retry, nothing else of the transaction lost."""
    query = db.select(Notification).filter_by(username=username, name=name).with_for_update()
    row = db.session.scalar(query)
    if row is None:
        insert = (sqlite_insert if db.engine.dialect.name == "sqlite" else pg_insert)
        db.session.execute(insert(Notification).values(
            username=username, name=name, payload={"data": []}, timestamp=0.0)
            .on_conflict_do_nothing(index_elements=["username", "name"]))
        row = db.session.scalar(query)
    assert row is not None
    return row


def _pruned(entries: list[dict[str, Any]], now: float) -> list[dict[str, Any]]:
    """Every live entry, and the newest ended ones still within KEEP_ENDED_SECONDS."""
    ended = [e for e in entries
             if e.get("ended_at") is not None and now - e["ended_at"] < KEEP_ENDED_SECONDS]
    kept_ended = {e["task_id"] for e in ended[-MAX_ENDED_ENTRIES:]}
    return [e for e in entries if e.get("ended_at") is None or e["task_id"] in kept_ended]


def _apply(username: str, name: str, task_id: int, entry: dict[str, Any] | None) -> None:
    """Put ``entry`` for ``task_id`` in the list (or take it out when None)."""
    row = _locked(username, name)
    old = row.entries
    if entry is None and not any(e.get("task_id") == task_id for e in old):
        return
    entries = [e for e in old if e.get("task_id") != task_id]
    if entry is not None:
        entries.append(entry)
    row.replace_entries(_pruned(entries, time.time()))


def publish_task(task: Task) -> None:
    """Mirror ``task`` into its user's notifications and commit, with whatever the session
    holds of the task's own change: one transaction per change (the one place that writes
    a task's state for the pages)."""
    reserved = task.status == RESERVED
    _apply(task.username, TASK_PROGRESS, task.id, None if reserved else progress_entry(task))
    if task.reserved_at is not None:  # a send-now task never touches the reserve list
        _apply(task.username, TASK_RESERVE, task.id, reserve_entry(task) if reserved else None)
    db.session.commit()
    task_ended(task)  # a send that has just finished: its webhooks (app/webhooks_out)


def publish_task_id(task_id: int) -> Task | None:
    """Reload the task as the database has it now and mirror it; None when it is gone."""
    task = db.session.get(Task, task_id, populate_existing=True)  # one SELECT, fresh
    if task is None:
        return None
    publish_task(task)
    return task


def move(task_id: int, from_statuses: tuple[str, ...], *, attempt: int | None = None,
         **values: Any) -> Task | None:
    """Set ``values`` on the task if it is still in ``from_statuses`` (and on run
    ``attempt``), and publish it, in one transaction: the Task, or None if it had moved on."""
    if not Task.transition(task_id, from_statuses, attempt=attempt, commit=False, **values):
        db.session.rollback()
        return None
    return publish_task_id(task_id)


class ProgressReporter:
    """Writes a task's progress at most every ``interval`` seconds (and always at the end),
    with the run's heartbeat in the database (``Task.heartbeat_at``): the reconciler takes a
    run for dead only when both its worker's Redis heartbeat and this one are stale. While
    the database is away a write is skipped, not fatal.

    Each write counts the task's deliveries (a GROUP BY over its rows), so without an
    explicit ``interval`` a big task writes less often: ``total / 50,000`` seconds, between
    0.25 s and 2 s."""

    MIN_INTERVAL, MAX_INTERVAL = 0.25, 2.0
    ROWS_PER_SECOND = 50_000  # recipients a write may count per second between writes

    def __init__(self, task_id: int, total: int, interval: float | None = None) -> None:
        self.task_id, self.total = task_id, max(total, 0)
        self.interval = self.interval_for(self.total) if interval is None else interval
        self._last = time.monotonic()  # the start was published: the first write can wait

    @classmethod
    def interval_for(cls, total: int) -> float:
        """Seconds between writes for a task of ``total`` recipients."""
        return max(cls.MIN_INTERVAL, min(cls.MAX_INTERVAL, total / cls.ROWS_PER_SECOND))

    def due(self) -> bool:
        """True once the last write is old enough for another."""
        return time.monotonic() - self._last >= self.interval

    def report(self, done: int, force: bool = False, note: str | None = None) -> None:
        """Record ``done`` of ``total`` (and ``note`` as the task's log, e.g. waiting for the
        send rate); skipped when the last write is too recent."""
        if not force and not self.due():
            return
        self._last = time.monotonic()
        try:
            self._write(done, note)
        except DBAPIError as exc:
            if not database_gone(exc):
                raise
            db.session.remove()  # the next write tries again

    def _write(self, done: int, note: str | None) -> None:
        task = db.session.get(Task, self.task_id)
        if task is None or task.status != RUNNING:
            return
        task.sync_delivery_counts()
        task.log = note
        task.progress = 100 if self.total == 0 else min(100, done * 100 // self.total)
        task.heartbeat_at = utcnow()
        publish_task(task)  # the task and its notification in one commit
