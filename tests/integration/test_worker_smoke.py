"""A job enqueued through the queue layer runs on a real worker, in the app context."""

from __future__ import annotations

from flask import Flask
from rq.job import JobStatus

from app.extensions import db
from app.models import Task
from app.queue import queues
from tests.jobs import smoke_write
from tests.support import wait_until


def test_smoke_job_runs_on_real_worker(app: Flask, start_worker) -> None:
    worker = start_worker()
    with app.app_context():
        job = queues()["default"].enqueue(smoke_write, "hello from the test")
        wait_until(lambda: job.get_status() in (JobStatus.FINISHED, JobStatus.FAILED), 30,
                   "the smoke job")
        assert job.get_status() == JobStatus.FINISHED, job.latest_result()
        result = job.return_value()
        assert result["app"] == "app"
        assert result["pid"] != worker.pid  # ran in a forked horse
        task = db.session.get(Task, result["task_id"])
        assert task is not None and task.description == "hello from the test"
