"""Cancel a running send from the page: it asks first, in the alert (issue 24), then the
alert turns canceled without a reload."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.support.flows import AuthActions
from tests.support.pages import send_from_page, sign_in


def test_cancel_running_send_from_page(page: Any, live_server: str, auth: AuthActions,
                                       smtp_sink: Any, start_worker: Any) -> None:
    auth.create()
    smtp_sink.handler.delay = 0.3
    start_worker()
    sign_in(page, live_server)
    task_id = send_from_page(page, [f"p{i}@example.com" for i in range(30)])
    page.evaluate("window.__no_reload = 1")
    expect(page.locator(f"[id='{task_id}-state']")).to_have_text('전송 중', timeout=30000)

    page.click(f"[id='{task_id}-progress-cancel'] button")
    page.click(f"[id='{task_id}-confirm-yes']")
    expect(page.locator(f"[id='{task_id}-state']")).to_have_text('취소됨', timeout=15000)
    assert page.evaluate("window.__no_reload") == 1
    flash = page.locator(".flash").first.inner_text()
    # Done within the answer's wait (200), or asked and done a moment later (202, a busy
    # machine): either way the alert ends saying how far the send got.
    assert (f"Task#{task_id} send_mail가 취소되었습니다." in flash
            or f"Task#{task_id} send_mail의 취소를 요청했습니다." in flash), flash
    expect(page.locator(f"[id='{task_id}-message']")).to_contain_text("취소됨: 30명 중")
    assert page.locator(f"[id='{task_id}-progress-cancel']").is_hidden()
    assert page.locator(f"[id='{task_id}-progress-close']").is_visible()
    delivered = int(page.locator(f"[id='{task_id}-detail']").inner_text().split("/")[0])
    assert 0 <= delivered < 30
    assert smtp_sink.handler.count() == delivered
