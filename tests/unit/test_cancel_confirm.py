"""Issue 24, "confirm what cannot be undone", without JavaScript: a browser page posting the
cancel of a send under way (a navigation, Sec-Fetch-Mode: navigate) without ``confirm=1``
gets a small page that asks — a form with a CSRF token and confirm=1 — and nothing is
canceled until it is posted. A queued send is canceled at once; programs (no navigation)
and the page's script (JSON, which asks in the alert) are answered at once."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient

from app.extensions import db
from app.models import Task
from tests.support.flows import control, flashes, task

BROWSER = {"Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document"}


def _task(app: Flask, status: str) -> int:
    with app.app_context():
        row = Task(name="send_mail", description="[welcome] 템플릿 메일을 5명에게 전송",
                   username="alice", status=status, recipient_count=5, delivered_count=2)
        db.session.add(row)
        db.session.commit()
        return row.id


def test_cancel_of_a_running_send_asks_first(app: Flask, signed_in: FlaskClient) -> None:
    task_id = _task(app, "running")
    page = control(signed_in, task_id, headers=BROWSER)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "보내는 중인 메일을 취소할까요?" in html and "5명 중 2명에게 보냈습니다" in html
    form = re.search(r'<form[^>]*id="confirm-form".*?</form>', html, re.S).group(0)
    assert f'action="/tasks/{task_id}/cancel"' in form
    assert 'name="confirm" value="1"' in form and 'name="csrf_token"' in form
    assert 'id="confirm-yes"' in form and 'id="confirm-no"' in form
    row = task(app, task_id)
    assert (row.status, row.cancel_requested_at) == ("running", None)  # nothing yet

    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    answer = signed_in.post(f"/tasks/{task_id}/cancel", headers=BROWSER,
                            data={"csrf_token": token, "confirm": "1"})
    assert answer.status_code == 302
    [(category, message)] = flashes(signed_in)
    assert category == "info" and "취소를 요청했습니다" in message
    assert task(app, task_id).cancel_requested_at is not None


def test_a_queued_send_is_canceled_at_once(app: Flask, signed_in: FlaskClient) -> None:
    task_id = _task(app, "queued")
    assert control(signed_in, task_id, headers=BROWSER).status_code == 302
    assert task(app, task_id).status == "canceled"


def test_programs_and_the_pages_script_are_not_asked(app: Flask,
                                                     signed_in: FlaskClient) -> None:
    first, second = _task(app, "running"), _task(app, "running")
    assert control(signed_in, first).status_code == 302  # no navigation: SPEC's answer
    assert task(app, first).cancel_requested_at is not None
    answer = control(signed_in, second, headers={"Accept": "application/json", **BROWSER})
    assert answer.status_code == 202 and answer.get_json()["state"] == "canceling"


def test_an_ended_send_is_information_for_the_script(app: Flask,
                                                     signed_in: FlaskClient) -> None:
    task_id = _task(app, "finished")
    answer = control(signed_in, task_id, headers={"Accept": "application/json"})
    assert answer.status_code == 200  # nothing went wrong: it is over
    body = answer.get_json()
    assert body["ok"] is False
    assert body["category"] == "info" and body["ended"] is True
    assert body["message"] == f"Task#{task_id} send_mail가 이미 완료된 상태라 취소에 실패했습니다."
