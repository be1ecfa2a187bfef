"""Keep Task rows truthful when their jobs ended outside ``@background_task``: a killed or
stopped work horse, a worker that died, a job that vanished from Redis."""

from __future__ import annotations

import logging
from datetime import timedelta

from redis import Redis
from rq import Worker
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

from app.extensions import db
from app.models import Task
from app.models.task import CANCELED, FINISHED, QUEUED, RESERVED, RUNNING, UNFINISHED
from app.models.types import utcnow
from app.tasks.decorators import CANCELED_LOG
from app.tasks.progress import publish_task

log = logging.getLogger(__name__)

HORSE_DIED = "작업 프로세스가 비정상 종료되었습니다."
WORKER_GONE = "작업을 맡은 워커가 사라졌습니다."
JOB_LOST = "Redis에서 작업이 사라졌습니다."
# A Task is committed a moment before its job reaches Redis: leave young rows alone.
GRACE = timedelta(seconds=60)
ENDED_JOB = (JobStatus.FINISHED, JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED)
WAITING_JOB = {
    QUEUED: (JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.STARTED, JobStatus.DEFERRED),
    RESERVED: (JobStatus.SCHEDULED, JobStatus.QUEUED, JobStatus.STARTED),
}


def task_for_job(job_id: str) -> Task | None:
    """The Task mirrored by RQ job ``job_id`` (None for jobs that are not tasks)."""
    return db.session.get(Task, int(job_id)) if job_id.isdigit() else None


def _end_unfinished(task: Task, log_text: str) -> None:
    """End ``task`` canceled (when the user asked) or failed, and publish it."""
    task.sync_delivery_counts()
    if task.cancel_requested_at is not None:
        task.end(CANCELED, failed=True, log=CANCELED_LOG)
    else:
        task.end(FINISHED, failed=True, log=log_text)
    db.session.commit()
    publish_task(task)


def reconcile_failed_job(job: Job, exc_string: str) -> Task | None:
    """After RQ handled a failure: a retry puts the Task back to queued; otherwise an
    unfinished Task ends canceled (if the user asked) or failed."""
    task = task_for_job(job.id)
    if task is None or not task.is_unfinished:
        return task
    if job.get_status(refresh=True) in (JobStatus.QUEUED, JobStatus.SCHEDULED):
        task.status = QUEUED
        db.session.commit()
        publish_task(task)
        return task
    last_line = exc_string.strip().splitlines()[-1] if exc_string.strip() else ""
    _end_unfinished(task, f"{HORSE_DIED} {last_line}".strip())
    return task


def _stale_reason(task: Task, connection: Redis) -> str | None:
    """Why ``task`` can no longer make progress, or None while it still can."""
    try:
        job = Job.fetch(task.job_id, connection=connection)
    except NoSuchJobError:
        return JOB_LOST
    status = job.get_status()
    if task.status == RUNNING:
        if status in ENDED_JOB:
            return HORSE_DIED
        key = Worker.redis_worker_namespace_prefix + (job.worker_name or "")
        if status == JobStatus.STARTED and not connection.exists(key):
            return WORKER_GONE
        return None
    return None if status in WAITING_JOB[task.status] else JOB_LOST


def reconcile_stale_tasks(connection: Redis) -> int:
    """End unfinished Tasks whose job vanished or whose worker died; how many were ended."""
    query = (db.select(Task).where(Task.status.in_(UNFINISHED),
                                   Task.created_at < utcnow() - GRACE)
             .order_by(Task.id).limit(500))
    ended = 0
    for task in db.session.scalars(query).all():
        reason = _stale_reason(task, connection)
        if reason is not None:
            log.warning("task %s (%s) cannot go on: %s", task.id, task.status, reason)
            _end_unfinished(task, reason)
            ended += 1
    return ended
