"""Small sends run in the worker's own process (app/worker/rqworker.py): no fork, but the
same guarantees — heartbeats while they run, and a cancel that really stops them even when
the relay hangs (no horse to kill: the SMTP connection is cut)."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from redis import Redis
from rq import Worker

from app.extensions import db
from app.models import Delivery
from app.tasks.service import TaskService
from tests import jobs
from tests.support import wait_until
from tests.support.flows import csrf_token, ended, post_send, tasks, wait_for_task

# Whether a job runs inline does not depend on the database.
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def app_config(app_config: dict[str, Any], smtp_sink: Any) -> dict[str, Any]:
    # No drain: a relay that hangs after the stop is cut at once (CANCEL_GRACE_SECONDS).
    app_config.update(MAIL_TIMEOUT_SECONDS=60,
                      WORKER_INLINE_MAX_RECIPIENTS=3, CANCEL_DRAIN_SECONDS=0)
    return app_config


def test_a_few_recipients_run_in_the_worker_more_in_a_horse(app: Flask, redis_conn: Redis,
                                                             start_worker: Any) -> None:
    start_worker()
    [worker] = Worker.all(connection=Redis.from_url(app.config["REDIS_URL"]))
    with app.app_context():
        service = TaskService("alice")
        few = service.enqueue_task(jobs.where_am_i, recipient_count=1, description="few").id
        many = service.enqueue_task(jobs.where_am_i, recipient_count=4, description="many").id
    pids = {name: wait_for_task(app, task_id, ended).result["pid"]
            for name, task_id in (("few", few), ("many", many))}
    assert pids["few"] == worker.pid
    assert pids["many"] != worker.pid


def test_cancel_cuts_a_hanging_relay(app: Flask, signed_in: FlaskClient, smtp_sink: Any,
                                     start_worker: Any) -> None:
    smtp_sink.handler.delay = 4  # the relay takes the message and hangs before its answer
    start_worker()
    post_send(signed_in, "slow@example.com")
    [row] = tasks(app)
    wait_until(lambda: smtp_sink.handler.data_begun or None, 30, "the message on the wire")

    token = csrf_token(signed_in, "/send_mail")
    answer = signed_in.post(f"/tasks/{row.id}/cancel", data={"csrf_token": token},
                            headers={"Accept": "application/json"})
    assert answer.status_code == 200, answer.get_json()
    # Answered while the relay still hangs: the job stopped, its message in doubt.
    done = wait_for_task(app, row.id, ended)
    assert (done.status, done.delivered_count, done.unknown_count) == ("canceled", 0, 1)
    with app.app_context():
        status = db.session.scalar(db.select(Delivery.status).where(Delivery.task_id == row.id))
    assert status == "unknown"


def test_a_long_inline_send_keeps_its_worker_alive(app: Flask, signed_in: FlaskClient,
                                                   smtp_sink: Any, start_worker: Any) -> None:
    app.config["WORKER_STALE_SECONDS"] = 4  # the reconciler would take it for dead at once
    smtp_sink.handler.delay = 10
    start_worker()
    post_send(signed_in, "slow@example.com")
    [row] = tasks(app)
    done = wait_for_task(app, row.id, ended, what="the slow send")
    assert (done.status, done.failed, done.attempts, done.delivered_count) == \
        ("finished", False, 1, 1)
    assert smtp_sink.handler.recipients() == ["slow@example.com"]
