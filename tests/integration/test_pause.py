"""Pause and resume: a running send stops between messages on every connection, a queued
one leaves its queue; resume sends to the recipients not yet served, never twice."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from redis import Redis

from app.queue import queues
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


def test_pause_running_then_resume_mails_everyone_once(app: Flask, signed_in: FlaskClient,
                                                      smtp_sink: Any,
                                                      start_worker: Any) -> None:
    smtp_sink.handler.delay = 0.1
    everyone = [f"r{i:02d}@example.com" for i in range(20)]
    post_send(signed_in, ",".join(everyone))
    [row] = tasks(app)
    start_worker()
    wait_until(lambda: smtp_sink.handler.count() >= 3, 30, "3 of 20 delivered")

    response = control(signed_in, row.id, "pause")
    assert response.status_code == 302
    [(category, message)] = flashes(signed_in)
    assert category == "success" and "일시 중지" in message
    paused = task(app, row.id)
    assert paused.status == "paused" and 3 <= paused.delivered_count < 20
    at_pause = smtp_sink.handler.count()
    assert at_pause == paused.delivered_count  # nothing in flight is left unsettled
    page = signed_in.get("/send_mail").get_data(as_text=True)
    assert f'id="{row.id}-progress-resume"' in page and "일시 중지" in page

    assert smtp_sink.handler.count() == at_pause  # still nothing while paused
    control(signed_in, row.id, "resume")
    assert flashes(signed_in)[0][0] == "success"
    done = wait_for_task(app, row.id, ended, what="the resumed send")
    assert (done.status, done.failed, done.delivered_count) == ("finished", False, 20)
    counts = Counter(smtp_sink.handler.recipients())
    assert counts == dict.fromkeys(everyone, 1)


def test_pause_queued_leaves_the_queue_and_resume_puts_it_back(
        app: Flask, signed_in: FlaskClient, smtp_sink: Any, start_worker: Any,
        redis_conn: Redis) -> None:
    post_send(signed_in, "a@example.com, b@example.com")
    [row] = tasks(app)
    control(signed_in, row.id, "pause")
    assert task(app, row.id).status == "paused"
    with app.app_context():
        assert len(queues()["default"]) == 0
    start_worker()
    control(signed_in, row.id, "resume")
    done = wait_for_task(app, row.id, ended, what="the resumed send")
    assert (done.status, done.delivered_count) == ("finished", 2)
    assert sorted(smtp_sink.handler.recipients()) == ["a@example.com", "b@example.com"]


def test_a_paused_send_can_be_canceled_and_resume_is_refused_after(
        app: Flask, signed_in: FlaskClient) -> None:
    post_send(signed_in, "a@example.com")
    [row] = tasks(app)
    control(signed_in, row.id, "pause")
    flashes(signed_in)
    control(signed_in, row.id, "cancel")
    assert task(app, row.id).status == "canceled"
    flashes(signed_in)
    control(signed_in, row.id, "resume")
    assert flashes(signed_in) == [("danger", f"Task#{row.id} send_mail는 일시 중지 상태가 "
                                             "아닙니다.")]


def test_strangers_get_404_and_gets_change_nothing(app: Flask, client: FlaskClient,
                                                  auth: AuthActions) -> None:
    auth.create("alice")
    auth.create("mallory")
    auth.login("alice")
    post_send(client, "a@example.com")
    [row] = tasks(app)
    assert client.get(f"/tasks/{row.id}/pause").status_code == 405
    auth.logout()
    auth.login("mallory")
    for action in ("pause", "resume"):
        assert control(client, row.id, action).status_code == 404
    assert task(app, row.id).status == "queued"
