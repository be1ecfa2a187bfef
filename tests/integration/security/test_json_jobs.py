"""Point 5, the worker's half: jobs are JSON. A pickled job written straight into Redis
(what ``os.system`` smuggled in before) is never unpickled: its code does not run."""

from __future__ import annotations

import os
from typing import Any

from redis import Redis
from rq import Queue
from rq.serializers import DefaultSerializer

from app.queue import SERIALIZER, queues
from tests.support import wait_until


class Exploit:
    """Unpickling this runs ``os.system`` (the attack the issue measured)."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (os.system, (f"touch {self.marker}",))


def test_a_pickled_job_is_not_run(app: Any, start_worker: Any, redis_conn: Redis,
                                  tmp_path: Any) -> None:
    marker = tmp_path / "pwned"
    attacker = Queue("default", connection=redis_conn, serializer=DefaultSerializer)
    job = attacker.enqueue(print, Exploit(str(marker)))  # pickled args, as RQ's default does
    start_worker()
    with app.app_context():
        wait_until(lambda: job.id not in queues()["default"].job_ids, 20, "the worker's pop")
        failed = queues()["default"].failed_job_registry
        wait_until(lambda: job.id in failed.get_job_ids(), 20, "the job to be refused")
    assert not marker.exists()
    assert queues(app)["default"].serializer is SERIALIZER
