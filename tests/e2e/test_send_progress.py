"""Send from the page and watch the progress bar reach 100 % without a reload."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from tests.support.flows import AuthActions
from tests.support.pages import send_from_page, sign_in


def test_send_and_watch_progress(page: Any, live_server: str, auth: AuthActions,
                                 smtp_sink: Any, start_worker: Any) -> None:
    auth.create()
    smtp_sink.handler.delay = 0.2
    start_worker()
    sign_in(page, live_server)
    assert page.input_value("input[name=timezone]") == "Asia/Seoul"
    task_id = send_from_page(page, ["a@example.com", "b@example.com", "c@example.com"],
                             "notice")
    marker = page.evaluate("window.__no_reload = 1")  # a reload would lose this
    assert marker == 1
    progress = page.locator(f"[id='{task_id}-progress']")
    progress.wait_for()
    expect(page.locator(f"[id='{task_id}-progress']")).to_have_text('100', timeout=30000)
    assert page.evaluate("window.__no_reload") == 1
    assert page.get_attribute(f"[id='{task_id}-bar']", "aria-valuenow") == "100"
    assert page.locator(f"[id='{task_id}-progress-cancel']").is_hidden()
    expect(page.locator(f"[id='{task_id}-state']")).to_have_text('완료', timeout=10000)
    assert page.locator(f"[id='{task_id}-progress-close']").is_visible()
    assert re.search(r"3/3명", page.locator(f"[id='{task_id}-detail']").inner_text())
    assert smtp_sink.handler.count() == 3
