"""Pause a running send at a relay that holds its answer: the server answers at once that
the pause is asked for (202), the alert says 일시 중지 중… with its stop buttons disabled,
and once the job has stopped it says 일시 중지됨 — all without a reload."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import expect

from app.extensions import db
from app.models import Task
from app.models.types import utcnow
from app.tasks.progress import publish_task_id
from tests.support import wait_until
from tests.support.flows import AuthActions
from tests.support.pages import send_from_page, sign_in


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    """A job waits for its relay's last answers as long as it takes here: the pause stays
    under way until the test lets the relay answer."""
    app_config["CANCEL_DRAIN_SECONDS"] = 120
    return app_config


def test_pause_pending_then_paused(page: Any, live_server: str, auth: AuthActions,
                                   smtp_sink: Any, start_worker: Any) -> None:
    auth.create()
    sink = smtp_sink.handler
    sink.async_delay = 0.2
    start_worker()
    sign_in(page, live_server)
    task_id = send_from_page(page, [f"p{i}@example.com" for i in range(20)])
    page.evaluate("window.__no_reload = 1")
    expect(page.locator(f"[id='{task_id}-state']")).to_have_text("전송 중", timeout=30000)

    sink.hang.add("data")  # the next message's answer never comes until release()
    wait_until(lambda: sink.held > 0, 20, "a message to wait for the relay's answer")
    with page.expect_response(lambda r: r.url.endswith(f"/tasks/{task_id}/pause")) as posted:
        page.click(f"[id='{task_id}-progress-pause'] button")
    answer = posted.value
    assert answer.status == 202, (answer.status, answer.text())
    assert answer.json()["state"] == "pausing"

    state = page.locator(f"[id='{task_id}-progress-state']")
    expect(state).to_have_text("일시 중지 중…")
    flash = page.locator(".flash").first
    expect(flash).to_contain_text("일시 중지를 요청했습니다")
    expect(flash).to_have_class(re.compile(r"\balert-info\b"))  # news, not a failure
    for control in ("pause", "cancel"):
        expect(page.locator(f"[id='{task_id}-progress-{control}'] button")).to_be_disabled()
    for _ in range(2):  # still pending after two more polls: the job has not stopped
        with page.expect_response(lambda r: "/notifications" in r.url):
            pass
    expect(state).to_have_text("일시 중지 중…")

    sink.release()
    expect(state).to_have_text("일시 중지됨", timeout=30000)
    expect(page.locator(f"[id='{task_id}-state']")).to_have_text("일시 중지")
    expect(page.locator(f"[id='{task_id}-progress-resume']")).to_be_visible()
    assert page.evaluate("window.__no_reload") == 1

    # Accessibility: the words are text in the alert (a polite status region, issue 24: not
    # role=alert), the trouble line is a status region, the disabled buttons came back,
    # every control is named.
    alert = page.locator(f"[id='{task_id}-alert']")
    assert alert.get_attribute("role") == "status" and "일시 중지됨" in alert.inner_text()
    assert alert.get_attribute("aria-live") == "polite"
    assert page.get_attribute("#poll-status", "role") == "status"
    expect(page.locator(f"[id='{task_id}-progress-resume'] button")).to_be_enabled()
    for button in alert.locator("button:visible").all():
        assert (button.inner_text().strip() or button.get_attribute("aria-label")), button


def test_pending_pause_is_drawn_by_the_server(page: Any, live_server: str, auth: AuthActions,
                                              app: Flask) -> None:
    """A page loaded while a pause is asked for (the job has not stopped) shows it pending."""
    auth.create()
    with app.app_context():
        row = Task(name="send_mail", description="held", username="alice", status="running",
                   recipient_count=5, pause_requested_at=utcnow())
        db.session.add(row)
        db.session.commit()
        task_id = row.id
    sign_in(page, live_server)
    expect(page.locator(f"[id='{task_id}-progress-state']")).to_have_text("일시 중지 중…")
    expect(page.locator(f"[id='{task_id}-alert']")).to_have_class(re.compile(r"\btask-pending\b"))
    for control in ("pause", "cancel"):
        expect(page.locator(f"[id='{task_id}-progress-{control}'] button")).to_be_disabled()
    with app.app_context():  # the job stops: the next poll says so
        db.session.get(Task, task_id).status = "paused"
        db.session.commit()
        publish_task_id(task_id)
    expect(page.locator(f"[id='{task_id}-progress-state']")).to_have_text("일시 중지됨")
    expect(page.locator(f"[id='{task_id}-state']")).to_have_text("일시 중지")
