"""Keep a Task row truthful when its job failed outside ``@background_task``
(a killed or stopped work horse, a crash before the decorator ran)."""

from __future__ import annotations

from rq.job import Job, JobStatus

from app.extensions import db
from app.models import Task
from app.models.task import CANCELED, FINISHED, QUEUED

HORSE_DIED = "작업 프로세스가 비정상 종료되었습니다."


def task_for_job(job_id: str) -> Task | None:
    """The Task mirrored by RQ job ``job_id`` (None for jobs that are not tasks)."""
    return db.session.get(Task, int(job_id)) if job_id.isdigit() else None


def reconcile_failed_job(job: Job, exc_string: str) -> Task | None:
    """After RQ handled a failure: a retry puts the Task back to queued; otherwise an
    unfinished Task ends canceled (if the user asked) or failed."""
    task = task_for_job(job.id)
    if task is None or not task.is_unfinished:
        return task
    task.sync_delivery_counts()
    status = job.get_status(refresh=True)
    if status in (JobStatus.QUEUED, JobStatus.SCHEDULED):
        task.status = QUEUED
    elif task.cancel_requested_at is not None:
        task.end(CANCELED, failed=True)
    else:
        last_line = exc_string.strip().splitlines()[-1] if exc_string.strip() else ""
        task.end(FINISHED, failed=True, log=f"{HORSE_DIED} {last_line}".strip())
    db.session.commit()
    from app.tasks.progress import publish_task

    publish_task(task)
    return task
