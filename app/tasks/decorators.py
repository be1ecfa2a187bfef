"""``@background_task``: keeps the Task row of the running RQ job truthful and publishes
its progress. The pieces a job uses live beside it: ``errors.py`` (why a run stops),
``stopwatch.py`` (the cancel, pause and shutdown watch), ``progress.py`` (the progress
writer), ``inflight.py`` (what was on the wire when a run ended).

Every write of the run's state waits out a database that went away (``patience.py``)
instead of failing the run, so a restart of PostgreSQL never strands a task.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask_babel import gettext as _
from redis.exceptions import RedisError

from app.extensions import db
from app.i18n import N_, written_in
from app.models import Delivery, Task
from app.models.task import CANCELED, FINISHED, PAUSED, QUEUED, RUNNING, WAITING
from app.models.types import utcnow
from app.queue import Job, current_job, queues
from app.tasks import inflight
from app.tasks.errors import (
    CancelRequested,
    PauseRequested,
    ShutdownRequested,
    Superseded,
    TransientError,
    summarize,
)
from app.tasks.patience import patiently
from app.tasks.progress import ProgressReporter, move, publish_task_id
from app.tasks.stopwatch import StopWatch

__all__ = ["CANCELED_LOG", "HANDED_BACK_LOG", "PAUSED_LOG", "CancelRequested",
           "PauseRequested", "ProgressReporter", "Run", "ShutdownRequested", "StopWatch",
           "Superseded", "TransientError", "background_task", "cancel_requested",
           "summarize"]

log = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])

# What the log says (in the task's language: ``_(CANCELED_LOG)`` where it is written)
CANCELED_LOG = N_("사용자가 취소하였습니다.")
PAUSED_LOG = N_("사용자가 일시 중지하였습니다. 다시 시작하면 남은 받는 사람에게 보냅니다.")
HANDED_BACK_LOG = N_("워커가 멈추어(배포나 재시작) 남은 받는 사람을 다시 대기열에 넣었습니다.")
GAVE_UP = N_("보내지 못했습니다")
DB_PATIENCE = 120.0  # seconds a run waits for a database that went away
RUN_META = "mailroom_run"  # the run a job last was: RQ's retry of it may take its Task over

@dataclass(frozen=True)
class Run:
    """Who a job is: its task, and which run of it (``Task.attempts``) — handed to the job
    function by ``@background_task`` as its first argument."""

    task_id: int
    number: int


def cancel_requested(task_id: int) -> bool:
    """True once the user asked to cancel the task."""
    query = db.select(Task.cancel_requested_at).where(Task.id == task_id)
    return db.session.execute(query).scalar_one_or_none() is not None


def _settle_claims(task_id: int) -> None:
    inflight.settle_claims(queues().connection, task_id)


def _leave_running(run: Run, status: str, **values: Any) -> None:
    """Move this run's task out of ``running`` with its delivery counts (claims left in
    flight settled from the ledger), then publish it — waiting for the database if needed."""
    def leave() -> None:
        _settle_claims(run.task_id)
        move(run.task_id, (RUNNING,), attempt=run.number, status=status,
             **{**Task.delivery_counts(run.task_id), **values})

    patiently(leave, DB_PATIENCE, f"task {run.task_id}: leaving running for {status}")


def _finish(run: Run, status: str, **values: Any) -> None:
    """End this run's task (finished or canceled)."""
    _leave_running(run, status, finished_at=utcnow(), **values)


def _pause(run: Run) -> None:
    """Park this run's task: the recipients not yet served wait for ``resume``."""
    _leave_running(run, PAUSED, log=_(PAUSED_LOG))


def _on_error(job: Job, run: Run, exc: Exception) -> None:
    """After the job raised: canceled, paused, queued for RQ's retry, or failed."""
    patiently(lambda: _decide(job, run, exc), DB_PATIENCE, f"task {run.task_id}: failure")


def _decide(job: Job, run: Run, exc: Exception) -> None:
    db.session.rollback()
    task_id = run.task_id
    reason = summarize(exc)
    if cancel_requested(task_id):
        job.retries_left = 0
        _finish(run, CANCELED, failed=True, log=_(CANCELED_LOG))
        return
    if db.session.scalar(db.select(Task.pause_requested_at).where(Task.id == task_id)):
        job.retries_left = 0  # paused: the user resumes it, not RQ's retry
        _pause(run)
        return
    if isinstance(exc, TransientError) and job.should_retry:
        log.warning("task %s: transient failure, RQ will retry: %s", task_id, reason)
        # The counts as they stand: the page must not show a stale count while it waits.
        _leave_running(run, QUEUED, log=_("일시적 오류, 다시 시도합니다: %(reason)s",
                                          reason=reason))
        return
    job.retries_left = 0  # a permanent failure: RQ must not run it again
    _settle_claims(task_id)
    # Whoever is still waiting was never sent: shown with the reason, offered for resend.
    Delivery.give_up(task_id, f"{_(GAVE_UP)}: {reason}"[:300])
    _finish(run, FINISHED, failed=True, log=reason)


def _start(job: Job, task_id: int) -> tuple[int, str | None] | None:
    """Turn the task ``running`` as run number ``attempts + 1`` — if it still waits, or if
    it is still running as the run this job last was (RQ retrying a run whose failure
    could not be written: the database was away). The run number and the task's language;
    None if neither."""
    prior = job.meta.get(RUN_META)
    taken_over = ((Task.status == RUNNING) & (Task.attempts == prior)) if prior else db.false()
    started = db.session.execute(
        db.update(Task).where(Task.id == task_id, Task.status.in_(WAITING) | taken_over)
        .values(status=RUNNING, progress=0, started_at=utcnow(), heartbeat_at=utcnow(),
                attempts=Task.attempts + 1)
        .returning(Task.attempts, Task.language)
        .execution_options(synchronize_session=False)).one_or_none()
    db.session.commit()
    return None if started is None else (started[0], started[1])


def _remember_run(job: Job, attempt: int) -> None:
    job.meta[RUN_META] = attempt
    try:
        job.save_meta()
    except RedisError as exc:  # only a retry's takeover after a database outage needs it
        log.warning("job %s: run number not kept in Redis: %s", job.id, exc)


def background_task(func: F) -> F:
    """Run ``func(run, *args, **kwargs)`` as the job of its Task (``run``: which task and
    which run of it): running → finished / failed / canceled, or back to the queue when the
    worker shuts down under it."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        job = current_job()
        if job is None:
            raise RuntimeError("not inside an RQ job")
        task_id = int(job.id)  # a job's id is its Task's (TaskService)
        started = patiently(lambda: _start(job, task_id), DB_PATIENCE, f"task {task_id}")
        if started is None:
            log.info("task %s is no longer waiting (canceled?): not running it", task_id)
            return None
        number, language = started
        # What the run writes about the task (its log, its reasons) is in the task's language
        with written_in(language):
            return _run(job, Run(task_id, number), func, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _run(job: Job, run: Run, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run the job function as ``run`` of its task, and end the task as it came out."""
    _remember_run(job, run.number)
    patiently(lambda: publish_task_id(run.task_id), DB_PATIENCE, f"task {run.task_id}")
    try:
        result = func(run, *args, **kwargs)
    except Exception as exc:
        return _after_exception(job, run, exc)
    outcome = result if isinstance(result, dict) else {}
    _finish(run, FINISHED, progress=100, result=result,
            failed=bool(outcome.get("failed")), log=outcome.get("log"))
    return result


def _after_exception(job: Job, run: Run, exc: Exception) -> None:
    """The job stopped on ``exc``: a stop the user or the worker asked for, a newer run, or
    a failure (raised again for RQ, after the Task says what happened)."""
    if isinstance(exc, Superseded):
        log.warning("task %s: handed to a newer run; this one stops", run.task_id)
        job.retries_left = 0
    elif isinstance(exc, CancelRequested):
        _finish(run, CANCELED, failed=True, log=_(CANCELED_LOG))
    elif isinstance(exc, PauseRequested):
        job.retries_left = 0
        _pause(run)
    elif isinstance(exc, ShutdownRequested):
        job.retries_left = 0  # the worker puts it back at the front of its queue
        _leave_running(run, QUEUED, log=_(HANDED_BACK_LOG))
    else:
        _on_error(job, run, exc)
        raise exc
    return None
