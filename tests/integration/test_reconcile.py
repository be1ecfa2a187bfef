"""The reconciler mends Redis from the database: a waiting Task whose job Redis lost gets
it again, a running Task whose worker stopped beating is handed back to resume."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Flask
from redis import Redis

from app.extensions import db
from app.models import Task
from app.models.types import utcnow
from app.queue import fetch_job, queues
from app.tasks.service import TaskService
from app.worker.reconcile import Reconciler
from tests.jobs_cancel import stubborn
from tests.support.flows import task


def backdate(app: Flask, task_id: int, seconds: int = 60) -> None:
    """Make the Task older than the reconciler's grace period."""
    with app.app_context():
        db.session.execute(db.update(Task).where(Task.id == task_id)
                           .values(created_at=utcnow() - timedelta(seconds=seconds)))
        db.session.commit()


def test_reconcile_command_gives_lost_jobs_back(app: Flask, runner: Any,
                                                redis_conn: Redis) -> None:
    when = utcnow() + timedelta(hours=1)
    with app.app_context():
        lost = TaskService("alice").enqueue_task(stubborn, 1, description="lost").id
        reserved = TaskService("alice").reserve_task(when, stubborn, 2, description="r").id
        young = TaskService("alice").enqueue_task(stubborn, 1, description="young").id
        kept = TaskService("alice").enqueue_task(stubborn, 1, description="kept").id
    for task_id in (lost, reserved, kept):
        backdate(app, task_id)
    redis_conn.flushall()  # as a Redis restarted without persistence would be
    with app.app_context():
        TaskService("alice").queue.enqueue_call(stubborn, args=(1,), job_id=str(kept))

    result = runner.invoke(args=["tasks", "reconcile"], env={"MAILROOM_LANGUAGE": "en"})
    assert result.exit_code == 0, result.output
    assert "resubmitted 2, handed back 0, ended 0 task(s)" in result.output
    with app.app_context():
        queue_set = queues()
        assert queue_set["default"].job_ids == [str(kept), str(lost)]
        assert queue_set["high"].scheduled_job_registry.get_job_ids() == [str(reserved)]
        job = fetch_job(str(reserved), queue_set.connection)
        assert job.args == [2] and job.description == "r"
    assert task(app, lost).status == "queued"
    assert task(app, reserved).status == "reserved"
    assert not redis_conn.exists(f"rq:job:{young}")  # inside the grace period: left alone


def test_a_task_seen_lost_once_is_not_touched(app: Flask, redis_conn: Redis) -> None:
    """A job moving between two Redis structures looks lost for a moment: one look is not
    enough to act."""
    with app.app_context():
        task_id = TaskService("alice").enqueue_task(stubborn, 1, description="x").id
    backdate(app, task_id)
    redis_conn.flushall()
    with app.app_context():
        reconciler = Reconciler(queues())
        assert reconciler.run_once() == {"resubmitted": 0, "handed_back": 0, "ended": 0}
        assert reconciler.run_once()["resubmitted"] == 1
        assert reconciler.run_once()["resubmitted"] == 0  # back in its queue: healthy


def test_a_job_lost_again_and_again_ends_its_task(app: Flask, redis_conn: Redis) -> None:
    with app.app_context():
        task_id = TaskService("alice").enqueue_task(stubborn, 1, description="x").id
    backdate(app, task_id)
    with app.app_context():
        reconciler = Reconciler(queues())
        ended = 0
        for _ in range(2 * (reconciler.max_resubmits + 2)):
            redis_conn.flushall()
            ended += reconciler.run_once()["ended"]
    assert ended == 1
    row = task(app, task_id)
    assert (row.status, row.failed) == ("finished", True)
