"""The database is the source of truth; Redis can be rebuilt from it.

A reconciler pass compares every unfinished Task with what Redis holds, read in a handful
of calls, and mends what it finds twice in a row (a job is between two Redis structures for
a moment; a second look a pass later tells a move from a loss):

- a waiting Task (reserved or queued) whose job is in no queue, registry or worker's hands
  (Redis restarted empty, a pop that went nowhere) gets its job again from the Task row;
- a running Task whose worker stopped beating is handed back to the queue, to resume with
  the recipients not yet served (its in-flight claim becomes ``unknown``);
- a Task ends failed only when it cannot go on (its job keeps getting lost, or its runs
  keep dying).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from redis import Redis
from redis.exceptions import RedisError
from rq import Worker
from rq.command import send_stop_job_command
from rq.exceptions import InvalidJobOperation, NoSuchJobError
from rq.job import Job, JobStatus
from rq.registry import StartedJobRegistry
from rq.utils import utcparse

from app.extensions import db
from app.i18n import N_, written_in
from app.models import Task
from app.models.task import CANCELED, FINISHED, IN_REDIS, QUEUED, RUNNING, WAITING
from app.models.types import utcnow
from app.queue import QueueSet, fetch_job, queues
from app.tasks import inflight
from app.tasks.decorators import CANCELED_LOG
from app.tasks.progress import publish_task, publish_task_id
from app.tasks.submit import submit_job

log = logging.getLogger(__name__)

HORSE_DIED = N_("작업 프로세스가 비정상 종료되었습니다.")
RUNS_EXHAUSTED = N_("작업이 여러 번 중단되어 더 이어 보내지 않습니다.")
JOB_LOST = N_("Redis에서 작업이 거듭 사라져 더 다시 넣지 않습니다.")
HANDED_BACK = N_("작업을 맡은 워커가 멈추어 남은 받는 사람을 다시 대기열에 넣었습니다.")
# A Task is committed a moment before its job reaches Redis: leave young rows alone.
GRACE = timedelta(seconds=5)
# A run still running this long after the stop watch and the drain should have ended it.
STOP_FALLBACK = 5
ENDED_JOB = (JobStatus.FINISHED, JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED)


def task_for_job(job_id: str) -> Task | None:
    """The Task mirrored by RQ job ``job_id`` (None for jobs that are not tasks)."""
    return db.session.get(Task, int(job_id)) if job_id.isdigit() else None


def _end_unfinished(task: Task, reason: str, detail: str = "") -> None:
    """End ``task`` canceled (when the user asked) or failed for ``reason`` (a marked
    message, written in the task's language, then ``detail``), and publish it."""
    with written_in(task.language):
        inflight.settle_claims(queues().connection, task.id)
        task.sync_delivery_counts()
        if task.cancel_requested_at is not None:
            task.end(CANCELED, failed=True, log=_(CANCELED_LOG))
        else:
            task.end(FINISHED, failed=True, log=f"{_(reason)} {detail}".strip())
    publish_task(task)


def reconcile_failed_job(job: Job, exc_string: str) -> Task | None:
    """After RQ handled a failure: a retry puts the Task back to queued; otherwise an
    unfinished Task ends canceled (if the user asked) or failed."""
    task = task_for_job(job.id)
    if task is None or not task.is_unfinished:
        return task
    if job.get_status(refresh=True) in (JobStatus.QUEUED, JobStatus.SCHEDULED):
        inflight.settle_claims(queues().connection, task.id)
        task.sync_delivery_counts()
        task.status = QUEUED
        publish_task(task)
        return task
    last_line = exc_string.strip().splitlines()[-1] if exc_string.strip() else ""
    _end_unfinished(task, HORSE_DIED, last_line)
    return task


def resubmit_if_waiting(job_id: str, at_front: bool = False) -> bool:
    """Right after a job ended: if its Task waits again (its run handed it back) and the
    job waits nowhere in Redis (no retry of RQ's), submit it again now. Whether it did."""
    task = task_for_job(job_id)
    if task is None or task.status not in WAITING:
        return False
    queue_set = queues()
    try:
        status = fetch_job(job_id, queue_set.connection).get_status(refresh=True)
    except NoSuchJobError:
        status = None
    if status in (JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.DEFERRED):
        return False
    submit_job(task, queue_set, at_front=at_front)
    log.info("task %s: handed back by its run; queued again at the front", task.id)
    return True


@dataclass
class RedisView:
    """Where each job id is in Redis right now, read in a few calls."""

    held: set[str] = field(default_factory=set)  # in a queue, a list or a waiting registry
    started: dict[str, str] = field(default_factory=dict)  # job id → the worker running it
    live_workers: set[str] = field(default_factory=set)

    @classmethod
    def read(cls, queue_set: QueueSet, stale: timedelta) -> RedisView:
        """Read the queues, their intermediate lists and registries, and the started jobs'
        workers with the age of their last heartbeat."""
        connection = queue_set.connection
        view, started = cls(), []
        for queue in queue_set.ordered():
            view.held.update(queue.get_job_ids())
            view.held.update(x.decode() for x in connection.lrange(
                queue.intermediate_queue_key, 0, -1))
            view.held.update(queue.scheduled_job_registry.get_job_ids(cleanup=False))
            started.extend(queue.started_job_registry.get_job_ids(cleanup=False))
        with connection.pipeline() as pipe:
            for job_id in started:
                pipe.hget(Job.key_for(job_id), "worker_name")
            workers = pipe.execute()
        # A started entry counts only with its worker: a dead worker's entry holds nothing.
        view.started = {job_id: worker.decode()
                        for job_id, worker in zip(started, workers, strict=True) if worker}
        view.live_workers = _live_workers(connection, set(view.started.values()), stale)
        return view

    def in_live_hands(self, job_id: str) -> bool:
        """True while a worker that still beats has the job."""
        return self.started.get(job_id) in self.live_workers


def _live_workers(connection: Redis, names: set[str], stale: timedelta) -> set[str]:
    """Those of ``names`` whose worker beat within ``stale`` (RQ's own heartbeat field)."""
    ordered = sorted(names)
    with connection.pipeline() as pipe:
        for name in ordered:
            pipe.hget(Worker.redis_worker_namespace_prefix + name, "last_heartbeat")
        beats = pipe.execute()
    now = utcnow()
    return {name for name, beat in zip(ordered, beats, strict=True)
            if beat and now - utcparse(beat.decode()).replace(tzinfo=now.tzinfo) < stale}


def _diagnose(task: Task, view: RedisView, stale: timedelta) -> str | None:
    """What is wrong with ``task`` as Redis stands: 'lost', 'orphaned', or None."""
    job_id = task.job_id
    if view.in_live_hands(job_id):
        return None
    if task.status != RUNNING:
        return None if job_id in view.held else "lost"
    if job_id in view.held:  # RQ's retry of it waits: it takes the task over
        return None
    # Its worker stopped beating in Redis; the run may still beat in the database (Redis
    # went away for a while): dead only when both are stale.
    beat = task.heartbeat_at
    return None if beat is not None and utcnow() - beat < stale else "orphaned"


class Reconciler:
    """Mends Redis from the database; call ``run_once`` every few seconds (one process at
    a time: the scheduler that holds the lock)."""

    def __init__(self, queue_set: QueueSet) -> None:
        self.queue_set = queue_set
        config = current_app.config
        self.stale = timedelta(seconds=float(config["WORKER_STALE_SECONDS"]))
        self.max_runs = int(config["TASK_MAX_RUNS"])
        self.max_resubmits = 5
        self.suspects: dict[int, str] = {}
        self.resubmits: dict[int, int] = {}
        self.forced: set[int] = set()

    def run_once(self) -> dict[str, int]:
        """One pass; how many tasks were resubmitted, handed back and ended."""
        tasks = list(db.session.scalars(
            db.select(Task).where(Task.status.in_(IN_REDIS),
                                  Task.created_at < utcnow() - GRACE).order_by(Task.id)))
        view = RedisView.read(self.queue_set, self.stale)
        counts = {"resubmitted": 0, "handed_back": 0, "ended": 0}
        suspects: dict[int, str] = {}
        for task in tasks:
            finding = _diagnose(task, view, self.stale)
            if finding is None:
                continue
            if self.suspects.get(task.id) != finding:
                suspects[task.id] = finding  # act only when the next pass sees it too
                continue
            done = self._mend(task, finding)
            if done == "waiting":  # it could not be mended yet: try again next pass
                suspects[task.id] = finding
            else:
                counts[done] += 1
        self.suspects = suspects
        self._force_stops([t for t in tasks if t.status == RUNNING])
        return counts

    def _force_stops(self, running: list[Task]) -> None:
        """A run that still runs long after its user's cancel or pause (stuck outside its
        stop checks) gets RQ's stop-job command, once: the control answered at once, this
        makes it true."""
        config = current_app.config
        late = utcnow() - timedelta(seconds=float(config["CANCEL_GRACE_SECONDS"])
                                    + float(config["CANCEL_DRAIN_SECONDS"]) + STOP_FALLBACK)
        for task in running:
            asked = task.cancel_requested_at or task.pause_requested_at
            if asked is None or asked > late or task.id in self.forced:
                continue
            self.forced.add(task.id)
            log.warning("task %s: still running after its stop request; stop-job", task.id)
            try:
                send_stop_job_command(self.queue_set.connection, task.job_id)
            except (NoSuchJobError, InvalidJobOperation) as exc:
                log.warning("stop-job for task %s not sent: %s", task.id, exc)

    def _mend(self, task: Task, finding: str) -> str:
        if finding == "orphaned":
            return self._hand_back(task)
        tries = self.resubmits.get(task.id, 0)
        if tries >= self.max_resubmits or not task.job_func:
            log.warning("task %s: its job keeps getting lost; ending it", task.id)
            _end_unfinished(task, JOB_LOST)
            return "ended"
        log.warning("task %s (%s): its job is not in Redis; submitting it again",
                    task.id, task.status)
        try:
            submit_job(task, self.queue_set)
        except RedisError as exc:  # Redis refuses writes (full): the next pass tries again
            log.warning("task %s: not resubmitted yet: %s", task.id, exc)
            return "waiting"
        self.resubmits[task.id] = tries + 1
        return "resubmitted"

    def _hand_back(self, task: Task) -> str:
        """A running task whose worker is gone: queue it again to resume, or end it (also
        when its user had asked to cancel it)."""
        if task.attempts >= self.max_runs or not task.job_func or task.cancel_requested_at:
            log.warning("task %s: run %s died; no more runs", task.id, task.attempts)
            _end_unfinished(task, RUNS_EXHAUSTED)
            return "ended"
        # The dead run's claims: answered ones get their answer, begun ones are in doubt.
        with written_in(task.language):
            inflight.settle_claims(self.queue_set.connection, task.id)
            if not Task.transition(task.id, (RUNNING,), attempt=task.attempts, status=QUEUED,
                                   log=_(HANDED_BACK), **Task.delivery_counts(task.id)):
                return "handed_back"  # it moved on by itself meanwhile
        log.warning("task %s: run %s lost its worker; queued again to resume",
                    task.id, task.attempts)
        self._forget_execution(task)
        db.session.refresh(task)
        submit_job(task, self.queue_set)
        publish_task_id(task.id)
        return "handed_back"

    def _forget_execution(self, task: Task) -> None:
        """Take the dead run out of RQ's started registry, so RQ's own clean-up does not
        later retry it beside the resumed run."""
        try:
            job = fetch_job(task.job_id, self.queue_set.connection)
        except Exception:  # gone, or unreadable: nothing to take out
            return
        registry = StartedJobRegistry(job.origin, connection=self.queue_set.connection)
        try:
            registry.remove_executions(job)
        except ValueError:
            _drop_started_entries(registry, job.id)


def _drop_started_entries(registry: StartedJobRegistry, job_id: str) -> None:
    """``job_id``'s entries out of ``registry``, unread (RQ raises on a gone execution)."""
    prefix = f"{job_id}:".encode()
    stale = [key for key in registry.connection.zrange(registry.key, 0, -1)
             if key.startswith(prefix)]
    if stale:
        registry.connection.zrem(registry.key, *stale)


def reconcile_now(queue_set: QueueSet, passes: int = 2, pause: float = 1.0) -> dict[str, int]:
    """Run ``passes`` passes ``pause`` seconds apart (the CLI's one-shot); the totals."""
    reconciler = Reconciler(queue_set)
    totals = {"resubmitted": 0, "handed_back": 0, "ended": 0}
    for index in range(passes):
        if index:
            time.sleep(pause)
        for key, value in reconciler.run_once().items():
            totals[key] += value
    return totals

