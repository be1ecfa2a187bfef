"""Reserve from a browser in Seoul: the countdown ticks without a reload; cancel removes it."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.support.flows import AuthActions
from tests.support.pages import reserve_from_page, sign_in


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    app_config["APP_TIMEZONE"] = "UTC"
    return app_config


def test_reserve_countdown_and_cancel(page: Any, live_server: str, auth: AuthActions) -> None:
    auth.create()
    sign_in(page, live_server)
    # The browser says Asia/Seoul although the app's default zone is UTC.
    assert page.input_value("input[name=timezone]") == "Asia/Seoul"
    when = reserve_from_page(page, "later@example.com", 180)
    local = when.strftime("%Y년%m월%d일 %H시 %M분 %S초")
    assert f"예약({local})하였습니다." in page.locator(".flash").inner_text()

    alert = page.locator("#reserved .alert").first
    task_id = alert.get_attribute("data-task-id")
    assert f"[예약] send_mail : {local}" in alert.inner_text()
    page.evaluate("window.__no_reload = 1")
    remain = page.locator(f"[id='{task_id}-remain']")
    first = remain.inner_text()
    assert first.endswith("남음") and "분" in first
    expect(page.locator(f"[id='{task_id}-remain']")).not_to_have_text(first, timeout=5000)
    second = remain.inner_text()
    expect(page.locator(f"[id='{task_id}-remain']")).not_to_have_text(second, timeout=5000)
    seconds = int(remain.get_attribute("data-remaining-seconds"))
    assert 150 <= seconds <= 180
    assert page.evaluate("window.__no_reload") == 1

    page.click(f"[id='{task_id}-reserve-cancel'] button")
    page.wait_for_selector(f"[id='{task_id}-reserve-alert']", state="detached", timeout=10000)
    flash = page.locator(".flash").first.inner_text()
    assert f"예약 Task#{task_id} send_mail가 취소되었습니다." in flash
    assert page.locator("#reserved-empty").is_visible()
    assert page.evaluate("window.__no_reload") == 1


def test_due_reservation_moves_to_in_progress(page: Any, live_server: str, app: Any,
                                              auth: AuthActions, smtp_sink: Any,
                                              start_worker: Any) -> None:
    app.config["RESERVATION_MIN_LEAD_SECONDS"] = 3
    auth.create()
    start_worker()
    sign_in(page, live_server)
    reserve_from_page(page, "soon@example.com", 6)
    task_id = page.locator("#reserved .alert").first.get_attribute("data-task-id")
    page.evaluate("window.__no_reload = 1")

    # The reserved alert leaves, and the same task shows up with its progress bar.
    page.wait_for_selector(f"[id='{task_id}-reserve-alert']", state="detached", timeout=20000)
    expect(page.locator(f"[id='{task_id}-progress']")).to_have_text('100', timeout=20000)
    assert page.locator(f"[id='{task_id}-bar']").get_attribute("aria-valuenow") == "100"
    assert page.evaluate("window.__no_reload") == 1
    assert smtp_sink.handler.recipients() == ["soon@example.com"]
