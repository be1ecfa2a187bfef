"""Cancel: a queued send is dropped, a running send stops, an ended one is refused."""

from __future__ import annotations

import random
import time
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from redis import Redis
from rq import Worker
from rq.job import Job, JobStatus
from rq.registry import StartedJobRegistry

from app.extensions import db
from app.models import Delivery
from app.queue import fetch_job, queues
from app.tasks.service import TaskService
from tests.jobs_cancel import stubborn
from tests.support import wait_until
from tests.support.flows import (
    AuthActions,
    control,
    ended,
    flashes,
    post_send,
    task,
    tasks,
    wait_for_task,
)

pytestmark = pytest.mark.usefixtures("smtp_sink")  # each test mails the sink


def delivered_rows(app: Flask, task_id: int) -> list[str]:
    with app.app_context():
        query = db.select(Delivery.recipient).where(Delivery.task_id == task_id,
                                                    Delivery.status == "delivered")
        return list(db.session.scalars(query))


def workers_idle(conn: Redis) -> bool:
    """No worker is running a job: nothing can send any more."""
    return all(w.get_state() == "idle" for w in Worker.all(connection=conn)) and all(
        len(StartedJobRegistry(q.name, connection=conn)) == 0 for q in queues().ordered())


def test_cancel_running_send_stops_it(app: Flask, signed_in: FlaskClient, smtp_sink: Any,
                                      start_worker: Any, redis_conn: Redis) -> None:
    smtp_sink.handler.delay = 0.2
    start_worker()
    recipients = [f"r{i}@example.com" for i in range(50)]
    post_send(signed_in, ",".join(recipients))
    [row] = tasks(app)
    wait_until(lambda: smtp_sink.handler.count() >= 10, 30, "about 20 % sent")

    response = control(signed_in, row.id)
    at_answer = smtp_sink.handler.count()
    assert response.status_code == 302
    [(category, message)] = flashes(signed_in)
    assert category == "success" and f"Task#{row.id} send_mail가 취소되었습니다." in message

    done = task(app, row.id)
    assert (done.status, done.failed) == ("canceled", True)
    with app.app_context():
        wait_until(lambda: workers_idle(redis_conn), 20, "the worker to be idle")
    assert smtp_sink.handler.count() == at_answer  # nothing left after the answer
    assert smtp_sink.handler.count() == done.delivered_count
    assert sorted(smtp_sink.handler.recipients()) == sorted(delivered_rows(app, row.id))
    assert 10 <= done.delivered_count < 50
    assert f"50명 중 {done.delivered_count}명에게 전송됨" in message


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_cancel_hears_a_slow_relay_out(app: Flask, signed_in: FlaskClient, smtp_sink: Any,
                                       start_worker: Any, redis_conn: Redis) -> None:
    """Four connections each with a message on the wire when the cancel comes, and a relay
    that answers them one at a time, 0.5 s each: the last answer comes after the grace. The
    job saw the stop at once, so it is heard out, not killed: every message the relay kept
    is delivered, none is in doubt."""
    smtp_sink.handler.delay = 0.5
    start_worker()
    post_send(signed_in, ",".join(f"s{i}@example.com" for i in range(40)))
    [row] = tasks(app)
    wait_until(lambda: smtp_sink.handler.count() >= 4, 30, "the send under way")

    response = control(signed_in, row.id)
    assert response.status_code == 302
    # The answer came before the relay's last answers (the cancel is asked, not done yet):
    # the job stops between messages and hears them out.
    done = wait_for_task(app, row.id, ended)
    with app.app_context():
        wait_until(lambda: workers_idle(redis_conn), 20, "the worker to be idle")
    assert (done.status, done.unknown_count) == ("canceled", 0)
    assert smtp_sink.handler.count() == done.delivered_count < 40
    assert sorted(smtp_sink.handler.recipients()) == sorted(delivered_rows(app, row.id))


def test_cancel_queued_send_never_runs(app: Flask, signed_in: FlaskClient, smtp_sink: Any,
                                       start_worker: Any, redis_conn: Redis) -> None:
    post_send(signed_in, "a@example.com, b@example.com")
    [row] = tasks(app)
    response = control(signed_in, row.id)
    assert response.status_code == 302
    assert flashes(signed_in) == [("success", f"Task#{row.id} send_mail가 취소되었습니다.")]
    with app.app_context():
        assert len(queues()["default"]) == 0
        assert not redis_conn.exists(Job.key_for(str(row.id)))

    # A job placed under the same id (as if the cancel lost a race with Redis) must not run.
    with app.app_context():
        from app.mail.jobs import send_mail

        queues()["default"].enqueue_call(send_mail, args=("welcome", "x"), job_id=str(row.id))
    start_worker()
    with app.app_context():
        wait_until(lambda: len(queues()["default"]) == 0 and workers_idle(redis_conn), 20,
                   "the worker to take the job")
    assert smtp_sink.handler.count() == 0
    assert task(app, row.id).status == "canceled"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # about processes
def test_stop_job_fallback_for_a_job_that_does_not_listen(app: Flask, signed_in: FlaskClient,
                                                          start_worker: Any) -> None:
    app.config["CANCEL_DRAIN_SECONDS"] = 1  # the reconciler's stop-job comes sooner
    start_worker()
    with app.app_context():
        task_id = TaskService("alice").enqueue_task(stubborn, 60, description="deaf job").id
    wait_for_task(app, task_id, lambda t: t.status == "running")
    started = time.monotonic()
    response = control(signed_in, task_id)
    assert response.status_code == 302
    assert time.monotonic() - started < 15  # the answer did not wait for the job's 60 s
    # The job ignores its stop: the reconciler sends RQ's stop-job command a few seconds on.
    done = wait_for_task(app, task_id, ended, timeout=40)
    assert (done.status, done.failed) == ("canceled", True)
    with app.app_context():
        job = fetch_job(str(task_id), queues().connection)
        assert job.get_status() in (JobStatus.STOPPED, JobStatus.FAILED)


def test_cancel_finished_is_refused(app: Flask, signed_in: FlaskClient, smtp_sink: Any,
                                    start_worker: Any) -> None:
    start_worker()
    post_send(signed_in, "a@example.com")
    [row] = tasks(app)
    wait_for_task(app, row.id, ended)
    response = control(signed_in, row.id)
    assert response.status_code == 302
    assert flashes(signed_in) == [
        ("danger", f"Task#{row.id} send_mail가 이미 완료된 상태라 취소에 실패했습니다.")]
    done = task(app, row.id)
    assert (done.status, done.failed, done.delivered_count) == ("finished", False, 1)

def test_cancel_twice_is_refused(app: Flask, signed_in: FlaskClient) -> None:
    post_send(signed_in, "a@example.com")
    [row] = tasks(app)
    control(signed_in, row.id)
    assert flashes(signed_in)[0][0] == "success"
    control(signed_in, row.id)
    assert flashes(signed_in) == [
        ("danger", f"Task#{row.id} send_mail가 이미 완료된 상태라 취소에 실패했습니다.")]
    assert task(app, row.id).status == "canceled"


def test_cancel_rules_for_strangers_gets_and_csrf(app: Flask, client: FlaskClient,
                                                  auth: AuthActions) -> None:
    auth.create("alice")
    auth.create("bob")
    auth.login("alice")
    post_send(client, "a@example.com")
    [row] = tasks(app)
    auth.logout()
    auth.login("bob")
    assert control(client, row.id).status_code == 404
    assert control(client, row.id, "cancel_reserve").status_code == 404
    assert control(client, 999999).status_code == 404
    auth.logout()
    auth.login("alice")
    assert client.get(f"/tasks/{row.id}/cancel").status_code == 405
    assert client.post(f"/tasks/{row.id}/cancel").status_code == 400
    assert task(app, row.id).status == "queued"


def test_cancel_races_end_consistent(app: Flask, signed_in: FlaskClient, smtp_sink: Any,
                                     start_worker: Any, redis_conn: Redis) -> None:
    smtp_sink.handler.delay = 0.02
    rng = random.Random(20261123)
    worker_started = False
    for round_no in range(30):
        if not worker_started and (rng.random() < 0.3 or round_no == 3):
            start_worker(wait=rng.random() < 0.5)
            worker_started = True
        recipients = [f"race{round_no}-{i}@example.com" for i in range(6)]
        post_send(signed_in, ",".join(recipients))
        row = tasks(app)[-1]
        time.sleep(rng.uniform(0, 0.8))  # jitter, not a wait: where the cancel lands varies
        control(signed_in, row.id)
        flashes(signed_in)
        answered = task(app, row.id)
        assert ended(answered), f"round {round_no}: answered while {answered.status}"
        sent_at_answer = [r for r in smtp_sink.handler.recipients() if r in recipients]
        if worker_started:
            with app.app_context():
                wait_until(lambda: workers_idle(redis_conn), 20, "an idle worker")
        sent = [r for r in smtp_sink.handler.recipients() if r in recipients]
        final = task(app, row.id)
        assert final.status == answered.status, f"round {round_no}"
        assert sent == sent_at_answer, f"round {round_no}: mail after the cancel answer"
        assert sorted(sent) == sorted(delivered_rows(app, row.id)), f"round {round_no}"
        assert final.delivered_count == len(sent), f"round {round_no}"
        if final.status == "finished":
            assert final.delivered_count == 6, f"round {round_no}: stopped part way"
        else:
            assert final.status == "canceled" and final.failed
    assert worker_started
