"""``@background_task`` and ``TaskService.enqueue_task``, with jobs run in-process by an RQ
``SimpleWorker`` against the session's real redis-server."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import fakeredis
import pytest
from flask import Flask
from redis import Redis
from rq import SimpleWorker
from rq.job import Job, JobStatus

from app.extensions import db
from app.models import Notification, Task
from app.queue import SERIALIZER, fetch_job, queues
from app.tasks.decorators import CANCELED_LOG
from app.tasks.service import EnqueueError, TaskService
from tests import jobs

USER = "alice"


@pytest.fixture
def retry_intervals() -> str:
    """``TASK_RETRY_INTERVALS`` of the test app (a test parametrizes it to change it)."""
    return "10,60,300"


@pytest.fixture
def redis_refuses() -> bool:
    """True: the test app's Redis refuses every command (as one that went away does)."""
    return False


@pytest.fixture
def app_redis(redis_conn: Redis, redis_refuses: bool) -> Redis:
    if not redis_refuses:
        return redis_conn
    away = fakeredis.FakeServer()
    away.connected = False
    return fakeredis.FakeRedis(server=away)


@pytest.fixture
def app_config(app_config: dict[str, Any], retry_intervals: str) -> dict[str, Any]:
    app_config["TASK_RETRY_INTERVALS"] = retry_intervals
    return app_config


# -- helpers -------------------------------------------------------------------------------

def enqueue(func: Any, *args: Any, description: str = "a test job", **kwargs: Any) -> int:
    """Enqueue ``func`` for USER (inside an app context); the Task id."""
    return TaskService(USER).enqueue_task(func, *args, description=description, **kwargs).id


def run_worker(max_jobs: int | None = None) -> None:
    """Run the queued jobs in this process, in the current app context."""
    queue_set = queues()
    worker = SimpleWorker(queue_set.ordered(), connection=queue_set.connection,
                          serializer=SERIALIZER)
    worker.work(burst=True, max_jobs=max_jobs)


def fresh(task_id: int) -> Task:
    """The Task row as the database has it now."""
    db.session.expire_all()
    task = db.session.get(Task, task_id)
    assert task is not None
    return task


def job_of(task_id: int) -> Job:
    return fetch_job(str(task_id), queues().connection)


def progress_entry(task: Task) -> dict[str, Any]:
    """The task's entry in its user's ``task_progress`` notification."""
    row = db.session.scalar(db.select(Notification).filter_by(username=task.username,
                                                              name="task_progress"))
    assert row is not None
    entries = [e for e in row.entries if e["task_id"] == task.id]
    assert len(entries) == 1, row.entries
    return entries[0]


def assert_utc(moment: Any) -> None:
    assert moment is not None
    assert moment.tzinfo is not None and moment.utcoffset() == timedelta(0)


def all_task_ids() -> list[int]:
    return list(db.session.scalars(db.select(Task.id)))


# -- TaskService.enqueue_task --------------------------------------------------------------

def test_enqueue_commits_a_queued_task_and_its_job(app: Flask, redis_conn: Redis) -> None:
    with app.app_context():
        task_id = enqueue(jobs.returns_value, 21, description="double it")
        task = fresh(task_id)
        assert (task.status, task.failed, task.progress) == ("queued", False, 0)
        assert (task.name, task.description, task.username) == ("returns_value", "double it", USER)
        assert task.attempts == 0 and task.started_at is None and task.finished_at is None
        assert_utc(task.created_at)
        job = job_of(task_id)
        assert job.get_status() == JobStatus.QUEUED
        assert str(task_id) in queues()["default"].job_ids
        assert job.description == "double it"
        assert job.retries_left == 3 and job.retry_intervals == [10, 60, 300]
        entry = progress_entry(task)
        assert (entry["progress"], entry["status"], entry["failed"]) == (0, "queued", False)


@pytest.mark.parametrize("description", [None, ""])
def test_enqueue_without_description_raises_and_creates_nothing(
        app: Flask, redis_conn: Redis, description: str | None) -> None:
    with app.app_context():
        with pytest.raises(ValueError, match="Description required"):
            TaskService(USER).enqueue_task(jobs.returns_value, 1, description=description)
        assert all_task_ids() == []
        assert db.session.scalar(db.select(db.func.count()).select_from(Notification)) == 0
    assert redis_conn.keys("rq:job:*") == []
    assert redis_conn.llen("rq:queue:default") == 0


@pytest.mark.parametrize("redis_refuses", [True])
def test_enqueue_when_redis_refuses_fails_the_task(app: Flask, redis_conn: Redis) -> None:
    with app.app_context():
        with pytest.raises(EnqueueError) as caught:
            TaskService(USER).enqueue_task(jobs.returns_value, 1, description="no redis")
        assert str(caught.value).startswith("Could not connect to Redis:")
        assert caught.value.task.id in all_task_ids()
        task = fresh(caught.value.task.id)
        assert (task.status, task.failed) == ("finished", True)
        assert task.log is not None and task.log.startswith("Could not connect to Redis:")
        assert_utc(task.finished_at)
        entry = progress_entry(task)
        assert (entry["status"], entry["failed"]) == ("finished", True)
        assert entry["log"] == task.log
    assert redis_conn.keys("rq:*") == []  # the test's server never saw the job


# -- @background_task: success -------------------------------------------------------------

def test_job_runs_queued_to_running_to_finished(app: Flask, redis_conn: Redis) -> None:
    with app.app_context():
        task_id = enqueue(jobs.returns_value, 21)
        run_worker()
        task = fresh(task_id)
        assert (task.status, task.failed, task.progress) == ("finished", False, 100)
        assert task.result == {"doubled": 42, "status_seen": "running", "started_seen": True,
                               "entry_seen": {"status": "running", "progress": 0}}
        assert task.log is None
        assert task.attempts == 1
        assert_utc(task.started_at)
        assert_utc(task.finished_at)
        assert task.created_at <= task.started_at <= task.finished_at
        entry = progress_entry(task)
        assert (entry["status"], entry["progress"], entry["failed"]) == ("finished", 100, False)
        assert entry["ended_at"] == task.finished_at.timestamp()
        assert job_of(task_id).get_status() == JobStatus.FINISHED


def test_progress_reports_reach_task_and_notification(app: Flask, redis_conn: Redis) -> None:
    with app.app_context():
        task_id = enqueue(jobs.counts_to, 4)
        run_worker()
        task = fresh(task_id)
        assert (task.status, task.failed, task.progress) == ("finished", False, 100)
        assert task.result == {"seen": [[25, 25], [50, 50], [75, 75], [100, 100]]}
        assert progress_entry(task)["progress"] == 100


def test_progress_reporter_throttles_unforced_reports(app: Flask, redis_conn: Redis) -> None:
    with app.app_context():
        task_id = enqueue(jobs.throttled_progress)
        run_worker()
        task = fresh(task_id)
        assert task.status == "finished" and not task.failed
        assert task.result == {"seen": [25, 25, 75]}


# -- @background_task: failures ------------------------------------------------------------

def test_exception_fails_task_with_one_line_summary(app: Flask, redis_conn: Redis) -> None:
    with app.app_context():
        task_id = enqueue(jobs.fails, "bad input\nsecond line of detail")
        run_worker()
        task = fresh(task_id)
        assert (task.status, task.failed) == ("finished", True)
        assert task.log == "ValueError: bad input"
        assert task.result is None and task.progress == 0
        assert task.attempts == 1
        assert_utc(task.finished_at)
        entry = progress_entry(task)
        assert (entry["status"], entry["failed"], entry["log"]) == (
            "finished", True, "ValueError: bad input")
        # A permanent failure is not retried, although the job had a retry policy.
        job = job_of(task_id)
        assert job.get_status() == JobStatus.FAILED
        assert str(task_id) not in queues()["default"].job_ids
        assert queues()["default"].scheduled_job_registry.get_job_ids() == []
        assert "Traceback" in (job.latest_result().exc_string or "")  # RQ keeps the detail


def test_exception_after_cancel_request_ends_canceled(app: Flask, redis_conn: Redis) -> None:
    with app.app_context():
        task_id = enqueue(jobs.fails_after_cancel_request, "connection reset")
        run_worker()
        task = fresh(task_id)
        assert (task.status, task.failed, task.log) == ("canceled", True, CANCELED_LOG)
        assert_utc(task.finished_at)
        assert progress_entry(task)["status"] == "canceled"


def test_transient_error_is_scheduled_for_retry(app: Flask, redis_conn: Redis) -> None:
    with app.app_context():
        task_id = enqueue(jobs.fails_transiently, "server busy")
        run_worker()
        task = fresh(task_id)
        assert (task.status, task.failed, task.attempts) == ("queued", False, 1)
        assert task.log == "일시적 오류, 다시 시도합니다: TransientError: server busy"
        assert task.finished_at is None
        job = job_of(task_id)
        assert job.get_status() == JobStatus.SCHEDULED
        assert queues()["default"].scheduled_job_registry.get_job_ids() == [str(task_id)]
        assert job.retries_left == 2
        entry = progress_entry(task)
        assert (entry["status"], entry["failed"], entry["ended_at"]) == ("queued", False, None)


@pytest.mark.parametrize("retry_intervals", ["0"])
def test_transient_error_requeues_then_fails_when_retries_run_out(
        app: Flask, redis_conn: Redis) -> None:
    with app.app_context():
        task_id = enqueue(jobs.fails_transiently, "server busy")
        assert job_of(task_id).retries_left == 1
        run_worker(max_jobs=1)

        task = fresh(task_id)
        assert (task.status, task.failed, task.attempts) == ("queued", False, 1)
        assert task.log is not None and task.log.startswith("일시적 오류")
        assert task.finished_at is None
        job = job_of(task_id)
        assert job.get_status() == JobStatus.QUEUED  # interval 0: back in the queue at once
        assert queues()["default"].job_ids == [str(task_id)]
        assert job.retries_left == 0
        assert progress_entry(task)["status"] == "queued"

        run_worker()
        task = fresh(task_id)
        assert (task.status, task.failed, task.attempts) == ("finished", True, 2)
        assert task.log == "TransientError: server busy"
        assert_utc(task.finished_at)
        assert task.started_at is not None and task.started_at <= task.finished_at
        assert job_of(task_id).get_status() == JobStatus.FAILED
        assert queues()["default"].job_ids == []
        assert progress_entry(task)["status"] == "finished"


# -- @background_task: cancel --------------------------------------------------------------

def test_cancel_requested_ends_canceled(app: Flask, redis_conn: Redis) -> None:
    with app.app_context():
        task_id = enqueue(jobs.cancels_itself)
        run_worker()
        task = fresh(task_id)
        assert (task.status, task.failed, task.log) == ("canceled", True, CANCELED_LOG)
        assert task.attempts == 1
        assert_utc(task.finished_at)
        entry = progress_entry(task)
        assert (entry["status"], entry["failed"]) == ("canceled", True)
        assert entry["ended_at"] == task.finished_at.timestamp()
        assert job_of(task_id).get_status() != JobStatus.SCHEDULED  # not retried


def test_task_canceled_before_it_runs_never_runs(app: Flask, redis_conn: Redis,
                                                  tmp_path: Any) -> None:
    """The cancel won the race but its job is still in the queue: the body must not run."""
    marker = tmp_path / "ran.txt"
    with app.app_context():
        task_id = enqueue(jobs.writes_marker, str(marker))
        assert Task.transition(task_id, ("queued",), status="canceled", failed=True,
                               log=CANCELED_LOG)
        assert str(task_id) in queues()["default"].job_ids
        run_worker()
        assert queues()["default"].job_ids == []  # the worker did take the job
        task = fresh(task_id)
        assert (task.status, task.failed, task.log) == ("canceled", True, CANCELED_LOG)
        assert task.started_at is None and task.attempts == 0 and task.result is None
    assert not marker.exists()


def test_cancel_task_of_queued_job_drops_it(app: Flask, redis_conn: Redis,
                                            tmp_path: Any) -> None:
    marker = tmp_path / "ran.txt"
    with app.app_context():
        task_id = enqueue(jobs.writes_marker, str(marker))
        canceled = TaskService(USER).cancel_task(task_id)
        assert canceled is not None and canceled.id == task_id
        assert queues()["default"].job_ids == []
        run_worker()
        task = fresh(task_id)
        assert (task.status, task.failed, task.log) == ("canceled", True, CANCELED_LOG)
        assert_utc(task.finished_at)
        assert task.started_at is None
        assert progress_entry(task)["status"] == "canceled"
    assert not marker.exists()


def test_marker_job_does_run_when_not_canceled(app: Flask, redis_conn: Redis,
                                               tmp_path: Any) -> None:
    """The control for the two tests above: the side effect they look for is real."""
    marker = tmp_path / "ran.txt"
    with app.app_context():
        task_id = enqueue(jobs.writes_marker, str(marker))
        run_worker()
        assert fresh(task_id).status == "finished"
    assert marker.read_text(encoding="utf-8") == "ran"
