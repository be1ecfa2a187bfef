"""The stop watch of a running job: from a thread of its own it looks at the task's row
every ``interval`` seconds (instead of a query per message) and sets ``event`` once the run
should stop between two units of work — the user's cancel or pause, a newer run of the same
task, or the worker shutting down (a deploy) — with the reason kept for the job to raise."""

from __future__ import annotations

import threading

from flask import Flask
from sqlalchemy.exc import DBAPIError

from app.extensions import db
from app.models import Task
from app.models.task import RUNNING
from app.tasks.errors import CancelRequested, PauseRequested, ShutdownRequested, Superseded
from app.tasks.patience import database_gone

# Set from a signal handler (the worker's warm shutdown): a plain flag, never a lock.
_shutdown = {"requested": False}


def request_shutdown() -> None:
    """This process is going away: the job under way stops between two messages and hands
    its task back (safe to call from a signal handler)."""
    _shutdown["requested"] = True


def shutdown_requested() -> bool:
    """True once ``request_shutdown`` was called in this process."""
    return _shutdown["requested"]


def check_still_wanted(task_id: int, attempt: int | None) -> None:
    """Between two units of work: CancelRequested or PauseRequested once the user asked,
    Superseded when the task has been handed to another run (one query)."""
    row = db.session.execute(
        db.select(Task.cancel_requested_at, Task.pause_requested_at, Task.status,
                  Task.attempts).where(Task.id == task_id)
    ).one_or_none()
    if row is None or row.status != RUNNING or row.attempts != attempt:
        raise Superseded
    if row.cancel_requested_at is not None:
        raise CancelRequested
    if row.pause_requested_at is not None:
        raise PauseRequested


class StopWatch:
    """``with StopWatch(app, task_id, attempt) as watch:`` — ``watch.event`` is set once the
    run should stop, and ``raise_if_stopped`` raises why."""

    def __init__(self, app: Flask, task_id: int, attempt: int | None,
                 interval: float = 0.2) -> None:
        self.app, self.task_id, self.attempt, self.interval = app, task_id, attempt, interval
        self.event = threading.Event()
        self.reason: Exception | None = None
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="stopwatch", daemon=True)

    def __enter__(self) -> StopWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()

    def _watch(self) -> None:
        with self.app.app_context():
            try:
                while not self._done.wait(self.interval):
                    reason = self._look()
                    if reason is not None:
                        self.reason = reason
                        self.event.set()
                        return
            finally:
                db.session.remove()

    def _look(self) -> Exception | None:
        """Why the run should stop now; None to go on (also while the database is away: a
        cancel or pause is seen once it is back)."""
        if shutdown_requested():
            return ShutdownRequested()
        try:
            check_still_wanted(self.task_id, self.attempt)
        except (CancelRequested, PauseRequested, Superseded) as exc:
            return exc
        except DBAPIError as exc:
            if not database_gone(exc):
                raise
            db.session.remove()
        finally:
            try:
                db.session.rollback()  # hold no transaction (SQLite locks) between looks
            except DBAPIError:
                db.session.remove()
        return None

    def raise_if_stopped(self) -> None:
        """CancelRequested, PauseRequested, ShutdownRequested or Superseded once seen."""
        if self.reason is not None:
            raise self.reason
