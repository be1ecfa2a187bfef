"""The settings pages of the API in Chromium: a new token shown once in ``#new-token``, a
webhook with its secret and its delivery log; axe finds nothing at a desktop's and a
phone's size."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import expect

from app.cli import create_user
from app.extensions import db
from app.models import Webhook, WebhookDelivery
from tests.support.axe import report, violations
from tests.support.flows import PASSWORD
from tests.support.pages import sign_in

SIZES = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


def _seed(app: Flask) -> None:
    """alice, with a hook whose log holds a failed try and a delivery."""
    with app.app_context():
        create_user("alice", PASSWORD)
        hook = Webhook(username="alice", url="https://hooks.example.com/mailroom",
                       events=["send.finished", "send.failed"], secret="whsec_seed")
        db.session.add(hook)
        db.session.flush()
        for n, (status, code) in enumerate((("failed", 500), ("delivered", 200))):
            db.session.add(WebhookDelivery(webhook_id=hook.id, event="send.finished",
                                           event_key=f"e{n}", payload={}, status=status,
                                           attempts=n + 1, last_status_code=code,
                                           last_response="ok"))
        db.session.commit()


@pytest.mark.parametrize("size", SIZES)
def test_token_and_webhook_pages(size: str, page: Any, live_server: str, app: Flask) -> None:
    _seed(app)
    page.set_viewport_size(SIZES[size])
    sign_in(page, live_server)
    found = []
    page.goto(live_server + "/settings/tokens")
    found += violations(page)
    page.fill("#name", "주문 알림")
    page.click("#token-create")
    expect(page.locator("#new-token")).to_contain_text("mr_")
    found += violations(page)
    page.goto(live_server + "/settings/tokens")
    expect(page.locator("#new-token")).to_have_count(0)  # shown once
    expect(page.locator("#tokens")).to_contain_text("주문 알림")
    page.goto(live_server + "/settings/webhooks")
    expect(page.locator(".webhook-log [data-status=delivered]")).to_have_count(1)
    expect(page.get_by_role("button", name="send.finished 전달 다시 보내기")).to_be_visible()
    found += violations(page)
    assert found == [], report(found)
