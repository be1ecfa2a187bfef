"""Bad input on the send form: a clear flash, no Task row, no job, no 500."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from redis import Redis

from app.extensions import db
from app.mail.recipients import parse_recipients
from app.models import Delivery, Task
from app.queue import fetch_job
from tests.support.flows import flashes, post_send, tasks


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    app_config["MAIL_MAX_RECIPIENTS"] = 3
    return app_config


@pytest.mark.parametrize("recipients,template,message", [
    ("not-an-address", "welcome", "올바르지 않은 이메일 주소입니다: not-an-address"),
    ("a@example.com\rBcc: victim@example.com", "welcome", "줄바꿈이나 제어 문자"),
    ("a@example.com, b@exa\x00mple.com", "welcome", "줄바꿈이나 제어 문자"),
    ("", "welcome", "받는 사람을 한 명 이상 입력하세요."),
    (" , \n ,", "welcome", "받는 사람을 한 명 이상 입력하세요."),
    ("a@example.com", "no-such-template", "알 수 없는 템플릿입니다: no-such-template"),
    ("a@example.com,b@example.com,c@example.com,d@example.com", "welcome",
     "받는 사람은 한 번에 3명까지 보낼 수 있습니다."),
])
def test_bad_input_changes_nothing(app: Flask, signed_in: FlaskClient, redis_conn: Redis,
                                   recipients: str, template: str, message: str) -> None:
    response = post_send(signed_in, recipients, template)
    assert response.status_code == 302
    [(category, text)] = flashes(signed_in)
    assert category == "danger" and message in text
    assert tasks(app) == []
    assert redis_conn.keys("rq:job:*") == []
    assert signed_in.get("/send_mail").status_code == 200


def test_recipients_are_split_trimmed_and_deduplicated() -> None:
    raw = " a@example.com ,B@Example.com\r\nb@example.com\n\nc@example.com, a@example.com "
    assert parse_recipients(raw, 10) == ["a@example.com", "B@example.com", "c@example.com"]


def test_send_without_csrf_is_400(signed_in: FlaskClient, app: Flask) -> None:
    response = signed_in.post("/send_mail", data={"recipient": "a@example.com",
                                                  "template_name": "welcome"})
    assert response.status_code == 400
    assert tasks(app) == []


def test_good_input_makes_one_task_and_one_job(app: Flask, signed_in: FlaskClient,
                                               redis_conn: Redis) -> None:
    post_send(signed_in, "a@example.com, b@example.com, c@example.com")
    [row] = tasks(app)
    job = fetch_job(str(row.id), redis_conn)
    assert job.origin == "default"
    assert job.timeout == 315  # grows with the batch: RQ's default 180 s would cut it short
    # The job carries no recipients: they are the task's delivery rows, in order; nor the
    # template or its owner: the job reads them from its Task row (issue 18).
    assert job.args == []
    with app.app_context():
        rows = db.session.execute(db.select(Delivery.recipient, Delivery.status)
                                  .where(Delivery.task_id == row.id)
                                  .order_by(Delivery.position)).all()
        stored = db.session.get(Task, row.id)
        assert stored is not None and stored.job_func == "app.mail.jobs.send_mail"
    assert [tuple(r) for r in rows] == [("a@example.com", "pending"), ("b@example.com", "pending"),
                                        ("c@example.com", "pending")]


def test_reservations_go_to_the_high_queue(app: Flask, signed_in: FlaskClient,
                                           redis_conn: Redis) -> None:
    post_send(signed_in, "a@example.com", is_scheduled="y", scheduled_time="2099-01-01T00:00",
              timezone="Asia/Seoul")
    assert flashes(signed_in)[0] == ("danger", "현재보다 30일 이후로는 예약할 수 없습니다.")
    soon = datetime.now(ZoneInfo("Asia/Seoul")) + timedelta(hours=1)
    post_send(signed_in, "a@example.com", is_scheduled="y",
              scheduled_time=soon.strftime("%Y-%m-%d %H:%M:%S"), timezone="Asia/Seoul")
    [row] = tasks(app)
    assert row.status == "reserved"
    assert fetch_job(str(row.id), redis_conn).origin == "high"
