"""The app's Redis connection and RQ queues (the worker side lives in ``app/worker``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import Flask, current_app
from redis import Redis
from redis.backoff import ExponentialBackoff
from redis.retry import Retry
from rq import Queue
from rq.job import Job
from rq.serializers import JSONSerializer

from app.redis_url import check_redis_url

QUEUE_NAMES = ("high", "default")
# Jobs are JSON, never pickles: whoever can write to Redis cannot make a worker run code.
SERIALIZER = JSONSerializer
# Nor make it run any importable function by naming it in a JSON job: a worker runs only
# these (by dotted name), plus what WORKER_JOB_ALLOWLIST adds (app/worker/rqworker.py).
JOB_FUNCTIONS = ("app.mail.jobs.send_mail",)
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
    """Bind a Redis connection and the queues to ``app``."""
    check_redis_url(app.config["REDIS_URL"])
    connection = Redis.from_url(
        app.config["REDIS_URL"], socket_connect_timeout=2, socket_timeout=10
    )
    queues = {name: Queue(name, connection=connection, serializer=SERIALIZER)
              for name in QUEUE_NAMES}
    app.extensions["rq"] = QueueSet(connection, queues)


def patient(connection: Redis, app: Flask) -> None:
    """Let ``connection`` wait out a Redis that went away (a restart, a failover) for up to
    ``WORKER_REDIS_PATIENCE_SECONDS``, trying again with back-off: what the worker side
    needs. The web keeps redis-py's short default and answers at once."""
    seconds = float(app.config["WORKER_REDIS_PATIENCE_SECONDS"])
    # 0.1 s doubling to 2 s: about 2 s a try once it has waited a few seconds.
    tries = max(3, int(seconds / 2) + 5)
    connection.set_retry(Retry(ExponentialBackoff(cap=2.0, base=0.1), tries))


def queues(app: Flask | None = None) -> QueueSet:
    """The current app's queues."""
    return (app or current_app).extensions["rq"]


def fetch_job(job_id: str, connection: Redis) -> Job:
    """The RQ job ``job_id``, read with the app's serializer (NoSuchJobError when gone)."""
    return Job.fetch(job_id, connection=connection, serializer=SERIALIZER)
