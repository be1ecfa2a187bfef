"""Issue 24, point 3 in Chromium: the words after send, pause, resume, cancel and on an
already-finished send are said in the task's own alert (a polite status region), the focus
stays on that task, an ended send moves from 진행 중 to 최근, and after 보내기 on a phone
(390×844) the new alert is in view and focused."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from playwright.sync_api import expect

from app.extensions import db
from app.models import Task
from app.models.types import utcnow
from tests.support.flows import AuthActions, task
from tests.support.pages import reserve_from_page, send_from_page, sign_in

IN_VIEW = """(id) => {
  const r = document.getElementById(id).getBoundingClientRect();
  return r.top >= 0 && r.bottom <= window.innerHeight && r.height > 0;
}"""


def focused_in(page: Any, task_id: str) -> bool:
    return page.evaluate("(id) => document.getElementById(id).contains(document.activeElement)",
                         f"{task_id}-alert")


def test_the_new_alert_is_in_view_on_a_phone(page: Any, live_server: str,
                                             auth: AuthActions) -> None:
    """No worker: the send waits in the queue, and its alert says so (not 'sent')."""
    auth.create()
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, live_server)
    task_id = send_from_page(page, ["a@example.com", "b@example.com"], "notice")
    alert = page.locator(f"[id='{task_id}-alert']")
    assert alert.get_attribute("role") == "status"
    expect(page.locator(f"[id='{task_id}-message']")).to_contain_text("대기열에 넣었습니다")
    expect(page.locator(f"[id='{task_id}-state']")).to_have_text("대기 중")
    page.wait_for_function(IN_VIEW, arg=f"{task_id}-alert")
    assert page.evaluate("document.activeElement.id") == f"{task_id}-alert"
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_pause_resume_cancel_words_in_the_alert(page: Any, live_server: str, app: Flask,
                                                auth: AuthActions) -> None:
    auth.create()
    sign_in(page, live_server)
    task_id = send_from_page(page, ["a@example.com"])  # no worker: it stays queued
    message = page.locator(f"[id='{task_id}-message']")

    page.click(f"[id='{task_id}-progress-pause'] button")
    expect(message).to_contain_text("일시 중지")
    expect(page.locator(f"[id='{task_id}-state']")).to_have_text("일시 중지")
    assert focused_in(page, task_id)
    expect(page.locator(f"[id='{task_id}-progress-resume']")).to_be_visible()

    page.click(f"[id='{task_id}-progress-resume'] button")
    expect(message).to_contain_text("다시 시작합니다")
    expect(page.locator(f"[id='{task_id}-state']")).to_have_text("대기 중")
    assert focused_in(page, task_id)

    page.click(f"[id='{task_id}-progress-cancel'] button")  # queued: no question asked
    expect(page.locator(f"[id='{task_id}-state']")).to_have_text("취소됨")
    expect(message).to_contain_text("취소")
    expect(message).to_contain_text("1명 중 0명")
    assert focused_in(page, task_id)
    # An ended send leaves 진행 중 for 최근, keeping the focus.
    expect(page.locator(f"#recent [id='{task_id}-alert']")).to_be_visible(timeout=10000)
    assert page.locator(f"#in-progress [id='{task_id}-alert']").count() == 0
    assert focused_in(page, task_id)
    assert task(app, task_id).status == "canceled"


def test_an_already_finished_send_is_information(page: Any, live_server: str, app: Flask,
                                                 auth: AuthActions) -> None:
    """The page still shows a send as waiting when it has just ended: its cancel answers
    in the alert, as information, not as a red error."""
    auth.create()
    with app.app_context():
        row = Task(name="send_mail", description="[welcome] 템플릿 메일을 1명에게 전송",
                   username="alice", status="queued", recipient_count=1)
        db.session.add(row)
        db.session.commit()
        task_id = row.id
    sign_in(page, live_server)
    with app.app_context():  # it ends; the page has not heard yet
        db.session.execute(db.update(Task).where(Task.id == task_id).values(
            status="finished", delivered_count=1, progress=100, finished_at=utcnow()))
        db.session.commit()
    page.click(f"[id='{task_id}-progress-cancel'] button")
    message = page.locator(f"[id='{task_id}-message']")
    expect(message).to_contain_text(f"Task#{task_id} send_mail가 이미 완료된 상태라 취소에 "
                                     "실패했습니다.")
    assert message.get_attribute("data-tone") == "info"
    flash = page.locator(".flash").first
    expect(flash).to_have_class(re.compile(r"\balert-info\b"))
    assert "alert-danger" not in (page.get_attribute(f"[id='{task_id}-alert']", "class") or "")
    assert focused_in(page, task_id)


def test_a_finished_send_says_so_and_moves_to_recent(page: Any, live_server: str,
                                                     auth: AuthActions, smtp_sink: Any,
                                                     start_worker: Any) -> None:
    auth.create()
    start_worker()
    sign_in(page, live_server)
    task_id = send_from_page(page, ["a@example.com", "b@example.com"])
    expect(page.locator(f"[id='{task_id}-state']")).to_have_text("완료", timeout=30000)
    expect(page.locator(f"[id='{task_id}-message']")).to_have_text("2명에게 모두 보냈습니다.")
    expect(page.locator(f"#recent [id='{task_id}-alert']")).to_be_visible(timeout=10000)
    expect(page.locator("#in-progress-empty")).to_be_visible()
    page.reload()  # drawn by the server under 최근 too
    expect(page.locator(f"#recent [id='{task_id}-alert']")).to_be_visible()
    expect(page.locator(f"[id='{task_id}-message']")).to_have_text("2명에게 모두 보냈습니다.")


def test_the_countdown_is_said_once_a_minute(page: Any, live_server: str,
                                             auth: AuthActions) -> None:
    """The ticking text is hidden from screen readers; the words they hear, in the alert's
    polite status region, change at most once a minute."""
    auth.create()
    sign_in(page, live_server)
    reserve_from_page(page, "later@example.com", 150)
    alert = page.locator("#reserved .task-alert").first
    task_id = alert.get_attribute("data-task-id")
    assert alert.get_attribute("role") == "status"
    assert alert.get_attribute("data-just-sent") is not None
    remain = page.locator(f"[id='{task_id}-remain']")
    said = page.locator(f"[id='{task_id}-remain-said']")
    assert remain.get_attribute("aria-hidden") == "true"
    heard = said.text_content()
    assert heard.endswith("남음") and "초" not in heard  # whole minutes
    first = remain.inner_text()
    expect(remain).not_to_have_text(first, timeout=5000)
    expect(remain).not_to_have_text(remain.inner_text(), timeout=5000)
    assert said.text_content() == heard
