"""TaskService: the only code that talks to RQ. Every job mirrors a Task row,
committed first, with ``job_id == str(task.id)``."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import current_app
from redis.exceptions import RedisError
from rq import Retry
from rq.command import send_stop_job_command
from rq.exceptions import InvalidJobOperation, NoSuchJobError
from rq.job import Job

from app.extensions import db
from app.models import Delivery, Task
from app.models.task import (
    CANCELED,
    FINISHED,
    PAUSED,
    PENDING,
    QUEUED,
    RESERVED,
    RUNNING,
    WAITING,
)
from app.models.types import utcnow
from app.queue import INLINE, QueueSet, fetch_job, queues
from app.tasks.decorators import CANCELED_LOG, PAUSED_LOG, stopping_key
from app.tasks.progress import publish_task, publish_task_id
from app.tasks.quota import charge, check_quota
from app.utils.datetime_converter import check_reservation_window

log = logging.getLogger(__name__)
RESERVE_QUEUE = "high"  # reservations jump ahead of sends that were queued meanwhile


class EnqueueError(Exception):
    """The job could not be handed to Redis; the Task row has ended failed."""

    def __init__(self, task: Task, reason: str) -> None:
        super().__init__(reason)
        self.task = task


def retry_policy() -> Retry:
    """RQ's retry for transient failures, with the configured back-off."""
    intervals = [int(s) for s in str(current_app.config["TASK_RETRY_INTERVALS"]).split(",")]
    return Retry(max=len(intervals), interval=intervals)


def submit_job(task: Task, queue_set: QueueSet) -> Job:
    """Hand the Task's job, as the database keeps it, to Redis: scheduled at ``reserved_at``
    while the task is reserved, else queued now. Replaces a job of the same id."""
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
    return queue.enqueue_job(job)


class TaskService:
    """Create, enqueue, reserve and cancel the background tasks of one user."""

    def __init__(self, username: str, queue_name: str = "default") -> None:
        self.username = username
        self.queue_set = queues()
        self.queue = self.queue_set[queue_name]
        self.reserve_queue = self.queue_set[RESERVE_QUEUE]

    def _new_task(self, func: Callable[..., Any], args: tuple[Any, ...],
                  kwargs: dict[str, Any], description: str | None, queue_name: str,
                  timeout: int | None, recipients: list[str] | None,
                  fields: list[dict[str, str]] | None = None, **columns: Any) -> Task:
        """Commit the Task with its whole job (and its recipients, each with its own template
        fields): Redis can lose the job, the database can give it again."""
        if not description:
            raise ValueError("Description required to start background job")
        task = Task(name=func.__name__, description=description, username=self.username,
                    job_func=f"{func.__module__}.{func.__qualname__}",
                    job_args={"args": list(args), "kwargs": kwargs}, job_queue=queue_name,
                    job_timeout=timeout, **columns)
        if recipients is not None:
            task.recipient_count = len(recipients)
        db.session.add(task)
        db.session.flush()
        if recipients:
            db.session.execute(db.insert(Delivery), [
                {"task_id": task.id, "position": i, "recipient": r, "status": PENDING,
                 "fields": fields[i] if fields else None}
                for i, r in enumerate(recipients)])
        db.session.commit()
        return task

    def _fail(self, task: Task, exc: Exception) -> EnqueueError:
        log.error("enqueue of task %s failed: %s", task.id, exc)
        db.session.rollback()
        reason = f"Could not connect to Redis: {exc}" if isinstance(exc, RedisError) \
            else f"Error: {exc}"
        task.end(FINISHED, failed=True, log=reason)
        db.session.commit()
        publish_task(task)
        return EnqueueError(task, reason)

    def enqueue_task(self, func: Callable[..., Any], *args: Any, description: str | None = None,
                     timeout: int | None = None, recipient_count: int = 0,
                     recipients: list[str] | None = None, resent_from: int | None = None,
                     fields: list[dict[str, str]] | None = None,
                     template: dict[str, Any] | None = None, **kwargs: Any) -> Task:
        """Commit a ``queued`` Task, then enqueue ``func(*args, **kwargs)`` as its job.

        ``recipients`` (with their ``fields``) become the task's delivery rows, which the
        job reads, as it reads ``template`` (a MailTemplate snapshot) from the Task;
        ``resent_from`` links a resend to the task it repeats.
        """
        count = len(recipients or ()) or recipient_count
        check_quota(self.username, count)
        now = utcnow()  # charged when it is made: it goes at once
        task = self._new_task(func, args, kwargs, description, self.queue.name, timeout,
                              recipients, fields, status=QUEUED, template=template,
                              recipient_count=recipient_count, resent_from=resent_from,
                              charged=count, charged_at=now, created_at=now)
        try:
            submit_job(task, self.queue_set)
        except (RedisError, OSError) as exc:
            raise self._fail(task, exc) from exc
        publish_task(task)
        return task

    # -- reservations ------------------------------------------------------------------

    def check_time(self, scheduled_time: datetime) -> None:
        """ValueError unless ``scheduled_time`` (aware) is inside the reservation window."""
        if scheduled_time.tzinfo is None:
            raise ValueError("예약 시각에 시간대가 없습니다.")
        config = current_app.config
        check_reservation_window(scheduled_time, utcnow(), config["RESERVATION_MIN_LEAD_SECONDS"],
                                 config["RESERVATION_MAX_DAYS"])

    def reserve_task(self, scheduled_time: datetime, func: Callable[..., Any], *args: Any,
                     description: str | None = None, timeout: int | None = None,
                     recipient_count: int = 0, recipients: list[str] | None = None,
                     fields: list[dict[str, str]] | None = None,
                     template: dict[str, Any] | None = None, **kwargs: Any) -> Task:
        """Commit a ``reserved`` Task, then schedule its job at ``scheduled_time`` (aware);
        the rest as ``enqueue_task``."""
        self.check_time(scheduled_time)
        # Charged when it fires (checked again then); refused now if it could not fit.
        check_quota(self.username, len(recipients or ()) or recipient_count,
                    reservation_at=scheduled_time)
        task = self._new_task(func, args, kwargs, description, RESERVE_QUEUE, timeout,
                              recipients, fields, status=RESERVED, reserved_at=scheduled_time,
                              template=template, recipient_count=recipient_count)
        try:
            submit_job(task, self.queue_set)
        except (RedisError, OSError) as exc:
            raise self._fail(task, exc) from exc
        publish_task(task)
        return task

    def _registry_key(self) -> str:
        return self.reserve_queue.scheduled_job_registry.key

    def reschedule(self, task_id: int, new_time: datetime) -> Task | None:
        """Move a reservation to ``new_time``; None when its job has already left the registry."""
        self.check_time(new_time)
        connection = self.queue_set.connection
        score = new_time.timestamp()
        # XX: only move a job that is still waiting there (the scheduler may have taken it).
        moved = connection.zadd(self._registry_key(), {str(task_id): score}, xx=True, ch=True)
        if not moved and connection.zscore(self._registry_key(), str(task_id)) != score:
            return None
        if not Task.transition(task_id, (RESERVED,), reserved_at=new_time):
            return None
        return publish_task_id(task_id)

    def send_now(self, task_id: int) -> Task | None:
        """Queue a reservation at once, charging the quota now (QuotaExceeded leaves it
        reserved); None when its job has already left the registry."""
        task = db.session.get(Task, task_id)
        if task is None or task.status != RESERVED:
            return None
        charge(task, task.recipient_count)
        connection = self.queue_set.connection
        if not connection.zrem(self._registry_key(), str(task_id)):
            db.session.rollback()
            return None
        try:
            self.reserve_queue.enqueue_job(fetch_job(str(task_id), connection))
        except NoSuchJobError:
            db.session.rollback()
            return None
        Task.transition(task_id, (RESERVED,), status=QUEUED)
        return publish_task_id(task_id)

    # -- cancel ------------------------------------------------------------------------

    def _drop_job(self, task_id: int) -> None:
        """Take a job that has not started out of its queue and every registry."""
        try:
            job = fetch_job(str(task_id), self.queue_set.connection)
            job.delete(remove_from_queue=True)
        except NoSuchJobError:
            pass
        except RedisError as exc:
            # The Task is canceled already, and a job whose Task is not waiting never runs.
            log.warning("could not remove job %s from Redis: %s", task_id, exc)

    def _wait_until_stopped(self, task_id: int, seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while True:
            db.session.expire_all()
            task = db.session.get(Task, task_id)
            if task is None or task.status != RUNNING:
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)

    def _stopping(self, task_id: int) -> bool:
        """True once the running job said it saw its stop (it sends nothing new)."""
        try:
            return bool(self.queue_set.connection.exists(stopping_key(task_id)))
        except RedisError:
            return False

    def _stop_running(self, task_id: int) -> None:
        """Ask the job to stop between two recipients; kill its work horse if it does not.

        A job that saw the stop within ``CANCEL_GRACE_SECONDS`` starts no new message; it
        gets ``CANCEL_DRAIN_SECONDS`` more to hear its relay's answers for the messages
        already on the wire, so they end delivered or refused, not unknown."""
        config = current_app.config
        if self._wait_until_stopped(task_id, float(config["CANCEL_GRACE_SECONDS"])):
            return
        if self._stopping(task_id) and self._wait_until_stopped(
                task_id, float(config["CANCEL_DRAIN_SECONDS"])):
            return
        try:
            send_stop_job_command(self.queue_set.connection, str(task_id))
        except (NoSuchJobError, InvalidJobOperation, RedisError) as exc:
            log.warning("stop-job for task %s not sent: %s", task_id, exc)
        if self._wait_until_stopped(task_id, 10):
            return
        # No worker answered (it died with the job): nothing runs it any more.
        Task.transition(task_id, (RUNNING,), status=CANCELED, failed=True,
                        finished_at=utcnow(), log=CANCELED_LOG)

    def cancel_task(self, task_id: int) -> Task | None:
        """Cancel a waiting or running task; the canceled Task, or None when it had ended.

        Answers only once nothing more will be sent for the task.
        """
        acted = False
        # A running job can fall back to waiting (a retry) while we stop it: look again.
        for _ in range(3):
            now = utcnow()
            if Task.transition(task_id, (*WAITING, PAUSED), status=CANCELED, failed=True,
                               cancel_requested_at=now, finished_at=now, log=CANCELED_LOG):
                self._drop_job(task_id)
                acted = True
                break
            if not Task.transition(task_id, (RUNNING,), cancel_requested_at=now):
                break
            acted = True
            self._stop_running(task_id)
        if not acted:
            return None  # it had ended (finished, failed or canceled) before we came
        task = publish_task_id(task_id)
        return task if task is not None and task.status == CANCELED else None

    # -- pause and resume -----------------------------------------------------------

    def pause_task(self, task_id: int) -> Task | None:
        """Pause a queued or running send; the paused Task, or None when it was neither.

        A queued one leaves its queue at once; a running one stops between two messages on
        every connection (its messages in flight are settled first).
        """
        now = utcnow()
        if Task.transition(task_id, (QUEUED,), status=PAUSED, pause_requested_at=now,
                           log=PAUSED_LOG):
            self._drop_job(task_id)
        elif Task.transition(task_id, (RUNNING,), pause_requested_at=now):
            grace = float(current_app.config["CANCEL_GRACE_SECONDS"])
            self._wait_until_stopped(task_id, grace + 10)
        task = publish_task_id(task_id)
        return task if task is not None and task.status == PAUSED else None

    def resume_task(self, task_id: int) -> Task | None:
        """Queue a paused send again for its recipients not yet served; None if not paused.
        A send whose charge has left the quota's window is charged again for those
        (QuotaExceeded keeps it paused)."""
        task = db.session.get(Task, task_id)
        if task is None or task.status != PAUSED:
            return None
        charge(task, Delivery.count(task_id, PENDING), fresh=False)
        if not Task.transition(task_id, (PAUSED,), status=QUEUED, pause_requested_at=None,
                               log=None):
            return None
        task = db.session.get(Task, task_id)
        assert task is not None
        db.session.refresh(task)
        try:
            submit_job(task, self.queue_set)
        except (RedisError, OSError) as exc:
            log.warning("resume of task %s could not reach Redis: %s", task_id, exc)
            # The reconciler submits it as soon as Redis answers: the Task is queued.
        return publish_task_id(task_id)

    def cancel_reserve(self, task_id: int) -> Task | None:
        """Cancel a reservation: as ``cancel_task`` (a job already started is stopped)."""
        return self.cancel_task(task_id)
