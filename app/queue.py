"""The app's Redis connection and RQ queues, and the few things the rest of the app does to
RQ's jobs (the worker side lives in ``app/worker``): RQ is imported here, in
``app/tasks/service.py``, ``app/worker/`` and ``app/admin/`` only."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import Flask, current_app
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, get_current_job
from rq import Retry as JobRetry
from rq.exceptions import NoSuchJobError
from rq.job import Job
from rq.serializers import JSONSerializer

from app.redis_client import patience, redis_client

QUEUE_NAMES = ("high", "default")
# Jobs are JSON, never pickles: whoever can write to Redis cannot make a worker run code.
SERIALIZER = JSONSerializer
# Nor make it run any importable function by naming it in a JSON job: a worker runs only
# these (by dotted name), plus what WORKER_JOB_ALLOWLIST adds (app/worker/rqworker.py).
SEND_MAIL = "app.mail.jobs.send_mail"  # a send's job (TaskService names it, never imports it)
# A list import's job (app/lists/jobs.py).
IMPORT_MEMBERS = "app.lists.jobs.import_members"
# A returned message handed over by the bounce receiver (app/bounces/jobs.py).
HANDLE_BOUNCE = "app.bounces.jobs.handle_bounce"
# One try of one outgoing webhook delivery (app/webhooks_out/jobs.py).
WEBHOOK_DELIVERY = "app.webhooks_out.jobs.deliver"
JOB_FUNCTIONS = (SEND_MAIL, IMPORT_MEMBERS, HANDLE_BOUNCE, WEBHOOK_DELIVERY)
# A job's meta flag: run it in the worker's own process instead of a forked work horse.
INLINE = "inline"


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
    """Bind the app's Redis client (``REDIS_URL``, or Sentinel's primary) and the queues to
    ``app``."""
    bind(app, redis_client(app.config, socket_connect_timeout=2, socket_timeout=10))


def bind(app: Flask, connection: Redis) -> None:
    """Give ``app`` the queues on ``connection`` (the unit tests' is a fakeredis one)."""
    queues = {name: Queue(name, connection=connection, serializer=SERIALIZER)
              for name in QUEUE_NAMES}
    app.extensions["rq"] = QueueSet(connection, queues)


def patient(connection: Redis, app: Flask) -> None:
    """Let ``connection`` wait out a Redis that went away (a restart, a failover) for up to
    ``WORKER_REDIS_PATIENCE_SECONDS``, trying again with back-off: what the worker side
    needs. The web keeps redis-py's short default and answers at once."""
    connection.set_retry(patience(app.config))


def queues(app: Flask | None = None) -> QueueSet:
    """The current app's queues."""
    return (app or current_app).extensions["rq"]


def fetch_job(job_id: str, connection: Redis) -> Job:
    """The RQ job ``job_id``, read with the app's serializer (NoSuchJobError when gone)."""
    return Job.fetch(job_id, connection=connection, serializer=SERIALIZER)


def current_job() -> Job | None:
    """The RQ job this process is running, if any."""
    return get_current_job()


def retry_after(intervals: list[int]) -> JobRetry:
    """RQ's retry of a failed job: once after each of ``intervals`` seconds."""
    return JobRetry(max=len(intervals), interval=intervals)


def drop_job(connection: Redis, job_id: str) -> bool:
    """Take a job that has not started out of its queue and every registry (RedisError
    if Redis cannot be reached); False when it was not there."""
    try:
        fetch_job(job_id, connection).delete(remove_from_queue=True)
    except NoSuchJobError:
        return False
    return True


def enqueue_existing(queue: Queue, job_id: str) -> bool:
    """Put the job ``job_id`` Redis still keeps on ``queue`` now; False when it is gone."""
    try:
        queue.enqueue_job(fetch_job(job_id, queue.connection))
    except NoSuchJobError:
        return False
    return True


__all__ = ["INLINE", "JOB_FUNCTIONS", "QUEUE_NAMES", "SEND_MAIL", "SERIALIZER", "Job", "JobRetry",
           "QueueSet", "RedisError", "current_job", "drop_job", "enqueue_existing",
           "fetch_job", "init_app", "patient", "queues", "retry_after"]
