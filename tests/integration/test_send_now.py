"""Send now, end to end: the form, TaskService, a real worker, a real SMTP sink."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.devstack import RedisServer
from tests.support import wait_until
from tests.support.flows import ended, flashes, post_send, tasks, wait_for_task


@pytest.fixture
def app_config(app_config: dict[str, Any], smtp_sink: Any) -> dict[str, Any]:
    app_config.update(TASK_RETRY_INTERVALS="1,1",
                      MAIL_DEFAULT_SENDER="Mailroom <noreply@mailroom.test>")
    return app_config


def progress_of(client: FlaskClient, task_id: int) -> int | None:
    for notification in client.get("/notifications?since=0").get_json():
        if notification["name"] == "task_progress":
            for entry in notification["data"]:
                if entry["task_id"] == task_id:
                    return entry["progress"]
    return None


def test_three_recipients_get_one_mail_each(app: Flask, signed_in: FlaskClient,
                                            smtp_sink: Any, start_worker: Any) -> None:
    response = post_send(signed_in, "a@example.com, b@example.com\nc@example.com")
    assert response.status_code == 302
    assert flashes(signed_in) == [("success", "[a@example.com, b@example.com, c@example.com]에게 "
                                   "[welcome] 템플릿 메일을 전송하였습니다.")]
    [row] = tasks(app)
    assert row.status == "queued" and row.recipient_count == 3
    assert progress_of(signed_in, row.id) == 0  # before any worker runs

    start_worker()
    seen: list[int] = []

    def reached_100() -> bool:
        value = progress_of(signed_in, row.id)
        if value is not None and (not seen or seen[-1] != value):
            seen.append(value)
        return value == 100

    wait_until(reached_100, 30, "progress 100")
    assert seen == sorted(seen) and seen[-1] == 100
    done = wait_for_task(app, row.id, ended)
    assert (done.status, done.failed, done.delivered_count) == ("finished", False, 3)
    assert done.started_at is not None and done.finished_at >= done.started_at

    received = smtp_sink.handler.messages
    assert sorted(smtp_sink.handler.recipients()) == ["a@example.com", "b@example.com",
                                                      "c@example.com"]
    for mail in received:
        assert len(mail.rcpt_tos) == 1
        assert mail.message["Subject"] == "Mailroom에 오신 것을 환영합니다"
        assert mail.message["From"] == "Mailroom <noreply@mailroom.test>"
        assert mail.message["To"] == mail.rcpt_tos[0]
        assert mail.message["Message-ID"].startswith(f"<mailroom.{row.id}.")
        assert mail.message.get_body(("plain",)) is not None
        assert mail.message.get_body(("html",)) is not None
    page = signed_in.get("/tasks").get_data(as_text=True)
    assert "3/3" in page and "완료" in page


def test_redis_down_fails_cleanly(app_config: dict[str, Any], signed_in: FlaskClient,
                                  app: Flask) -> None:
    doomed = RedisServer().start()
    app.extensions["rq"].connection.connection_pool.disconnect()
    from app import queue

    app.config["REDIS_URL"] = doomed.url
    queue.init_app(app)
    doomed.stop()

    response = post_send(signed_in, "a@example.com")
    assert response.status_code == 302
    assert flashes(signed_in) == [
        ("danger", "[a@example.com]에게 [welcome] 템플릿 메일 전송을 실패하였습니다.")]
    [row] = tasks(app)
    assert (row.status, row.failed) == ("finished", True)
    assert row.log.startswith("Could not connect to Redis:")
    page = signed_in.get("/send_mail")
    assert page.status_code == 200


def test_451_then_delivered_once_after_retry(app: Flask, signed_in: FlaskClient,
                                             smtp_sink: Any, start_worker: Any) -> None:
    smtp_sink.handler.defer_first = 1
    start_worker()
    post_send(signed_in, "a@example.com, b@example.com")
    [row] = tasks(app)
    done = wait_for_task(app, row.id, ended, what="the retried send")
    assert (done.status, done.failed, done.delivered_count) == ("finished", False, 2)
    assert done.attempts == 2
    assert sorted(smtp_sink.handler.recipients()) == ["a@example.com", "b@example.com"]


def test_550_for_one_recipient(app: Flask, signed_in: FlaskClient, smtp_sink: Any,
                               start_worker: Any) -> None:
    smtp_sink.handler.refuse = {"bad@example.com"}
    start_worker()
    post_send(signed_in, "a@example.com, bad@example.com, c@example.com")
    [row] = tasks(app)
    done = wait_for_task(app, row.id, ended)
    assert sorted(smtp_sink.handler.recipients()) == ["a@example.com", "c@example.com"]
    assert (done.status, done.delivered_count, done.failed_count) == ("finished", 2, 1)
    assert done.failed and "bad@example.com" in done.log
    assert done.attempts == 1


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_waiting_retry_shows_the_true_count(app_config: dict[str, Any], app: Flask,
                                              signed_in: FlaskClient, smtp_sink: Any,
                                              start_worker: Any) -> None:
    """A 451 for the sixth message: while RQ's retry waits, the Task says 5 were delivered
    (it used to say the count of its last throttled progress write)."""
    app.config["TASK_RETRY_INTERVALS"] = "4"
    smtp_sink.handler.defer_nth = 6
    start_worker({"TASK_RETRY_INTERVALS": "4"})
    post_send(signed_in, ", ".join(f"r{i}@example.com" for i in range(8)))
    [row] = tasks(app)
    waiting = wait_for_task(app, row.id, lambda t: t.status == "queued" and t.attempts == 1,
                            what="the task to wait for its retry")
    assert (waiting.delivered_count, smtp_sink.handler.count()) == (5, 5)
    entry = next(e for n in signed_in.get("/notifications?since=0").get_json()
                 if n["name"] == "task_progress" for e in n["data"] if e["task_id"] == row.id)
    assert entry["delivered"] == 5 and entry["status"] == "queued"
    done = wait_for_task(app, row.id, ended, what="the retried send")
    assert (done.status, done.failed, done.delivered_count) == ("finished", False, 8)
    assert sorted(smtp_sink.handler.recipients()) == sorted(f"r{i}@example.com" for i in range(8))
