"""Handing a Task's job to Redis, as the database keeps it: the one place a job is made
(TaskService for new tasks, the reconciler and the worker for tasks Redis lost or a run
handed back), and what a refusal means for the Task."""

from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l
from redis.exceptions import OutOfMemoryError, ReadOnlyError

from app.models import Task
from app.models.task import RESERVED
from app.queue import INLINE, Job, JobRetry, QueueSet, retry_after

QUEUE_FULL = _l("작업 대기열(Redis)이 가득 차 지금은 넣지 못했고, 대기열에 자리가 나는 대로 "
                 "보냅니다.")


class EnqueueError(Exception):
    """The job could not be handed to Redis; the Task row has ended failed."""

    def __init__(self, task: Task, reason: str) -> None:
        super().__init__(reason)
        self.task = task


class QueueFull(Exception):
    """Redis answered but refused to take the job (full, or read-only during a failover):
    the Task stays waiting and the reconciler hands it over as soon as Redis takes it."""

    def __init__(self, task: Task, reason: str) -> None:
        super().__init__(reason)
        self.task = task


def refuses_writes(exc: Exception) -> bool:
    """True for a Redis that is there but will not take a write right now."""
    return isinstance(exc, OutOfMemoryError | ReadOnlyError)


def retry_policy() -> JobRetry:
    """RQ's retry for transient failures, with the configured back-off."""
    return retry_after([int(s) for s in str(current_app.config["TASK_RETRY_INTERVALS"])
                        .split(",")])


def submit_job(task: Task, queue_set: QueueSet, at_front: bool = False) -> Job:
    """Hand the Task's job, as the database keeps it, to Redis: scheduled at ``reserved_at``
    while the task is reserved, else queued now (``at_front``: before the others, for a
    send that was already under way). Replaces a job of the same id."""
    spec = task.job_args or {}
    queue = queue_set[task.job_queue or "default"]
    # A send to a few recipients runs in the worker's own process (app/worker/rqworker.py).
    inline = 0 < task.recipient_count <= int(current_app.config["WORKER_INLINE_MAX_RECIPIENTS"])
    job = queue.create_job(task.job_func, args=spec.get("args", []),
                           kwargs=spec.get("kwargs", {}), timeout=task.job_timeout,
                           description=task.description, job_id=task.job_id,
                           retry=retry_policy(), meta={INLINE: True} if inline else None)
    if task.status == RESERVED and task.reserved_at is not None:
        return queue.schedule_job(job, task.reserved_at)
    return queue.enqueue_job(job, at_front=at_front)
