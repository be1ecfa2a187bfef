"""The app's Redis connection and RQ queues, and the worker class that runs jobs in the app."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import Flask, current_app
from redis import Redis
from rq import Queue, Worker
from rq.job import Job

from app.redis_url import check_redis_url

QUEUE_NAMES = ("high", "default")


@dataclass
class QueueSet:
    """What ``app.extensions['rq']`` holds: one Redis connection and the named queues."""

    connection: Redis
    queues: dict[str, Queue] = field(default_factory=dict)

    def __getitem__(self, name: str) -> Queue:
        return self.queues[name]

    def ordered(self) -> list[Queue]:
        """The queues in the order a worker serves them (``high`` first)."""
        return [self.queues[name] for name in QUEUE_NAMES]


def init_app(app: Flask) -> None:
    """Bind a Redis connection and the queues to ``app``."""
    check_redis_url(app.config["REDIS_URL"])
    connection = Redis.from_url(
        app.config["REDIS_URL"], socket_connect_timeout=2, socket_timeout=10
    )
    queues = {name: Queue(name, connection=connection) for name in QUEUE_NAMES}
    app.extensions["rq"] = QueueSet(connection, queues)


def queues(app: Flask | None = None) -> QueueSet:
    """The current app's queues."""
    return (app or current_app).extensions["rq"]


class AppWorker(Worker):
    """A forking RQ worker that runs every job inside one app, built once per worker.

    Usable from ``worker.py`` (which passes ``app``) and from
    ``rq worker --with-scheduler -w app.queue.AppWorker`` (which builds it here).
    """

    def __init__(self, *args: Any, app: Flask | None = None, **kwargs: Any) -> None:
        if app is None:
            from app import create_app

            app = create_app()
        self.app = app
        super().__init__(*args, **kwargs)

    def main_work_horse(self, job: Job, queue: Queue) -> None:
        """In the forked horse: fresh DB connections, then the job inside an app context."""
        from app.extensions import db

        with self.app.app_context():
            # Pooled connections were opened by the parent; never share them across a fork.
            db.engine.dispose(close=False)
            super().main_work_horse(job, queue)

    def run_maintenance_tasks(self) -> None:
        """RQ's periodic clean-up (at start, then every 10 minutes), then end the Tasks
        whose job vanished or whose worker died."""
        super().run_maintenance_tasks()
        from app.tasks.reconcile import reconcile_stale_tasks

        with self.app.app_context():
            reconcile_stale_tasks(self.connection)

    def handle_job_failure(self, job: Job, queue: Queue, **kwargs: Any) -> None:
        """Let RQ record the failure, then make sure the Task row does not stay running."""
        super().handle_job_failure(job, queue, **kwargs)
        from app.tasks.reconcile import reconcile_failed_job

        with self.app.app_context():
            reconcile_failed_job(job, kwargs.get("exc_string", ""))
