"""The task detail page follows a running send without a reload; history filters narrow
the list."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.support.flows import AuthActions
from tests.support.pages import send_from_page, sign_in


def test_detail_updates_live_while_sending(page: Any, live_server: str, auth: AuthActions,
                                           smtp_sink: Any, start_worker: Any) -> None:
    auth.create()
    smtp_sink.handler.delay = 0.4
    sign_in(page, live_server)
    recipients = [f"d{i}@example.com" for i in range(6)]
    task_id = send_from_page(page, recipients)
    page.goto(f"{live_server}/tasks/{task_id}")
    rows = page.locator("#recipients tbody tr")
    expect(rows).to_have_count(6)
    assert page.locator("#recipients [data-outcome='pending']").count() == 6
    page.evaluate("window.__no_reload = 1")
    start_worker()
    first = page.locator("#recipients [data-recipient='d0@example.com']")
    expect(first).to_have_attribute("data-outcome", "delivered", timeout=30000)
    assert page.evaluate("window.__no_reload") == 1  # updated in place
    expect(page.locator("#recipients [data-outcome='delivered']")).to_have_count(6,
                                                                              timeout=30000)


def test_history_filters_narrow_the_list(page: Any, live_server: str,
                                         auth: AuthActions) -> None:
    auth.create()
    sign_in(page, live_server)
    send_from_page(page, ["kim@example.com"])
    send_from_page(page, ["lee@example.com"], "notice")
    page.goto(f"{live_server}/tasks")
    expect(page.locator("#history tbody tr")).to_have_count(2)
    page.fill("#filter-q", "lee@")
    page.click("#filter-apply")
    page.wait_for_url("**/tasks?*q=lee*")
    expect(page.locator("#history tbody tr")).to_have_count(1)
    assert "notice" in page.locator("#history tbody tr").inner_text()
