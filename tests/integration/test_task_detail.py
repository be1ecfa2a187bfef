"""Who got it: the task detail page with every recipient's outcome, its CSV, a resend to
exactly the failed ones, and history filters."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.extensions import db
from app.models import Delivery, Task
from app.models.types import utcnow
from app.tasks.service import Mailing, TaskService
from tests.support.flows import (
    AuthActions,
    csrf_token,
    ended,
    flashes,
    outcomes,
    post_send,
    tasks,
    wait_for_task,
)

pytestmark = pytest.mark.usefixtures("smtp_sink")  # each test mails the sink


def test_refused_recipients_are_shown_and_resent_once(app: Flask, signed_in: FlaskClient,
                                                      smtp_sink: Any,
                                                      start_worker: Any) -> None:
    everyone = [f"r{i}@example.com" for i in range(10)]
    smtp_sink.handler.refuse = {"r3@example.com", "r7@example.com"}
    start_worker()
    post_send(signed_in, ",".join(everyone))
    [row] = tasks(app)
    wait_for_task(app, row.id, ended, what="the send")

    page = signed_in.get(f"/tasks/{row.id}").get_data(as_text=True)
    seen = outcomes(page)
    assert seen == {**dict.fromkeys(everyone, "delivered"), "r3@example.com": "refused",
                    "r7@example.com": "refused"}
    assert "550 5.1.1 mailbox unavailable" in page
    listed = list(csv.DictReader(io.StringIO(
        signed_in.get(f"/tasks/{row.id}/recipients.csv").data.decode("utf-8-sig"))))
    assert {r["email"]: r["outcome"] for r in listed} == seen
    assert all(r["message_id"].startswith(f"<mailroom.{row.id}.") for r in listed
               if r["outcome"] == "delivered")

    smtp_sink.handler.refuse = set()
    token = csrf_token(signed_in, f"/tasks/{row.id}")
    response = signed_in.post(f"/tasks/{row.id}/resend",
                              data={"which": "failed", "csrf_token": token})
    new = max(t.id for t in tasks(app))
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/tasks/{new}")
    done = wait_for_task(app, new, ended, what="the resend")
    assert (done.status, done.delivered_count, done.recipient_count) == ("finished", 2, 2)
    assert done.resent_from == row.id
    assert Counter(smtp_sink.handler.recipients()) == dict.fromkeys(everyone, 1)
    page = signed_in.get(f"/tasks/{new}").get_data(as_text=True)
    assert f'href="/tasks/{row.id}"' in page


def test_the_detail_json_is_live_and_pending_until_sent(app: Flask,
                                                        signed_in: FlaskClient) -> None:
    post_send(signed_in, "a@example.com, b@example.com")  # no worker: nothing sent yet
    [row] = tasks(app)
    answer = signed_in.get(f"/tasks/{row.id}/recipients.json").get_json()
    assert answer["unfinished"] is True
    assert [(r["recipient"], r["outcome"]) for r in answer["recipients"]] == [
        ("a@example.com", "pending"), ("b@example.com", "pending")]
    assert 'data-live-url="/tasks/' in signed_in.get(f"/tasks/{row.id}").get_data(as_text=True)


def test_strangers_get_404(app: Flask, client: FlaskClient, auth: AuthActions) -> None:
    auth.create("alice")
    auth.create("mallory")
    auth.login("alice")
    post_send(client, "a@example.com")
    [row] = tasks(app)
    auth.logout()
    auth.login("mallory")
    for path in (f"/tasks/{row.id}", f"/tasks/{row.id}/recipients.csv",
                 f"/tasks/{row.id}/recipients.json"):
        assert client.get(path).status_code == 404, path
    token = csrf_token(client, "/send_mail")
    assert client.post(f"/tasks/{row.id}/resend",
                       data={"which": "failed", "csrf_token": token}).status_code == 404
    assert len(tasks(app)) == 1


def test_history_filters_narrow_the_list(app: Flask, signed_in: FlaskClient) -> None:
    post_send(signed_in, "kim@example.com")
    post_send(signed_in, "lee@example.com, park@example.com", template="notice")
    first, second = tasks(app)
    with app.app_context():
        db.session.execute(db.update(Task).where(Task.id == first.id).values(
            status="finished", created_at=utcnow() - timedelta(days=3)))
        db.session.commit()

    def listed(query: str) -> set[int]:
        html = signed_in.get("/tasks?" + query).get_data(as_text=True)
        return {int(i) for i in re.findall(r'<tr id="task-(\d+)"', html)}

    assert listed("") == {first.id, second.id}
    assert listed("status=finished") == {first.id}
    assert listed("status=queued") == {second.id}
    assert listed("q=park%40example") == {second.id}
    assert listed("q=notice") == {second.id}
    today = utcnow().astimezone(ZoneInfo("Asia/Seoul")).date().isoformat()  # the user's zone
    assert listed(f"from={today}") == {second.id}
    assert listed("q=nobody") == set()
    page = signed_in.get("/tasks?from=yesterday&status=bogus").get_data(as_text=True)
    assert "날짜 형식이 올바르지 않습니다" in page and "알 수 없는 상태입니다" in page
    assert 'href="/tasks/' in signed_in.get("/tasks").get_data(as_text=True)


def test_a_message_not_built_is_not_the_servers_and_not_resent(
        app: Flask, signed_in: FlaskClient, smtp_sink: Any, start_worker: Any) -> None:
    # An address the SMTP path cannot carry: its message is never made (a row the form
    # would refuse today, as an older client or the API could have made it).
    everyone = ["a@example.com", "üser@example.com", "c@example.com"]
    smtp_sink.handler.refuse = {"c@example.com"}
    with app.app_context():
        task_id = TaskService("alice").send(Mailing.named("welcome", "alice", everyone)).id
    start_worker()
    done = wait_for_task(app, task_id, ended, what="the send")
    assert "메일을 만들지 못한 주소 1개" in done.log and "받는 서버가 거부한 주소 1개" in done.log
    page = signed_in.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert outcomes(page)["üser@example.com"] == "refused"
    row = re.search(r'<tr data-recipient="üser@example.com".*?</tr>', page, re.S).group(0)
    assert 'data-reason-kind="not_built"' in row and "메일을 만들지 못함: " in row
    assert "실패한 사람에게 다시 보내기 (1명)" in page

    token = csrf_token(signed_in, f"/tasks/{task_id}")
    signed_in.post(f"/tasks/{task_id}/resend", data={"which": "failed", "csrf_token": token})
    [(category, text)] = flashes(signed_in)
    assert category == "success" and "메일을 만들지 못한 1명" in text
    new = max(t.id for t in tasks(app))
    assert new != task_id
    with app.app_context():
        again = list(db.session.scalars(db.select(Delivery.recipient)
                                        .where(Delivery.task_id == new)))
    assert again == ["c@example.com"]
