"""What a user does to a task once it exists: move or send a reservation now, cancel,
pause and resume. Each control records the request and answers within about
``ANSWER_SECONDS`` (a pause) or ``CANCEL_GRACE_SECONDS`` (a cancel, "within about a
second"): done, or asked (the job stops between two messages and hears its
relay out; a run stuck elsewhere gets RQ's stop-job command from the reconciler)."""

from __future__ import annotations

import logging
import time
from datetime import datetime
from typing import Any

from flask import current_app
from flask_babel import gettext as _

from app.extensions import db
from app.models import Delivery, Task
from app.models.task import CANCELED, PAUSED, PENDING, QUEUED, RESERVED, RUNNING, WAITING
from app.models.types import utcnow
from app.queue import QueueSet, RedisError, drop_job, enqueue_existing
from app.tasks.decorators import CANCELED_LOG, PAUSED_LOG
from app.tasks.progress import move, publish_task_id
from app.tasks.quota import charge
from app.tasks.submit import QueueFull, submit_job
from app.utils.datetime_converter import check_reservation_window

log = logging.getLogger(__name__)
ANSWER_SECONDS = 0.6  # a pause answers within about this, done or "asked"


class TaskControls:
    """The controls of ``TaskService`` (which sets ``queue_set`` and ``reserve_queue``)."""

    queue_set: QueueSet
    reserve_queue: Any  # the queue reservations go to

    def check_time(self, scheduled_time: datetime) -> None:
        """ValueError unless ``scheduled_time`` (aware) is inside the reservation window."""
        if scheduled_time.tzinfo is None:
            raise ValueError(_("예약 시각에 시간대가 없습니다."))
        config = current_app.config
        check_reservation_window(scheduled_time, utcnow(), config["RESERVATION_MIN_LEAD_SECONDS"],
                                 config["RESERVATION_MAX_DAYS"])

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
        return move(task_id, (RESERVED,), reserved_at=new_time)

    def send_now(self, task_id: int) -> Task | None:
        """Queue a reservation at once, charging the quota now (QuotaExceeded leaves it
        reserved; a list send is charged when its run takes the members); None when its
        job has already left the registry."""
        task = db.session.get(Task, task_id)
        if task is None or task.status != RESERVED:
            return None
        if task.list_id is None:
            charge(task, task.recipient_count)
        connection = self.queue_set.connection
        if not connection.zrem(self._registry_key(), str(task_id)):
            db.session.rollback()
            return None
        if not enqueue_existing(self.reserve_queue, str(task_id)):
            db.session.rollback()
            return None
        return move(task_id, (RESERVED,), status=QUEUED)

    # -- cancel ------------------------------------------------------------------------

    def _drop_job(self, task_id: int) -> None:
        """Take a job that has not started out of its queue and every registry."""
        try:
            drop_job(self.queue_set.connection, str(task_id))
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

    def _answer_wait(self, cancel: bool = False) -> float:
        """How long a control waits for a running job to stop before it answers "asked"
        (the job stops between two messages, and hears its relay out for
        ``CANCEL_DRAIN_SECONDS``; a run stuck elsewhere gets RQ's stop-job command from
        the reconciler): a cancel ``CANCEL_GRACE_SECONDS``, a pause at most
        ``ANSWER_SECONDS`` of it."""
        grace = float(current_app.config["CANCEL_GRACE_SECONDS"])
        return grace if cancel else min(grace, ANSWER_SECONDS)

    def cancel_task(self, task_id: int) -> Task | None:
        """Cancel a waiting or running task; the Task — canceled, or still running with its
        cancel recorded when the job has not stopped yet — or None when it had ended."""
        for _attempt in range(3):
            now = utcnow()
            if Task.transition(task_id, (*WAITING, PAUSED), status=CANCELED, failed=True,
                               cancel_requested_at=now, finished_at=now, log=_(CANCELED_LOG)):
                self._drop_job(task_id)
                break
            if not Task.transition(task_id, (RUNNING,), cancel_requested_at=now):
                return None  # it had ended (finished, failed or canceled) before we came
            self._wait_until_stopped(task_id, self._answer_wait(cancel=True))
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
                           log=_(PAUSED_LOG)):
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

