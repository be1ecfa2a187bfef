"""Issue 24, point 5 in Chromium: canceling a send under way asks first — in the alert with
JavaScript (확인 / 돌아가기), on a small page of its own without."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import expect

from app.extensions import db
from app.models import Task
from app.models.types import utcnow
from tests.support.axe import assert_no_violations
from tests.support.flows import AuthActions, task
from tests.support.pages import sign_in


def running(app: Flask) -> int:
    """A send under way (no worker: it stays running until told)."""
    with app.app_context():
        row = Task(name="send_mail", description="[welcome] 템플릿 메일을 5명에게 전송",
                   username="alice", status="running", recipient_count=5,
                   delivered_count=2, progress=40)
        db.session.add(row)
        db.session.commit()
        return row.id


def test_cancel_asks_in_the_alert(page: Any, live_server: str, app: Flask,
                                  auth: AuthActions) -> None:
    auth.create()
    task_id = running(app)
    sign_in(page, live_server)
    cancel = page.locator(f"[id='{task_id}-progress-cancel'] button")
    cancel.click()
    box = page.locator(f"[id='{task_id}-confirm']")
    expect(box).to_contain_text("보내는 중인 메일을 취소할까요?")
    assert page.locator(f"[id='{task_id}-alert'] [id='{task_id}-confirm']").count() == 1
    for button in (f"{task_id}-confirm-yes", f"{task_id}-confirm-no"):
        height = page.locator(f"[id='{button}']").bounding_box()["height"]
        assert height >= 24, (button, height)

    page.click(f"[id='{task_id}-confirm-no']")  # 돌아가기: nothing happens
    expect(box).to_have_count(0)
    assert page.evaluate("document.activeElement.closest('form').id") == \
        f"{task_id}-progress-cancel"
    assert task(app, task_id).cancel_requested_at is None

    cancel.click()
    page.click(f"[id='{task_id}-confirm-yes']")
    expect(page.locator(f"[id='{task_id}-progress-state']")).to_have_text("취소 중…")
    expect(page.locator(f"[id='{task_id}-message']")).to_contain_text("취소를 요청했습니다")
    assert task(app, task_id).cancel_requested_at is not None


def test_cancel_asks_on_a_page_without_javascript(browser: Any, live_server: str,
                                                  app: Flask, auth: AuthActions) -> None:
    auth.create()
    task_id = running(app)
    context = browser.new_context(timezone_id="Asia/Seoul", locale="ko-KR",
                                  java_script_enabled=False)
    page = context.new_page()
    try:
        sign_in(page, live_server)
        page.click(f"[id='{task_id}-progress-cancel'] button")
        expect(page.locator("h1")).to_have_text("보내는 중인 메일 취소")
        expect(page.locator("#confirm-question")).to_contain_text("취소할까요?")
        assert task(app, task_id).cancel_requested_at is None
        page.click("#confirm-no")  # 돌아가기: back to the send page, nothing changed
        page.wait_for_url("**/send_mail*")
        assert task(app, task_id).cancel_requested_at is None
        page.click(f"[id='{task_id}-progress-cancel'] button")
        page.click("#confirm-yes")
        page.wait_for_url("**/send_mail")
        expect(page.locator(".flash").first).to_contain_text("취소를 요청했습니다")
        assert task(app, task_id).cancel_requested_at is not None
    finally:
        context.close()


@pytest.mark.parametrize("size", [{"width": 1280, "height": 900}, {"width": 390, "height": 844}],
                         ids=["desktop", "phone"])
def test_the_send_pages_states_pass_axe(size: dict[str, int], page: Any, live_server: str,
                                        app: Flask, auth: AuthActions) -> None:
    """axe on the states of issue 24 the send page adds: a refused form, the question in
    an alert, an ended send under 최근, and the page that asks without JavaScript."""
    auth.create()
    task_id = running(app)
    with app.app_context():
        db.session.add(Task(name="send_mail", description="끝난 전송", username="alice",
                            status="finished", recipient_count=1, delivered_count=1,
                            progress=100, finished_at=utcnow()))
        db.session.commit()
    page.set_viewport_size(size)
    sign_in(page, live_server)
    page.fill("textarea[name=recipient]", "not-an-address")
    page.click("#send-button")
    page.wait_for_url("**/send_mail")
    expect(page.locator("#recipient-error")).to_be_visible()
    expect(page.locator("#recent .task-alert")).to_have_count(1)
    page.click(f"[id='{task_id}-progress-cancel'] button")
    expect(page.locator(f"[id='{task_id}-confirm']")).to_be_visible()
    assert_no_violations(page, "/send_mail (refused, asking, 최근)")
    assert page.evaluate("document.documentElement.scrollWidth") <= size["width"]
    page.goto(live_server + "/send_mail")
    page.check("#is_scheduled")
    assert_no_violations(page, "/send_mail (예약 chosen)")

    # The page that asks without JavaScript: the cancel form posted as a plain navigation.
    page.evaluate("(id) => HTMLFormElement.prototype.submit.call(document.getElementById(id))",
                  f"{task_id}-progress-cancel")
    expect(page.locator("#confirm-question")).to_contain_text("취소할까요?")
    assert_no_violations(page, "the cancel's confirm page")
    assert page.evaluate("document.documentElement.scrollWidth") <= size["width"]
