"""The reconciler takes a dead run out of RQ's started registry even when that run's
execution record is already gone (RQ's ``remove_executions`` reads each execution first and
raised ``Execution … not found in Redis``, which ended the scheduler's pass — seen in CI:
a handed-back send was never resubmitted)."""

from __future__ import annotations

import time

import pytest
from redis import Redis
from rq import Queue
from rq.executions import ExecutionRegistry
from rq.registry import StartedJobRegistry

from app.worker.reconcile import _drop_started_entries


def test_a_dead_runs_entries_go_without_their_executions(redis_conn: Redis) -> None:
    job = Queue("default", connection=redis_conn).enqueue(print, job_id="7")
    registry = StartedJobRegistry("default", connection=redis_conn)
    redis_conn.zadd(registry.key, {"7:gone": 1, "70:other": 2, "8:another": 3})
    # the execution is listed for the job, its own record is not there any more
    redis_conn.zadd(ExecutionRegistry(job.id, connection=redis_conn).key,
                    {"gone": time.time() + 60})
    with pytest.raises(ValueError, match="not found"):  # RQ's own way stops here
        registry.remove_executions(job)
    _drop_started_entries(registry, job.id)
    assert sorted(redis_conn.zrange(registry.key, 0, -1)) == [b"70:other", b"8:another"]
