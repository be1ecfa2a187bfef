"""Issue 17, point 6: Redis write access no longer runs any importable function. A JSON job
names its callable; a worker runs only the functions of its allowlist (Mailroom's own, plus
``WORKER_JOB_ALLOWLIST``), and a job naming anything else is refused before it is imported."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from redis import Redis
from rq import Callback, Queue, Retry
from rq.job import Job

from app.queue import JOB_FUNCTIONS, SERIALIZER
from app.worker.allowlist import JobNotAllowed, allowlisted_job_class
from tests.support import wait_until

CANARY = "tests.support.allowlist_canary.run"


def attacker_queue(redis_conn: Redis) -> Queue:
    """The app's ``default`` queue as someone with Redis write access writes to it."""
    return Queue("default", connection=redis_conn, serializer=SERIALIZER)


def as_worker_reads(job: Job, redis_conn: Redis, extra: Any = ()) -> Job:
    """The job as a worker with the allowlist (plus ``extra``) reads it from Redis."""
    return allowlisted_job_class(extra).fetch(job.id, connection=redis_conn,
                                              serializer=SERIALIZER)


def test_only_mailroom_jobs_are_allowed_by_default() -> None:
    assert JOB_FUNCTIONS == ("app.mail.jobs.send_mail", "app.lists.jobs.import_members",
                             "app.bounces.jobs.handle_bounce", "app.webhooks_out.jobs.deliver")
    assert allowlisted_job_class().allowed == frozenset(JOB_FUNCTIONS)
    extended = allowlisted_job_class("tests.jobs.smoke_write, tests.jobs.fails,")
    assert extended.allowed == {*JOB_FUNCTIONS, "tests.jobs.smoke_write", "tests.jobs.fails"}


@pytest.mark.parametrize("name", ["os.system", "subprocess.getoutput", CANARY, "builtins.exec"])
def test_a_job_naming_another_function_is_refused_unimported(redis_conn: Redis,
                                                             name: str) -> None:
    job = as_worker_reads(attacker_queue(redis_conn).enqueue(name, "true"), redis_conn)
    with pytest.raises(JobNotAllowed, match="허용 목록"):
        job.func  # noqa: B018 - the property is what imports
    assert job.retries_left == 0
    allowed = as_worker_reads(job, redis_conn, [name])
    assert callable(allowed.func)


def test_callbacks_and_bound_jobs_are_refused(redis_conn: Redis) -> None:
    queue = attacker_queue(redis_conn)
    job = queue.enqueue("app.mail.jobs.send_mail", "welcome", "alice",
                        on_failure=Callback(CANARY), on_success=Callback("os.system"))
    read = as_worker_reads(job, redis_conn)
    assert "os.system" in (read.refusal() or "") and CANARY in (read.refusal() or "")
    assert read.failure_callback is None and read.success_callback is None
    bound = as_worker_reads(queue.enqueue("app.mail.jobs.send_mail"), redis_conn)
    assert bound.refusal() is None
    bound.instance = "text"  # ``getattr(instance, func_name)`` would run a str method
    with pytest.raises(JobNotAllowed):
        bound.func  # noqa: B018


def test_a_real_worker_refuses_json_jobs_naming_other_functions(
        app: Flask, start_worker: Any, redis_conn: Redis, tmp_path: Any) -> None:
    queue = attacker_queue(redis_conn)
    markers = {name: tmp_path / name for name in ("system", "getoutput", "callback")}
    jobs = [
        queue.enqueue("os.system", f"touch {markers['system']}"),
        queue.enqueue("subprocess.getoutput", f"touch {markers['getoutput']}",
                      retry=Retry(max=3)),  # a refusal is final: never retried
        queue.enqueue(CANARY, "x"),
        queue.enqueue("app.mail.jobs.send_mail", "welcome", "alice",
                      on_failure=Callback("os.system")),
    ]
    canary = tmp_path / "canary"
    worker = start_worker({"MAILROOM_CANARY": str(canary)})
    failed = queue.failed_job_registry
    wait_until(lambda: set(failed.get_job_ids()) >= {job.id for job in jobs}, 30,
               "the worker to refuse every job")
    for job in jobs:
        result = job.latest_result()
        assert result is not None and "JobNotAllowed" in (result.exc_string or "")
        assert "허용 목록에 없어 실행하지 않습니다" in (result.exc_string or "")
    assert not any(marker.exists() for marker in markers.values())
    assert not canary.exists(), "the refused job's module was imported"
    assert queue.scheduled_job_registry.get_job_ids() == []
    assert worker.poll() is None, "the worker survives what it refused"
