"""The scheduler process: RQ's scheduler (its lock, its registries) in a loop that survives
Redis going away, takes the lock over within seconds of its holder dying, and — while it
holds the lock — runs the reconciler."""

from __future__ import annotations

import logging
import signal
import time
from typing import Any

from flask import Flask
from redis import Redis
from redis.exceptions import RedisError
from rq.scheduler import RQScheduler
from sqlalchemy.exc import SQLAlchemyError

from app.queue import SERIALIZER, patient, queues

log = logging.getLogger(__name__)


class AppScheduler(RQScheduler):
    """RQ's scheduler with a short lock: its locks live ``lock_seconds`` (RQ: interval + 60)
    and a scheduler without them tries again every tick (RQ: every 120 s), so a second
    machine takes over within seconds of the holder's death."""

    def __init__(self, *args: Any, lock_seconds: int = 10, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lock_seconds = lock_seconds

    @property
    def should_reacquire_locks(self) -> bool:
        return self._queue_names != self.acquired_locks

    def _shorten_locks(self) -> None:
        with self.connection.pipeline() as pipe:
            for name in self.acquired_locks:
                pipe.expire(self.get_locking_key(name), self.lock_seconds)
            pipe.execute()

    def acquire_locks(self, auto_start: bool = False) -> set[str]:
        """RQ's acquire, then the short lease."""
        locks = super().acquire_locks(auto_start=False)
        self._shorten_locks()
        return locks

    def heartbeat(self) -> None:
        """RQ's heartbeat (refreshes the locks it still holds), then the short lease."""
        super().heartbeat()
        self._shorten_locks()


class SchedulerLoop:
    """One tick a second: hold or take the locks, move due jobs to their queues, and every
    ``RECONCILE_INTERVAL_SECONDS`` mend Redis from the database."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        queue_set = queues(app)
        patient(queue_set.connection, app)
        config = app.config
        self.scheduler = AppScheduler([q.name for q in queue_set.ordered()],
                                      connection=queue_set.connection, interval=1,
                                      serializer=SERIALIZER,
                                      lock_seconds=int(config["SCHEDULER_LOCK_SECONDS"]))
        self.reconcile_every = float(config["RECONCILE_INTERVAL_SECONDS"])
        self._next_reconcile = 0.0
        self._reconciler: Any = None
        self._stop = False
        self._registered = False

    def request_stop(self, signum: int = 0, frame: Any = None) -> None:
        """SIGTERM/SIGINT: finish the tick, release the locks, exit."""
        self._stop = True

    def run(self) -> None:
        """Tick until asked to stop; Redis errors are waited out, never fatal."""
        signal.signal(signal.SIGTERM, self.request_stop)
        signal.signal(signal.SIGINT, self.request_stop)
        warn_about_redis(queues(self.app).connection)
        while not self._stop:
            try:
                self.tick()
            except RedisError as exc:
                log.warning("scheduler: Redis unavailable (%s); trying again", exc)
                self.scheduler._acquired_locks = set()
                self._registered = False
            time.sleep(self.scheduler.interval)
        try:
            self.scheduler.stop()
        except RedisError as exc:
            log.warning("scheduler: could not release its locks: %s", exc)

    def tick(self) -> None:
        """One round: locks, due jobs, and the reconciler when it is time."""
        scheduler = self.scheduler
        if not self._registered:
            scheduler.register_birth()
            self._registered = True
        if scheduler.should_reacquire_locks:
            scheduler.acquire_locks()
        scheduler.heartbeat()
        if not scheduler.acquired_locks:
            return
        scheduler.enqueue_scheduled_jobs()
        if time.monotonic() >= self._next_reconcile:
            self._next_reconcile = time.monotonic() + self.reconcile_every
            self.reconcile()

    def reconcile(self) -> None:
        """One reconciler pass inside the app."""
        from app.extensions import db
        from app.worker.reconcile import Reconciler

        with self.app.app_context():
            if self._reconciler is None:
                self._reconciler = Reconciler(queues(self.app))
            try:
                counts = self._reconciler.run_once()
            except SQLAlchemyError as exc:
                # The database is away: due jobs still move (Redis alone); mend later.
                log.warning("reconciler: the database is unavailable (%s); next pass later",
                            str(exc).splitlines()[0][:200])
                return
            finally:
                db.session.remove()
        if any(counts.values()):
            log.warning("reconciler: %s", counts)


def warn_about_redis(connection: Redis) -> list[str]:
    """Log a warning for each setting of the Redis server that can lose jobs; the warnings."""
    warnings = []
    try:
        persistence = connection.info("persistence")
        memory = connection.info("memory")
    except RedisError as exc:
        log.warning("could not read the Redis server's settings: %s", exc)
        return warnings
    if not persistence.get("aof_enabled"):
        warnings.append("Redis keeps no append-only file (appendonly no): a restart loses "
                        "queued and reserved jobs until the reconciler puts them back")
    policy = memory.get("maxmemory_policy", "noeviction")
    if policy != "noeviction":
        warnings.append(f"Redis maxmemory-policy is {policy}: under memory pressure it "
                        "evicts jobs; set noeviction")
    for text in warnings:
        log.warning("%s (see README, Production)", text)
    return warnings
