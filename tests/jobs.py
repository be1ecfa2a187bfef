"""Job functions the tests enqueue on real workers (importable by ``python worker.py``)."""

from __future__ import annotations

import os
from typing import Any

from flask import current_app

from app.extensions import db
from app.models import Notification, Task
from app.models.types import utcnow
from app.tasks.decorators import (
    CancelRequested,
    ProgressReporter,
    Run,
    TransientError,
    background_task,
)


def smoke_write(label: str) -> dict[str, object]:
    """Write a Task row from inside the worker's app context; return what it saw."""
    task = Task(name="smoke", description=label, username="smoke", status="finished")
    db.session.add(task)
    db.session.commit()
    return {"task_id": task.id, "app": current_app.name, "pid": os.getpid()}


# -- @background_task jobs, run in-process by tests/unit/test_background_task.py -------------

def _progress_entry(task_id: int) -> dict[str, Any] | None:
    """This task's entry in its user's ``task_progress`` notification, as stored now."""
    task = db.session.get(Task, task_id)
    assert task is not None
    row = db.session.scalar(db.select(Notification).filter_by(username=task.username,
                                                              name="task_progress"))
    entries = row.entries if row else []
    return next((e for e in entries if e.get("task_id") == task_id), None)


@background_task
def returns_value(run: Run, value: int) -> dict[str, object]:
    """Return a result, and what the Task row and its notification said while running."""
    task_id = run.task_id
    task = db.session.get(Task, task_id)
    assert task is not None
    entry = _progress_entry(task_id)
    return {"doubled": value * 2, "status_seen": task.status,
            "started_seen": task.started_at is not None,
            "entry_seen": {"status": entry["status"], "progress": entry["progress"]}
            if entry else None}


@background_task
def counts_to(run: Run, total: int) -> dict[str, object]:
    """Report progress after each unit; return the Task's and notification's progress seen."""
    task_id = run.task_id
    reporter = ProgressReporter(task_id, total, interval=0)
    seen: list[list[int]] = []
    for done in range(1, total + 1):
        reporter.report(done)
        task = db.session.get(Task, task_id)
        entry = _progress_entry(task_id)
        assert task is not None and entry is not None
        seen.append([task.progress, entry["progress"]])
    return {"seen": seen}


@background_task
def throttled_progress(run: Run) -> dict[str, object]:
    """Report 1, 2 and 3 of 4 within one long interval: only the forced reports write."""
    task_id = run.task_id
    reporter = ProgressReporter(task_id, 4, interval=3600)
    seen = []
    for done, force in ((1, True), (2, False), (3, True)):
        reporter.report(done, force=force)
        task = db.session.get(Task, task_id)
        assert task is not None
        seen.append(task.progress)
    return {"seen": seen}


@background_task
def fails(run: Run, message: str) -> None:
    """A permanent failure."""
    raise ValueError(message)


@background_task
def fails_transiently(run: Run, message: str) -> None:
    """A failure worth retrying (every time)."""
    raise TransientError(message)


@background_task
def cancels_itself(run: Run) -> None:
    """A job that saw its user's cancel request."""
    raise CancelRequested()


@background_task
def fails_after_cancel_request(run: Run, message: str) -> None:
    """The user asks to cancel, then the job fails before it noticed: it ends canceled."""
    task_id = run.task_id
    Task.transition(task_id, ("running",), cancel_requested_at=utcnow())
    raise ValueError(message)


@background_task
def writes_marker(run: Run, path: str) -> str:
    """Leave a file behind: proof that the body ran."""
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("ran")
    return path


@background_task
def where_am_i(run: Run) -> dict[str, int]:
    """The process a job ran in (a send's inline/fork choice depends on its recipients)."""
    return {"pid": os.getpid()}
