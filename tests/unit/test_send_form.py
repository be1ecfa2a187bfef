"""Bad input on the send form: a clear flash, no Task row, no job, no 500."""

from __future__ import annotations

import io
import re
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from redis import Redis

from app.extensions import db
from app.mail.recipients import parse_recipients
from app.mail_ui.plan import RESERVATION_WITHOUT_TIME, TIME_WITHOUT_RESERVATION
from app.models import Delivery, Task
from app.queue import fetch_job
from tests.support.flows import csrf_token, flashes, post_send, tasks


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


# -- issue 24: one control for when, and a refused form comes back as it was -------------

def _field(page: str, name: str) -> str:
    """The opening tag of the form field named ``name``."""
    match = re.search(rf'<(?:input|textarea|select)[^>]*\bname="{name}"[^>]*>', page)
    assert match, f"no field {name}"
    return match.group(0)


def test_a_time_without_a_reservation_sends_nothing(app: Flask, signed_in: FlaskClient,
                                                    redis_conn: Redis) -> None:
    soon = datetime.now(ZoneInfo("Asia/Seoul")) + timedelta(hours=1)
    response = post_send(signed_in, "a@example.com", template="notice",
                         scheduled_time=soon.strftime("%Y-%m-%dT%H:%M"))
    assert response.status_code == 302
    [(category, text)] = flashes(signed_in)
    assert category == "danger" and text == TIME_WITHOUT_RESERVATION
    assert tasks(app) == [] and redis_conn.keys("rq:job:*") == []
    page = signed_in.get("/send_mail").get_data(as_text=True)
    time_field = _field(page, "scheduled_time")
    assert 'aria-invalid="true"' in time_field and "autofocus" in time_field
    assert 'aria-describedby="scheduled_time-error' in time_field
    assert f'id="scheduled_time-error">{TIME_WITHOUT_RESERVATION}' in page.replace("&#39;", "'")
    assert soon.strftime("%Y-%m-%dT%H:%M") in time_field
    assert 'value="notice" selected' in page or "selected value=\"notice\"" in page


def test_a_reservation_without_a_time_is_refused_on_the_field(app: Flask,
                                                              signed_in: FlaskClient) -> None:
    post_send(signed_in, "a@example.com", is_scheduled="y", scheduled_time="")
    [(category, text)] = flashes(signed_in)
    assert category == "danger" and text == RESERVATION_WITHOUT_TIME
    assert tasks(app) == []
    page = signed_in.get("/send_mail").get_data(as_text=True)
    assert 'aria-invalid="true"' in _field(page, "scheduled_time")
    assert re.search(r'name="is_scheduled"[^>]*value="y"[^>]* checked', page)


@pytest.mark.parametrize("recipients,field", [
    ("a@example.com\nnot-an-address", "recipient"),
    ("a@example.com,b@example.com,c@example.com,d@example.com", "recipient"),
])
def test_a_refused_send_keeps_every_field(app: Flask, signed_in: FlaskClient,
                                          recipients: str, field: str) -> None:
    post_send(signed_in, recipients, template="notice")
    page = signed_in.get("/send_mail").get_data(as_text=True)
    assert recipients in page  # the box as it was typed
    assert re.search(r'<option[^>]*value="notice"[^>]*selected|<option selected[^>]*value="notice"',
                     page)
    tag = _field(page, field)
    assert 'aria-invalid="true"' in tag and f'aria-describedby="{field}-error' in tag
    assert f'id="{field}-error"' in page
    # Read once: the next visit is a fresh form (with the last template still chosen).
    again = signed_in.get("/send_mail").get_data(as_text=True)
    assert 'aria-invalid="true"' not in again and recipients not in again


def test_box_plus_file_names_the_file_again(app: Flask, signed_in: FlaskClient) -> None:
    upload = (io.BytesIO(b"email\nb@example.com\n"), "list.csv")
    signed_in.post("/send_mail", data={
        "recipient": "a@example.com", "recipient_file": upload, "template_name": "notice",
        "timezone": "Asia/Seoul", "csrf_token": csrf_token(signed_in, "/send_mail")},
        content_type="multipart/form-data")
    assert tasks(app) == []
    page = signed_in.get("/send_mail").get_data(as_text=True)
    assert 'id="recipient-file-name">list.csv<' in page
    assert 'aria-invalid="true"' in _field(page, "recipient_file")
    assert "a@example.com" in page


def test_the_last_template_stays_chosen(app: Flask, signed_in: FlaskClient) -> None:
    post_send(signed_in, "a@example.com", template="notice")
    assert flashes(signed_in)[0][0] == "success"
    page = signed_in.get("/send_mail").get_data(as_text=True)
    assert re.search(r'<option[^>]*value="notice"[^>]*selected|<option selected[^>]*value="notice"',
                     page)
    [row] = tasks(app)
    assert "data-just-sent" in page and f'id="{row.id}-alert"' in page
