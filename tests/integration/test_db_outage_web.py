"""The app's PostgreSQL taken away (every connection reset, new ones refused) while users
are signed in: every page answers 503 with ``Retry-After`` — a Korean page, or JSON for the
page's scripts — never a 500; once the database is back every page answers 200 again.
(The open page's poller meanwhile: tests/e2e/test_poll_backoff.py.)"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.errors import DB_RETRY_AFTER_SECONDS
from app.extensions import db
from app.models import Task
from tests.support.flows import PASSWORD, csrf_token
from tests.support.live import Browser, LiveApp, live_app  # noqa: F401 (a fixture)
from tests.support.tcp_proxy import TcpProxy, through

pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)

JSON = {"Accept": "application/json"}
RECOVERY_SECONDS = 10


@pytest.fixture
def app_config(app_config: dict[str, Any], pg_proxy: TcpProxy,
               database_url: str) -> dict[str, Any]:
    """The app (and any gunicorn started on it) reaches its database through the proxy."""
    app_config["SQLALCHEMY_DATABASE_URI"] = through(pg_proxy, database_url)
    return app_config


def queued_task(app: Flask, username: str = "alice") -> int:
    """A waiting send of ``username`` (a row is enough: the controls never get that far)."""
    with app.app_context():
        row = Task(name="send_mail", description="outage", username=username,
                   status="queued", recipient_count=3)
        db.session.add(row)
        db.session.commit()
        return row.id


def assert_unavailable(response: Any, json_body: bool) -> None:
    """503, Retry-After, and the body the caller can read (Korean; JSON when asked)."""
    assert response.status_code == 503, (response.status_code, response.get_data(as_text=True))
    assert response.headers["Retry-After"] == str(DB_RETRY_AFTER_SECONDS)
    if json_body:
        body = response.get_json()
        assert body["retry_after"] == DB_RETRY_AFTER_SECONDS
        assert "데이터베이스" in body["error"] and body["message"] == body["error"]
        assert body["ok"] is False and body["category"] == "warning"
    else:
        text = response.get_data(as_text=True)
        assert response.mimetype == "text/html"
        assert "잠시 이용할 수 없습니다" in text and 'lang="ko"' in text
        assert "Internal Server Error" not in text


def wait_for_ok(check: Callable[[], int], what: str, expected: int = 200) -> None:
    """Until ``check`` answers ``expected`` (a deadline, never a bare sleep)."""
    deadline = time.monotonic() + RECOVERY_SECONDS
    status = None
    while time.monotonic() < deadline:
        status = check()
        if status == expected:
            return
        assert status == 503, f"{what}: {status} while the database came back"
        time.sleep(0.2)
    raise AssertionError(f"{what} still answers {status} {RECOVERY_SECONDS}s after the "
                         "database came back")


def test_every_page_answers_503_and_recovers(app: Flask, signed_in: FlaskClient,
                                             pg_proxy: TcpProxy) -> None:
    task_id = queued_task(app)
    token = csrf_token(signed_in, "/send_mail")
    anonymous = app.test_client()
    login_token = csrf_token(anonymous)
    pause = f"/tasks/{task_id}/pause"
    preview = {"recipient": "a@example.com", "template_name": "welcome", "csrf_token": token}
    requests: dict[str, Callable[[], Any]] = {
        "send page": lambda: signed_in.get("/send_mail"),
        "task list": lambda: signed_in.get("/tasks"),
        "task detail": lambda: signed_in.get(f"/tasks/{task_id}"),
        "notifications": lambda: signed_in.get("/notifications?since=0"),
        "pause (JSON)": lambda: signed_in.post(pause, data={"csrf_token": token}, headers=JSON),
        "cancel (form)": lambda: signed_in.post(f"/tasks/{task_id}/cancel",
                                                data={"csrf_token": token}),
        "preview": lambda: signed_in.post("/send_mail/preview", data=preview),
        "login page, signed in": lambda: signed_in.get("/auth/login"),
        "sign-in": lambda: anonymous.post("/auth/login", data={
            "username": "alice", "password": PASSWORD, "csrf_token": login_token}),
    }
    as_json = {"notifications", "pause (JSON)", "preview"}
    with pg_proxy.down():
        for name, call in requests.items():
            response = call()
            assert_unavailable(response, json_body=name in as_json), name
        # Nothing asks the database for the sign-in form itself: it still shows.
        assert anonymous.get("/auth/login").status_code == 200
    wait_for_ok(lambda: signed_in.get("/send_mail").status_code, "the send page")
    recovered = {"task list": 200, "task detail": 200, "notifications": 200,
                 "login page, signed in": 302}  # a signed-in user goes on to the send page
    for name, expected in recovered.items():
        wait_for_ok(lambda call=requests[name]: call().status_code, name, expected)
    answer = requests["pause (JSON)"]()
    assert answer.status_code in (200, 202), answer.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Task, task_id).status == "paused"
    # Signed in throughout: the outage signed nobody out.
    assert "로그아웃" in signed_in.get("/send_mail").get_data(as_text=True)


def test_gunicorn_answers_503_meanwhile(app: Flask, auth: Any, pg_proxy: TcpProxy,
                                        live_app: Any) -> None:  # noqa: F811 (the fixture)
    auth.create()
    live: LiveApp = live_app()
    visitor: Browser = live.browser()
    visitor.login("alice")
    with pg_proxy.down():
        page = visitor.get("/send_mail")
        assert page.status == 503, page.text[:300]
        assert page.headers["Retry-After"] == str(DB_RETRY_AFTER_SECONDS)
        assert "잠시 이용할 수 없습니다" in page.text and "다시 시도" in page.text
        polled = visitor.get("/notifications?since=0", headers=JSON)
        assert polled.status == 503 and polled.headers["Retry-After"] == "5"
        assert json.loads(polled.text)["retry_after"] == DB_RETRY_AFTER_SECONDS
        # The page's styles still load (static files never ask who is signed in), and an
        # address with no page meets the outage after its 404 (an after-request hook): 503.
        assert visitor.get("/static/css/app.css").status == 200
        missing = visitor.get("/no-such-page")
        assert missing.status == 503 and "잠시 이용할 수 없습니다" in missing.text
    wait_for_ok(lambda: visitor.get("/send_mail").status, "gunicorn's send page")
    assert visitor.get("/notifications?since=0", headers=JSON).status == 200

