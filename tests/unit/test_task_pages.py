"""The task pages (issue 24): a recipient whose message could not be made is not blamed on
the receiving server and not resent as it was; the CSV opens in Excel (BOM, ISO times);
the history and detail pages carry their charts with a text summary."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.extensions import db
from app.models import Delivery, Task
from app.models.task import NOT_BUILT
from app.models.types import utcnow
from app.tasks.service import Mailing, TaskService
from tests.support.flows import csrf_token, flashes, tasks

EVERYONE = ["ok@example.com", "bad@example.com", "broken@example.com", "late@example.com"]


@pytest.fixture
def ended_task(app: Flask, signed_in: FlaskClient) -> int:
    """alice's finished send: one delivered, one refused by the server, one whose message
    could not be made, one refused because the task gave up (never tried)."""
    with app.app_context():
        task = TaskService("alice").send(Mailing.named("welcome", "alice", EVERYONE))
        rows = {d.recipient: d for d in db.session.scalars(
            db.select(Delivery).where(Delivery.task_id == task.id))}
        now = utcnow()
        for i, (who, status, error, kind) in enumerate((
                ("ok@example.com", "delivered", None, None),
                ("bad@example.com", "refused", "550 5.1.1 mailbox unavailable", None),
                ("broken@example.com", "refused", "'name' is undefined", NOT_BUILT),
                ("late@example.com", "refused", "작업이 실패해 보내지 않았습니다.", None))):
            row = rows[who]
            row.status, row.error, row.reason_kind = status, error, kind
            row.updated_at = now - timedelta(seconds=30 - 10 * i)
            row.message_id = "<m1@example.com>" if status == "delivered" else None
        task.status, task.finished_at, task.failed = "finished", now, True
        task.sync_delivery_counts()
        db.session.commit()
        return task.id


def test_not_built_is_not_the_servers_reply(signed_in: FlaskClient, ended_task: int) -> None:
    html = signed_in.get(f"/tasks/{ended_task}").get_data(as_text=True)
    row = re.search(r'<tr data-recipient="broken@example.com"[^>]*>(.*?)</tr>', html, re.S)
    assert row and 'data-outcome="refused"' in row.group(0)
    assert "메일을 만들지 못함: &#39;name&#39; is undefined" in row.group(1)
    assert "서버 응답" not in html and "<th scope=\"col\">사유</th>" in html
    server = re.search(r'<tr data-recipient="bad@example.com".*?</tr>', html, re.S)
    assert server and "메일을 만들지" not in server.group(0)
    # The resend offers only the two it can repeat, and says why the third is left out.
    assert "실패한 사람에게 다시 보내기 (2명)" in html
    assert 'id="not-built-note"' in html


def test_resend_leaves_out_the_not_built(app: Flask, signed_in: FlaskClient,
                                         ended_task: int) -> None:
    token = csrf_token(signed_in, f"/tasks/{ended_task}")
    response = signed_in.post(f"/tasks/{ended_task}/resend",
                              data={"which": "failed", "csrf_token": token})
    assert response.status_code == 302
    new = tasks(app)[-1]
    assert new.resent_from == ended_task and new.recipient_count == 2
    with app.app_context():
        again = set(db.session.scalars(db.select(Delivery.recipient)
                                       .where(Delivery.task_id == new.id)))
    assert again == {"bad@example.com", "late@example.com"}
    [(category, text)] = flashes(signed_in)
    assert category == "success" and "메일을 만들지 못한 1명" in text


def test_resend_of_only_not_built_says_so(app: Flask, signed_in: FlaskClient,
                                          ended_task: int) -> None:
    with app.app_context():
        db.session.execute(db.update(Delivery).where(
            Delivery.task_id == ended_task, Delivery.recipient != "broken@example.com")
            .values(status="delivered", reason_kind=None))
        db.session.commit()
    token = csrf_token(signed_in, f"/tasks/{ended_task}")
    signed_in.post(f"/tasks/{ended_task}/resend", data={"which": "failed", "csrf_token": token})
    assert len(tasks(app)) == 1
    [(category, text)] = flashes(signed_in)
    assert category == "warning" and "메일을 만들지 못한 1명" in text


def test_csv_has_a_bom_and_iso_times(signed_in: FlaskClient, ended_task: int) -> None:
    response = signed_in.get(f"/tasks/{ended_task}/recipients.csv")
    assert response.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert [r["email"] for r in rows] == EVERYONE
    for r in rows:
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+09:00", r["at"]), r["at"]
    broken = rows[2]
    assert (broken["outcome"], broken["reason_kind"]) == ("refused", "not_built")
    assert broken["reply"].startswith("메일을 만들지 못함: ")


def test_detail_and_history_draw_their_charts(signed_in: FlaskClient, ended_task: int) -> None:
    html = signed_in.get(f"/tasks/{ended_task}").get_data(as_text=True)
    assert 'id="chart-timeline"' in html and 'id="chart-split"' in html
    assert html.count('role="img"') == 2 and "style=" not in html
    assert "받는 사람 4명: 전송 1, 거부 2, 메일을 만들지 못함 1" in html
    history = signed_in.get("/tasks").get_data(as_text=True)
    assert 'id="chart-days"' in history and "style=" not in history
    assert "최근 30일 동안 보내기 1건, 받는 사람 4명: 전송 1, 거부 3" in history
    assert history.count("<h1") == 1
    # Short local dates in the history, seconds only on the detail page.
    assert re.search(r"\d+월 \d+일 오[전후] \d+:\d\d<", history)
    assert not re.search(r"\d+월 \d+일 오[전후] \d+:\d\d:\d\d<", history)
    assert re.search(r"\d+월 \d+일 오[전후] \d+:\d\d:\d\d<", html)


def test_a_task_page_of_another_user_is_404(app: Flask, signed_in: FlaskClient) -> None:
    with app.app_context():
        other = Task(name="x", description="x", username="bob")
        db.session.add(other)
        db.session.commit()
        other_id = other.id
    assert signed_in.get(f"/tasks/{other_id}").status_code == 404


def test_the_page_names_the_template_it_sent(signed_in: FlaskClient, ended_task: int) -> None:
    html = signed_in.get(f"/tasks/{ended_task}").get_data(as_text=True)
    named = re.search(r"<dt[^>]*>템플릿</dt><dd[^>]*>([^<]*)</dd>", html)
    assert named and named.group(1) == "welcome"
