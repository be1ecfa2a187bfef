"""The task pages on a phone (390×844, issue 24): no horizontal scroll on the history or a
task's detail (tables become stacked cards), each with its chart and the chart's text;
short local dates; axe finds nothing at either size."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import expect

from app.extensions import db
from app.models import Delivery
from app.models.task import NOT_BUILT
from app.models.types import utcnow
from app.tasks.service import Mailing, TaskService
from tests.support.axe import assert_no_violations
from tests.support.flows import AuthActions
from tests.support.pages import sign_in

PHONE = {"width": 390, "height": 844}
# Long addresses and replies: what made the tables 505 px and 733 px wide.
RECIPIENTS = [f"someone.with.a.rather.long.name.{i}@subdomain.example-company.co.kr"
              for i in range(12)]


def finished_send(app: Flask) -> int:
    """alice's send, ended over a minute: delivered, refused by the server, not built."""
    with app.app_context():
        task = TaskService("alice").send(Mailing.named("welcome", "alice", RECIPIENTS))
        start = utcnow() - timedelta(minutes=3)
        rows = db.session.scalars(db.select(Delivery).where(Delivery.task_id == task.id)
                                  .order_by(Delivery.position))
        for i, row in enumerate(rows):
            row.updated_at = start + timedelta(seconds=6 * i)
            row.status, row.message_id = "delivered", f"<mailroom.{task.id}.{i:032x}@example>"
            if i == 4:
                row.status, row.message_id = "refused", None
                row.error = "550 5.1.1 <" + RECIPIENTS[i] + ">: Recipient address rejected"
            if i == 7:
                row.status, row.message_id, row.reason_kind = "refused", None, NOT_BUILT
                row.error = "템플릿 오류: 'coupon_code_for_this_recipient' is undefined"
        task.status, task.started_at, task.finished_at = "finished", start, utcnow()
        task.sync_delivery_counts()
        task.failed, task.log = True, "받는 서버가 거부한 주소 1개 / 메일을 만들지 못한 주소 1개"
        db.session.commit()
        return task.id


def no_sideways_scroll(page: Any) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} is {width}px wide at a 390px viewport"


@pytest.mark.parametrize("size", [PHONE, {"width": 1280, "height": 900}],
                         ids=["phone", "desktop"])
def test_task_pages_fit_and_draw_their_charts(page: Any, live_server: str, app: Flask,
                                              auth: AuthActions, size: dict[str, int]) -> None:
    auth.create()
    task_id = finished_send(app)
    page.set_viewport_size(size)
    sign_in(page, live_server)

    page.goto(f"{live_server}/tasks")
    expect(page.locator("#chart-days svg[role=img]")).to_be_visible()
    expect(page.locator("#chart-days-summary")).to_contain_text("최근 30일 동안 보내기 1건")
    created = page.locator(f"#task-{task_id} time").first.inner_text()
    assert "오전" in created or "오후" in created
    assert created.count(":") == 1  # no seconds in the history
    if size == PHONE:
        no_sideways_scroll(page)
    assert_no_violations(page, "history")

    page.goto(f"{live_server}/tasks/{task_id}")
    expect(page.locator("#chart-split svg[role=img]")).to_have_attribute(
        "aria-label", "받는 사람별 결과: 받는 사람 12명: 전송 10, 거부 1, 메일을 만들지 못함 1")
    expect(page.locator("#chart-timeline-summary")).to_contain_text("처리된 받는 사람 12명")
    assert page.locator("#chart-timeline rect").count() >= 10
    broken = page.locator(f"#recipients tr[data-recipient='{RECIPIENTS[7]}']")
    expect(broken).to_have_attribute("data-outcome", "refused")
    expect(broken.locator(".reply")).to_contain_text("메일을 만들지 못함: 템플릿 오류")
    expect(page.locator("#resend-failed")).to_contain_text("(1명)")
    if size == PHONE:
        no_sideways_scroll(page)
    assert_no_violations(page, "detail")
