"""The operator's 지우기 on a user's reservation asks first (issue 24), also without
JavaScript: the first POST answers a confirm page; only its own form (confirm=1 and the
CSRF token) deletes; 그만두기 leaves everything as it was."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import expect

from app.cli import create_user
from app.tasks.service import Mailing, TaskService
from tests.support.axe import report, violations
from tests.support.flows import PASSWORD, task
from tests.support.pages import sign_in


def reservation(app: Flask) -> int:
    """An admin ``root`` and a user ``bob`` with a send reserved half an hour ahead."""
    with app.app_context():
        create_user("root", PASSWORD, admin=True)
        create_user("bob", PASSWORD)
        when = datetime.now(UTC) + timedelta(minutes=30)
        return TaskService("bob").send(Mailing.named("notice", "bob", ["c@example.com"]),
                                       when).id


def confirm_then_delete(page: Any, live_server: str, app: Flask, task_id: int) -> None:
    sign_in(page, live_server, "root")
    page.goto(live_server + "/admin/")
    page.click(f"[id='admin-{task_id}-delete']")
    expect(page.locator("h1")).to_have_text(f"작업 {task_id}을(를) 지울까요?")
    expect(page.locator("#admin-confirm-delete")).to_contain_text("bob")
    assert task(app, task_id).status == "reserved", "asking deleted nothing"

    page.click("#admin-delete-back")
    page.wait_for_url("**/admin/")
    expect(page.locator(f"tr[data-job='{task_id}']")).to_be_visible()
    assert task(app, task_id).status == "reserved"

    page.click(f"[id='admin-{task_id}-delete']")
    page.click("#admin-delete-confirm")
    page.wait_for_url("**/admin/")
    expect(page.locator(".flash").first).to_contain_text(f"작업 {task_id}을(를) 지웠습니다.")
    expect(page.locator(f"tr[data-job='{task_id}']")).to_have_count(0)
    ended = task(app, task_id)
    assert (ended.status, ended.failed) == ("finished", True)


def test_delete_asks_first(page: Any, live_server: str, app: Flask) -> None:
    task_id = reservation(app)
    confirm_then_delete(page, live_server, app, task_id)


def test_delete_asks_first_without_javascript(browser: Any, live_server: str,
                                              app: Flask) -> None:
    task_id = reservation(app)
    context = browser.new_context(timezone_id="Asia/Seoul", locale="ko-KR",
                                  java_script_enabled=False)
    try:
        page = context.new_page()
        page.set_default_timeout(15000)
        confirm_then_delete(page, live_server, app, task_id)
    finally:
        context.close()


@pytest.mark.parametrize("width", [1280, 390])
def test_confirm_page_is_accessible(width: int, page: Any, live_server: str,
                                    app: Flask) -> None:
    task_id = reservation(app)
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, live_server, "root")
    page.goto(live_server + "/admin/")
    page.click(f"[id='admin-{task_id}-delete']")
    expect(page.locator("#admin-delete-confirm")).to_be_visible()
    found = violations(page)
    assert found == [], report(found)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
