"""/bounces in Chromium at a desktop's and a phone's size: axe finds no violation, and the
raw message opens under its row (a <details>, no script)."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from app.cli import create_user
from app.extensions import db
from app.models import Bounce
from tests.support.axe import assert_no_violations
from tests.support.flows import PASSWORD
from tests.support.pages import sign_in

SIZES = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
RAW = ("From: MAILER-DAEMON@mx1.example.net\nSubject: Undelivered Mail Returned to Sender\n\n"
       "<gone@example.org>: host mx.example.org said: 550 5.1.1 User unknown\n")


@pytest.mark.parametrize("size", SIZES)
def test_the_bounces_page(size: str, page: Any, live_server: str, app: Flask,
                          tmp_path: Any) -> None:
    with app.app_context():
        create_user("alice", PASSWORD)
        db.session.add_all([
            Bounce(owner="alice", address="gone@example.org", kind="hard", via="smtp",
                   diagnostic="5.1.1 550 5.1.1 User unknown", effect="suppressed",
                   conclusion="dsn: gone@example.org hard; matched by verp to task 1",
                   raw=RAW, digest="a"),
            Bounce(owner="alice", address="full@example.org", kind="soft", via="imap",
                   diagnostic="4.2.2 452 Mailbox full", effect="bounced",
                   conclusion="dsn: full@example.org soft", raw=RAW, digest="b")])
        db.session.commit()
    page.set_viewport_size(SIZES[size])
    sign_in(page, live_server)
    page.goto(live_server + "/bounces")
    assert_no_violations(page)
    page.locator("#bounces details summary").first.click()
    assert page.locator(".bounce-raw-text").first.is_visible()
    assert "550 5.1.1 User unknown" in page.locator(".bounce-raw-text").first.inner_text()
    assert_no_violations(page)
    page.screenshot(path=str(tmp_path / f"bounces-{size}.png"), full_page=True)
