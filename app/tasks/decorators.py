"""``@background_task``: keeps the Task row of the running RQ job truthful and publishes
its progress; plus the helpers a job uses (its task id, progress, the cancel check)."""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask
from redis.exceptions import RedisError
from rq import get_current_job
from rq.job import Job

from app.extensions import db
from app.models import Delivery, Task
from app.models.task import CANCELED, FINISHED, PAUSED, QUEUED, RUNNING, WAITING
from app.models.types import utcnow
from app.queue import queues
from app.tasks.progress import publish_task, publish_task_id

log = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])

ACK_SECONDS = 60
CANCELED_LOG = "사용자가 취소하였습니다."
PAUSED_LOG = "사용자가 일시 중지하였습니다. 다시 시작하면 남은 받는 사람에게 보냅니다."


class CancelRequested(Exception):
    """Raised by a job that saw its user's cancel request between two units of work."""


class TransientError(Exception):
    """A failure worth retrying later (a busy or unreachable server)."""


class PauseRequested(Exception):
    """Raised by a job that saw its user's pause request between two units of work."""


class Superseded(Exception):
    """This run no longer owns its Task: the reconciler handed the task to a newer run."""


def stopping_key(task_id: int) -> str:
    """The Redis key a running job sets once it saw its stop and starts no more messages:
    whoever waits for it to end knows that it is only hearing its relay's last answers."""
    return f"mailroom:stopping:{task_id}"


# The run (``Task.attempts``) this horse is, set when the Task turns running.
_run: dict[str, int] = {}


def current_task_id() -> int:
    """The id of the Task whose job is running in this process."""
    job = get_current_job()
    if job is None:
        raise RuntimeError("not inside an RQ job")
    return int(job.id)


def cancel_requested(task_id: int) -> bool:
    """True once the user asked to cancel the task."""
    query = db.select(Task.cancel_requested_at).where(Task.id == task_id)
    return db.session.execute(query).scalar_one_or_none() is not None


def current_attempt() -> int | None:
    """The run of its Task this process is (None outside ``@background_task``)."""
    return _run.get("attempt")


def check_still_wanted(task_id: int) -> None:
    """Between two units of work: CancelRequested or PauseRequested once the user asked,
    Superseded when the task has been handed to another run (one query)."""
    row = db.session.execute(
        db.select(Task.cancel_requested_at, Task.pause_requested_at, Task.status,
                  Task.attempts).where(Task.id == task_id)
    ).one_or_none()
    if row is None or row.status != RUNNING or row.attempts != current_attempt():
        raise Superseded
    if row.cancel_requested_at is not None:
        raise CancelRequested
    if row.pause_requested_at is not None:
        raise PauseRequested


def summarize(exc: BaseException) -> str:
    """A one-line reason a user can read, not a traceback."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    summary = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return summary[:500]


class StopWatch:
    """Looks at the task's row every ``interval`` seconds from a thread of its own, instead
    of a query per message; ``event`` is set once the user asked to cancel or the run was
    superseded, and ``raise_if_stopped`` raises why."""

    def __init__(self, app: Flask, task_id: int, interval: float = 0.2) -> None:
        self.app, self.task_id, self.interval = app, task_id, interval
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
                    try:
                        check_still_wanted(self.task_id)
                    except (CancelRequested, PauseRequested, Superseded) as exc:
                        self.reason = exc
                        self.event.set()
                        self._acknowledge()
                        return
                    finally:
                        db.session.rollback()  # hold no transaction (SQLite locks) between looks
            finally:
                db.session.remove()

    def _acknowledge(self) -> None:
        try:
            queues(self.app).connection.set(stopping_key(self.task_id), 1, ex=ACK_SECONDS)
        except RedisError as exc:  # the canceler then waits only its grace, then forces it
            log.warning("task %s: stop not acknowledged in Redis: %s", self.task_id, exc)

    def raise_if_stopped(self) -> None:
        """CancelRequested, PauseRequested or Superseded once the watch saw it."""
        if self.reason is not None:
            raise self.reason


class ProgressReporter:
    """Writes a task's progress at most every ``interval`` seconds (and always at the end)."""

    def __init__(self, task_id: int, total: int, interval: float = 0.25) -> None:
        self.task_id, self.total, self.interval = task_id, max(total, 0), interval
        self._last = time.monotonic()  # the start was published: the first write can wait

    def due(self) -> bool:
        """True once the last write is old enough for another."""
        return time.monotonic() - self._last >= self.interval

    def report(self, done: int, force: bool = False, note: str | None = None) -> None:
        """Record ``done`` of ``total`` (and ``note`` as the task's log, e.g. waiting for the
        send rate); skipped when the last write is too recent."""
        if not force and not self.due():
            return
        self._last = time.monotonic()
        task = db.session.get(Task, self.task_id)
        if task is None or task.status != RUNNING:
            return
        task.sync_delivery_counts()
        task.log = note
        task.progress = 100 if self.total == 0 else min(100, done * 100 // self.total)
        db.session.commit()
        publish_task(task)


def _leave_running(task_id: int, status: str, **values: Any) -> None:
    """Move this run's task out of ``running`` with its delivery counts (claims left in
    flight settled as unknown), then publish it."""
    Delivery.settle_claims(task_id)
    Task.transition(task_id, (RUNNING,), attempt=current_attempt(), status=status,
                    **Task.delivery_counts(task_id), **values)
    publish_task_id(task_id)


def _finish(task_id: int, status: str, **values: Any) -> None:
    """End this run's task (finished or canceled)."""
    _leave_running(task_id, status, finished_at=utcnow(), **values)


def _pause(task_id: int) -> None:
    """Park this run's task: the recipients not yet served wait for ``resume``."""
    _leave_running(task_id, PAUSED, log=PAUSED_LOG)


def _on_error(job: Job, task_id: int, exc: Exception) -> None:
    db.session.rollback()
    reason = summarize(exc)
    if cancel_requested(task_id):
        job.retries_left = 0
        _finish(task_id, CANCELED, failed=True, log=CANCELED_LOG)
        return
    if db.session.scalar(db.select(Task.pause_requested_at).where(Task.id == task_id)):
        job.retries_left = 0  # paused: the user resumes it, not RQ's retry
        _pause(task_id)
        return
    if isinstance(exc, TransientError) and job.should_retry:
        log.warning("task %s: transient failure, RQ will retry: %s", task_id, reason)
        # The counts as they stand: the page must not show a stale count while it waits.
        _leave_running(task_id, QUEUED, log=f"일시적 오류, 다시 시도합니다: {reason}")
        return
    job.retries_left = 0  # a permanent failure: RQ must not run it again
    _finish(task_id, FINISHED, failed=True, log=reason)


def background_task(func: F) -> F:
    """Run ``func`` as the job of its Task: running → finished / failed / canceled."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        job = get_current_job()
        task_id = current_task_id()
        # running, as run number attempts + 1 — only if still waiting (one UPDATE).
        attempt = db.session.scalar(
            db.update(Task).where(Task.id == task_id, Task.status.in_(WAITING))
            .values(status=RUNNING, progress=0, started_at=utcnow(),
                    attempts=Task.attempts + 1)
            .returning(Task.attempts).execution_options(synchronize_session=False))
        db.session.commit()
        if attempt is None:
            log.info("task %s is no longer waiting (canceled?): not running it", task_id)
            return None
        _run["attempt"] = attempt
        publish_task_id(task_id)
        try:
            result = func(*args, **kwargs)
        except Superseded:
            log.warning("task %s: handed to a newer run; this one stops", task_id)
            job.retries_left = 0
            return None
        except CancelRequested:
            _finish(task_id, CANCELED, failed=True, log=CANCELED_LOG)
            return None
        except PauseRequested:
            job.retries_left = 0
            _pause(task_id)
            return None
        except Exception as exc:
            _on_error(job, task_id, exc)
            raise
        outcome = result if isinstance(result, dict) else {}
        _finish(task_id, FINISHED, progress=100, result=result,
                failed=bool(outcome.get("failed")), log=outcome.get("log"))
        return result

    return wrapper  # type: ignore[return-value]
