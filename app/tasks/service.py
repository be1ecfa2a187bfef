"""TaskService: the door to RQ for the views. Every job mirrors a Task row, committed
first, with ``job_id == str(task.id)`` (how a job is made: ``submit.py``)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import current_app
from redis.exceptions import RedisError
from rq.exceptions import NoSuchJobError

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
from app.queue import fetch_job, queues
from app.tasks.decorators import CANCELED_LOG, PAUSED_LOG
from app.tasks.progress import publish_task, publish_task_id
from app.tasks.quota import charge, check_quota
from app.tasks.submit import (
    QUEUE_FULL,
    EnqueueError,
    QueueFull,
    refuses_writes,
    retry_policy,
    submit_job,
)
from app.utils.datetime_converter import check_reservation_window

__all__ = ["QUEUE_FULL", "EnqueueError", "QueueFull", "TaskService", "retry_policy",
           "submit_job"]
log = logging.getLogger(__name__)
RESERVE_QUEUE = "high"  # reservations jump ahead of sends that were queued meanwhile
ANSWER_SECONDS = 0.6  # a pause or cancel answers within about this, done or "asked"


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
        self._submit(task)
        return task

    def _submit(self, task: Task) -> None:
        """Hand the new Task's job to Redis: EnqueueError (the Task ends failed) when Redis
        cannot be reached, QueueFull (the Task waits) when it refuses writes."""
        try:
            submit_job(task, self.queue_set)
        except (RedisError, OSError) as exc:
            if not refuses_writes(exc):
                raise self._fail(task, exc) from exc
            log.warning("task %s waits: Redis refuses writes (%s)", task.id, exc)
            publish_task(task)
            raise QueueFull(task, str(exc)) from exc
        publish_task(task)

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
        self._submit(task)
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

    def _answer_wait(self) -> float:
        """How long a control waits for a running job to stop before it answers "asked"
        (the job stops between two messages, and hears its relay out for
        ``CANCEL_DRAIN_SECONDS``; a run stuck elsewhere gets RQ's stop-job command from
        the reconciler)."""
        return min(float(current_app.config["CANCEL_GRACE_SECONDS"]), ANSWER_SECONDS)

    def cancel_task(self, task_id: int) -> Task | None:
        """Cancel a waiting or running task; the Task — canceled, or still running with its
        cancel recorded when the job has not stopped yet — or None when it had ended."""
        for _ in range(3):
            now = utcnow()
            if Task.transition(task_id, (*WAITING, PAUSED), status=CANCELED, failed=True,
                               cancel_requested_at=now, finished_at=now, log=CANCELED_LOG):
                self._drop_job(task_id)
                break
            if not Task.transition(task_id, (RUNNING,), cancel_requested_at=now):
                return None  # it had ended (finished, failed or canceled) before we came
            self._wait_until_stopped(task_id, self._answer_wait())
            status = db.session.scalar(db.select(Task.status).where(Task.id == task_id))
            if status not in WAITING:  # a run that fell back to waiting (a retry): again
                break
        task = publish_task_id(task_id)
        return task if task is not None and task.status in (CANCELED, RUNNING) else None

    def cancel_reserve(self, task_id: int) -> Task | None:
        """Cancel a reservation: as ``cancel_task`` (a job already started is stopped)."""
        return self.cancel_task(task_id)

    # -- pause and resume -----------------------------------------------------------

    def pause_task(self, task_id: int) -> Task | None:
        """Pause a queued or running send; the Task — paused, or still running with its
        pause recorded (it stops between two messages, its messages in flight settled
        first) — or None when it was neither queued nor running."""
        now = utcnow()
        if Task.transition(task_id, (QUEUED,), status=PAUSED, pause_requested_at=now,
                           log=PAUSED_LOG):
            self._drop_job(task_id)
        elif Task.transition(task_id, (RUNNING,), pause_requested_at=now):
            self._wait_until_stopped(task_id, self._answer_wait())
        else:
            return None
        task = publish_task_id(task_id)
        return task if task is not None and task.status in (PAUSED, RUNNING) else None

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
            publish_task_id(task_id)
            raise QueueFull(task, str(exc)) from exc
        return publish_task_id(task_id)

