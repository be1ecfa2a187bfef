"""The RQ worker class: RQ's forking ``Worker``, with the app built once, JSON jobs, a
heartbeat every few seconds, a work horse that never outlives its worker, small sends run
in the worker's own process, and only the job functions of an allowlist."""

from __future__ import annotations

import os
import signal
import sys
import threading
from typing import Any

from flask import Flask
from redis.exceptions import RedisError
from rq import Queue, Worker
from rq.job import Job
from rq.worker import WorkerStatus
from sqlalchemy.exc import SQLAlchemyError

from app.queue import INLINE, SERIALIZER, patient, queues
from app.tasks.stopwatch import request_shutdown, shutdown_requested
from app.worker.allowlist import allowlisted_job_class
from app.worker.lifeline import die_with_parent

# RQ beats every 30 s while a job runs; a few seconds lets the reconciler tell a dead
# worker from a busy one in WORKER_STALE_SECONDS instead of minutes.
JOB_MONITORING_INTERVAL = 2
# An idle worker beats every WORKER_TTL - 15 s (RQ: 405 s), so the operator view can tell
# a live idle worker from a dead one.
WORKER_TTL = 30


class AppWorker(Worker):
    """A forking RQ worker that runs every job inside one app, built once per worker.

    ``python worker.py`` runs it under a supervisor beside the scheduler; with
    ``rq worker -w app.worker.AppWorker --with-scheduler`` it starts the same supervised
    scheduler process itself (RQ's forked scheduler would keep this worker's Redis socket
    open after it dies, and swallow the next job).
    """

    def __init__(self, *args: Any, app: Flask | None = None, **kwargs: Any) -> None:
        if app is None:
            from app import create_app

            app = create_app()
        self.app = app
        # Whatever RQ's CLI passes (pickle, 30 s, any job class): JSON jobs only, the allowed
        # functions only, and a frequent heartbeat.
        kwargs["serializer"] = SERIALIZER
        kwargs["job_monitoring_interval"] = JOB_MONITORING_INTERVAL
        kwargs["worker_ttl"] = WORKER_TTL
        kwargs["job_class"] = allowlisted_job_class(app.config.get("WORKER_JOB_ALLOWLIST", ()))
        if args:  # by name, so every queue reads and writes with our serializer
            args = ([q.name if isinstance(q, Queue) else q for q in _as_list(args[0])],
                    *args[1:])
        super().__init__(*args, **kwargs)
        # Redis going away for a while (a restart, a failover) is waited out, not fatal.
        patient(self.connection, app)
        patient(queues(app).connection, app)
        self._scheduler_child: Any = None
        self._inline_job: str | None = None

    def maintain_heartbeats(self, job: Job, execution: Any) -> None:
        """RQ's heartbeats while a horse works; a Redis that is away is logged, not fatal:
        the horse needs only the database and the relay (RQ would end the worker here, and
        the horse with it, mid-send)."""
        try:
            super().maintain_heartbeats(job, execution)
        except RedisError as exc:
            self.log.warning("heartbeat for job %s not written (Redis: %s); the send goes on",
                             job.id, exc)

    def handle_warm_shutdown_request(self) -> None:
        """A warm shutdown (SIGTERM: a deploy): the job under way stops between two
        messages, hands its task back to the queue and the worker exits at once."""
        super().handle_warm_shutdown_request()
        request_shutdown()  # a job running in this process
        if self.horse_pid:
            os.kill(self.horse_pid, signal.SIGTERM)  # the horse's handler: the same request

    def setup_work_horse_signals(self) -> None:
        """In the horse: SIGTERM (its worker's warm shutdown, or its worker's death) stops
        the job between two messages instead of killing it mid-message."""
        super().setup_work_horse_signals()
        signal.signal(signal.SIGTERM, lambda signum, frame: request_shutdown())

    def execute_job(self, job: Job, queue: Queue) -> None:
        """A send to a few recipients (``meta["inline"]``, set by TaskService) runs here, in
        the worker's own process, as RQ's ``SimpleWorker`` runs every job: a fork costs a
        small task more than its work (fresh database connections, every SQL statement
        compiled again; docs/BENCHMARKS.md). Anything else gets a work horse."""
        if not job.meta.get(INLINE):
            super().execute_job(job, queue)
        else:
            execution = self.prepare_execution(job)
            self._inline_job = job.id
            try:
                with self.app.app_context(), _Heartbeats(self, job, execution):
                    self.perform_job(job, queue, execution)
            finally:
                self._inline_job = None
            self.set_state(WorkerStatus.IDLE)
        self._resubmit_if_handed_back(job)

    def _resubmit_if_handed_back(self, job: Job) -> None:
        """A task the job handed back (its run stopped for this worker's shutdown) goes to
        the front of its queue now, for the next or another worker to go on at once."""
        from app.worker.reconcile import resubmit_if_waiting

        if not shutdown_requested():
            return  # only a shutdown hands a task back
        try:
            with self.app.app_context():
                resubmit_if_waiting(job.id, at_front=True)
        except (RedisError, SQLAlchemyError) as exc:  # the reconciler puts it back later
            self.log.warning("task of job %s not put back at once: %s", job.id, exc)

    def kill_horse(self, sig: signal.Signals = signal.SIGKILL) -> None:
        """A stop-job command (or a forced shutdown): kill the work horse; a job running in
        this process has none, so its SMTP connections are cut instead (its stop check
        then ends it, and a message on the wire at that moment ends unknown)."""
        if self._inline_job is not None:
            from app.mail.sender import abort_all

            self.log.info("job %s runs in this process: cut %d SMTP connection(s)",
                          self._inline_job, abort_all())
            return
        super().kill_horse(sig)

    def main_work_horse(self, job: Job, queue: Queue) -> None:
        """In the forked horse: die with the worker, fresh DB connections, then the job
        inside an app context."""
        from app.extensions import db

        # A horse whose worker died would go on sending while another worker resumes the
        # task: it stops too, between two messages (SIGTERM: setup_work_horse_signals).
        die_with_parent(signal.SIGTERM, parent=self.pid)
        with self.app.app_context():
            # Pooled connections were opened by the parent; never share them across a fork.
            db.engine.dispose(close=False)
            super().main_work_horse(job, queue)

    def handle_job_failure(self, job: Job, queue: Queue, **kwargs: Any) -> None:
        """Let RQ record the failure, then make sure the Task row does not stay running."""
        super().handle_job_failure(job, queue, **kwargs)
        from app.worker.reconcile import reconcile_failed_job

        try:
            with self.app.app_context():
                reconcile_failed_job(job, kwargs.get("exc_string", ""))
        except SQLAlchemyError as exc:  # the database is away: the reconciler mends it later
            self.log.warning("task of job %s not updated after its failure: %s", job.id, exc)

    def _start_scheduler(self, burst: bool = False, *args: Any, **kwargs: Any) -> None:
        """``--with-scheduler`` from RQ's CLI: our scheduler process, restarted when it dies."""
        if burst:
            super()._start_scheduler(burst, *args, **kwargs)
            return
        from app.worker.supervisor import Child, supervise_in_thread

        self._scheduler_child = Child("scheduler", scheduler_command())
        supervise_in_thread(self._scheduler_child)

    def teardown(self) -> None:
        """Stop our scheduler process with the worker."""
        super().teardown()
        if self._scheduler_child is not None and not self.is_horse:
            self._scheduler_child.stop()


def scheduler_command() -> list[str]:
    """The command line of a scheduler process."""
    return [sys.executable, "-m", "app.worker", "scheduler"]



def _as_list(queues: Any) -> list[Any]:
    return list(queues) if isinstance(queues, list | tuple) else [queues]


class _Heartbeats:
    """While a job runs in the worker's own process, the heartbeats RQ's horse monitor
    would keep (worker, execution, job), from a thread: the reconciler must not take a busy
    worker for a dead one."""

    def __init__(self, worker: AppWorker, job: Job, execution: Any) -> None:
        self.worker, self.job, self.execution = worker, job, execution
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="heartbeats", daemon=True)

    def __enter__(self) -> _Heartbeats:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()

    def _beat(self) -> None:
        while not self._done.wait(self.worker.job_monitoring_interval):
            try:
                self.worker.maintain_heartbeats(self.job, self.execution)
            except Exception:  # a Redis blip: the next beat tries again
                self.worker.log.warning("heartbeat for job %s failed", self.job.id,
                                        exc_info=True)
