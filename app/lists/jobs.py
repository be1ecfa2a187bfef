"""The import job: a list's file read and merged into its members a batch at a time, with
the progress bar, cancel and pause of any task. Each batch commits its rows with where
the import got to, so a run that stops (a crash, a deploy, a pause) is taken up after the
last line written: nothing applied twice, nothing half-applied unsaid."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_babel import gettext as _

from app.extensions import after_bulk_write, db
from app.lists.importer import batches, rows, summary, write_batch
from app.models import ListImport
from app.models.types import utcnow
from app.tasks.decorators import (
    CancelRequested,
    ProgressReporter,
    Run,
    StopWatch,
    background_task,
)


def _close(job: ListImport) -> None:
    """The import is over: its file is dropped, the report stays; commit."""
    job.data = None
    job.finished_at = utcnow()
    db.session.commit()


@background_task
def import_members(run: Run) -> dict[str, Any]:
    """Merge the task's import into its list, from the line after the last one written."""
    job = db.session.scalar(db.select(ListImport).where(ListImport.task_id == run.task_id))
    if job is None:
        return {"failed": True, "log": _("가져올 파일을 찾을 수 없습니다.")}
    if job.data is not None:
        _read(run, job)
        job.done = True
        _close(job)
        after_bulk_write("list_members", job.added)
    return {**job.report(), "log": summary(job)}


def _read(run: Run, job: ListImport) -> None:
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    text = job.data.decode(job.encoding) if job.data is not None else ""
    progress = ProgressReporter(run.task_id, job.lines, interval=0.5)
    with StopWatch(app, run.task_id, run.number) as watch:
        for batch in batches(rows(text), job.line):
            write_batch(job, batch)
            progress.report(job.line, note=summary(job))
            if watch.event.is_set():
                break
    try:
        watch.raise_if_stopped()
    except CancelRequested:
        _close(job)  # canceled: what was written stays, and the report says how far
        raise
