"""A Task never keeps saying running (or queued) for a job that is gone."""

from __future__ import annotations

import os
import signal
from datetime import timedelta
from typing import Any

from flask import Flask
from redis import Redis
from rq import Worker

from app.devstack import wait_until
from app.extensions import db
from app.models import Task
from app.models.types import utcnow
from app.tasks.reconcile import HORSE_DIED, JOB_LOST, WORKER_GONE
from app.tasks.service import TaskService
from tests.integration.helpers import ended, task, wait_for_task
from tests.jobs_cancel import stubborn
from tests.procs import alive, descendants


def backdate(app: Flask, task_id: int, minutes: int = 5) -> None:
    """Make the Task older than the reconciler's grace period."""
    with app.app_context():
        db.session.execute(db.update(Task).where(Task.id == task_id)
                           .values(created_at=utcnow() - timedelta(minutes=minutes)))
        db.session.commit()


def test_task_of_a_killed_worker_ends_failed(app: Flask, start_worker: Any,
                                            redis_conn: Redis) -> None:
    doomed = start_worker()
    with app.app_context():
        task_id = TaskService("alice").enqueue_task(stubborn, 120, description="long").id
    wait_for_task(app, task_id, lambda t: t.status == "running")
    family = descendants(doomed.pid) | {doomed.pid}
    for pid in family:
        os.kill(pid, signal.SIGKILL)
    doomed.wait()
    wait_until(lambda: not any(alive(pid) for pid in family), 10, "the killed processes")
    # What the dead worker's registration TTL would do, without waiting 7 minutes for it.
    for worker in Worker.all(connection=redis_conn):
        redis_conn.delete(worker.key)
    backdate(app, task_id)

    start_worker()  # its start-up maintenance finds the orphan
    done = wait_for_task(app, task_id, ended, what="the orphaned task to end")
    assert (done.status, done.failed) == ("finished", True)
    assert done.log in (WORKER_GONE, HORSE_DIED) or done.log.startswith(HORSE_DIED)


def test_reconcile_command_ends_tasks_whose_job_vanished(app: Flask, runner: Any,
                                                         redis_conn: Redis) -> None:
    with app.app_context():
        old = TaskService("alice").enqueue_task(stubborn, 1, description="old").id
        young = TaskService("alice").enqueue_task(stubborn, 1, description="young").id
        kept = TaskService("alice").enqueue_task(stubborn, 1, description="kept").id
    backdate(app, old)
    backdate(app, kept)
    redis_conn.delete(f"rq:job:{old}", f"rq:job:{young}")  # as a flushed Redis would

    result = runner.invoke(args=["tasks", "reconcile"])
    assert result.exit_code == 0, result.output
    assert "ended 1 stale task(s)" in result.output
    lost = task(app, old)
    assert (lost.status, lost.failed, lost.log) == ("finished", True, JOB_LOST)
    assert task(app, young).status == "queued"  # inside the grace period
    assert task(app, kept).status == "queued"  # its job is still waiting in the queue
