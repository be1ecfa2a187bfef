"""Your own mail (issue 11): templates written in the app, CSV recipients with their own
fields, a preview that queues nothing, and a task that keeps the template it was made with.
The sends go through a real ``python worker.py`` to the recording sink."""

from __future__ import annotations

import io
import math
import re
import time
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from redis import Redis

from app.extensions import db
from app.models import MailTemplate
from tests.support.flows import (
    AuthActions,
    csrf_token,
    delivery_fields,
    ended,
    flashes,
    post_send,
    tasks,
    wait_for_task,
)

CSV = "email,name\nkim@example.com,김하나\nlee@example.com,Lee <Dul>\npark@example.com,박셋\n"
# Checks of forms and routes: the database makes no difference to them.
SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
NAMES = {"kim@example.com": "김하나", "lee@example.com": "Lee <Dul>",
         "park@example.com": "박셋"}


@pytest.fixture
def app_config(app_config: dict[str, Any], smtp_sink: Any) -> dict[str, Any]:
    app_config.update(RESERVATION_MIN_LEAD_SECONDS=3)
    return app_config


def save_template(client: FlaskClient, path: str = "/templates/new", **fields: str) -> Any:
    data = {"name": "greeting", "subject": "{{ name }}님, 안녕하세요",
            "body_text": "{{ name }}님께\n주소: {{ email }}",
            "body_html": "<p>{{ name }}님께</p>", **fields}
    return client.post(path, data={**data, "csrf_token": csrf_token(client, "/templates/new")})


def template_id(app: Flask, name: str) -> int:
    with app.app_context():
        return db.session.scalar(db.select(MailTemplate.id).where(MailTemplate.name == name))


def parts(message: Any) -> tuple[str, str, str]:
    """Subject, text part and HTML part of a received mail."""
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    return str(message["Subject"]), text, html


def queued_nothing(app: Flask, redis_conn: Redis) -> bool:
    return not tasks(app) and not any(k.startswith(b"rq:job:") for k in redis_conn.keys())


def test_own_template_to_csv_arrives_with_each_name(app: Flask, signed_in: FlaskClient,
                                                    smtp_sink: Any, start_worker: Any) -> None:
    assert save_template(signed_in).status_code == 302
    start_worker()
    post_send(signed_in, CSV, template="greeting")
    [row] = tasks(app)
    wait_for_task(app, row.id, ended, what="the send")

    got = {m.rcpt_tos[0]: parts(m.message) for m in smtp_sink.handler.messages}
    assert sorted(got) == sorted(NAMES)
    for address, (subject, text, html) in got.items():
        name = NAMES[address]
        assert subject == f"{name}님, 안녕하세요"
        assert text.startswith(f"{name}님께\n주소: {address}")
        assert f"<p>{name.replace('<', '&lt;').replace('>', '&gt;')}님께</p>" in html
    final = wait_for_task(app, row.id, ended)
    assert (final.status, final.failed, final.delivered_count) == ("finished", False, 3)


def test_edit_after_reserving_does_not_change_the_reservation(
        app: Flask, signed_in: FlaskClient, smtp_sink: Any, start_worker: Any) -> None:
    save_template(signed_in, subject="첫 제목 {{ name }}")
    when = datetime.fromtimestamp(math.ceil(time.time()) + 4, UTC)
    local = when.astimezone(ZoneInfo("Asia/Seoul")).strftime("%Y-%m-%dT%H:%M:%S")
    post_send(signed_in, CSV, template="greeting", is_scheduled="y", scheduled_time=local)
    [row] = tasks(app)
    assert row.status == "reserved"

    edit = f"/templates/{template_id(app, 'greeting')}/edit"
    assert save_template(signed_in, edit, subject="바뀐 제목").status_code == 302
    start_worker()
    wait_for_task(app, row.id, ended, what="the reservation to be sent")
    subjects = sorted(str(m.message["Subject"]) for m in smtp_sink.handler.messages)
    assert subjects == sorted(f"첫 제목 {n}" for n in NAMES.values())

    # Deleting it now changes nothing either; a new send uses what is saved then.
    token = csrf_token(signed_in, "/templates")
    signed_in.post(f"/templates/{template_id(app, 'greeting')}/delete",
                   data={"csrf_token": token})
    assert template_id(app, "greeting") is None
    assert tasks(app)[0].template["subject"] == "첫 제목 {{ name }}"


@SQLITE_ONLY
@pytest.mark.parametrize("fields,part,message", [
    ({"body_text": "{{ ''.__class__.__mro__ }}"}, "body_text", "밑줄(_)로 시작하는 속성"),
    ({"body_html": "<p>\n{{ name|attr('__globals__') }}</p>"}, "body_html",
     "HTML 본문 2번째 줄: 밑줄(_)로"),
    ({"body_text": "첫 줄\n{% for i in range(3) %}\n{{ i }"}, "body_text",
     "텍스트 본문 3번째 줄: 문법 오류"),
    ({"subject": "{% if name %}"}, "subject", "제목 1번째 줄: 문법 오류"),
    ({"body_text": "{% for i in range(100000) %}x{% endfor %}"}, "body_text", "10,000개"),
    ({"body_text": "{{ 'x' * 1000000000 }}"}, "body_text", "너무 깁니다"),
])
def test_unsafe_or_broken_templates_are_refused_at_save(app: Flask, signed_in: FlaskClient,
                                                        fields: dict[str, str], part: str,
                                                        message: str) -> None:
    response = save_template(signed_in, **fields)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    error = re.search(rf'id="{part}-error">([^<]*)<', page)
    assert error and message in error.group(1), page[-3000:]
    assert template_id(app, "greeting") is None


@SQLITE_ONLY
@pytest.mark.parametrize("recipients,message", [
    ("email,name\nkim@example.com,김하나\nnot-an-address,둘\n", "3번째 줄: 올바르지 않은"),
    ("email,name\nkim@example.com,김하나\nKIM@example.com,또\n", "3번째 줄: KIM@example.com"),
    ("email,name\nkim@example.com\n", "2번째 줄: 열이 1개입니다"),
    ("email,nick\nkim@example.com,하나\n", "1번째 줄: 템플릿이 쓰는 필드(name)"),
    ("kim@example.com, lee@example.com", "템플릿이 받는 사람 필드(name)"),
])
def test_bad_csv_queues_nothing_and_names_the_line(app: Flask, signed_in: FlaskClient,
                                                    redis_conn: Redis, recipients: str,
                                                    message: str) -> None:
    save_template(signed_in)
    response = post_send(signed_in, recipients, template="greeting")
    assert response.status_code == 302
    [(category, text)] = flashes(signed_in)
    assert category == "danger" and message in text, text
    assert queued_nothing(app, redis_conn)


def test_uploaded_csv_from_a_korean_spreadsheet(app: Flask, signed_in: FlaskClient) -> None:
    save_template(signed_in)
    upload = (io.BytesIO(CSV.encode("cp949")), "명단.csv")
    response = signed_in.post("/send_mail", data={
        "recipient": "", "recipient_file": upload, "template_name": "greeting",
        "timezone": "Asia/Seoul", "csrf_token": csrf_token(signed_in, "/send_mail")},
        content_type="multipart/form-data")
    assert response.status_code == 302
    assert flashes(signed_in)[0][0] == "success"
    [row] = tasks(app)
    assert delivery_fields(app, row.id) == {a: {"name": n} for a, n in NAMES.items()}
    assert row.template["name"] == "greeting"
    # Fields and template in the DB: the job is told only its task and run (issue 18).
    assert row.job_args == {"args": [], "kwargs": {}}


@SQLITE_ONLY
def test_preview_renders_each_recipient_and_queues_nothing(app: Flask, signed_in: FlaskClient,
                                                           redis_conn: Redis) -> None:
    save_template(signed_in)
    token = csrf_token(signed_in, "/send_mail")
    form = {"recipient": CSV, "template_name": "greeting", "csrf_token": token}
    first = signed_in.post("/send_mail/preview", data=form).get_json()
    assert first == {"subject": "김하나님, 안녕하세요", "text": "김하나님께\n주소: kim@example.com",
                     "html": "<p>김하나님께</p>", "recipient": "kim@example.com",
                     "index": 0, "count": 3}
    second = signed_in.post("/send_mail/preview", data={**form, "index": "1"}).get_json()
    assert second["html"] == "<p>Lee &lt;Dul&gt;님께</p>"
    bad = signed_in.post("/send_mail/preview", data={**form, "recipient": "a@b.com"})
    assert bad.status_code == 400 and "필드(name)" in bad.get_json()["error"]
    assert queued_nothing(app, redis_conn)


@SQLITE_ONLY
def test_templates_are_private_and_builtins_read_only(app: Flask, client: FlaskClient,
                                                      auth: AuthActions) -> None:
    auth.create("bob")
    auth.login("bob")
    save_template(client, name="bobs")
    bobs = template_id(app, "bobs")
    auth.logout()
    auth.create()
    auth.login()
    assert client.get(f"/templates/{bobs}/edit").status_code == 404
    token = csrf_token(client, "/templates")
    assert client.post(f"/templates/{bobs}/delete", data={"csrf_token": token}).status_code \
        == 404
    assert "bobs" not in client.get("/templates").get_data(as_text=True)
    assert 'value="bobs"' not in client.get("/send_mail").get_data(as_text=True)
    response = post_send(client, "a@example.com", template="bobs")
    assert "알 수 없는 템플릿" in flashes(client)[0][1] and response.status_code == 302

    welcome = template_id(app, "welcome")
    page = client.get(f"/templates/{welcome}/edit").get_data(as_text=True)
    assert "기본 템플릿은 고칠 수 없습니다" in page and 'id="template-save"' not in page
    assert client.post(f"/templates/{welcome}/delete",
                       data={"csrf_token": token}).status_code == 403
    assert "같은 이름" in save_template(client, name="welcome").get_data(as_text=True)
    copy = client.post(f"/templates/{welcome}/duplicate", data={"csrf_token": token})
    assert copy.status_code == 302 and template_id(app, "welcome 사본") is not None
