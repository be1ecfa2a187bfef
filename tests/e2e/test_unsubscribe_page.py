"""A recipient walks the unsubscribe link from a message; the sender then sees the address
on the suppression list."""

from __future__ import annotations

from typing import Any

from flask import Flask
from playwright.sync_api import expect

from app.mail.unsubscribe import make_token
from tests.support.flows import AuthActions
from tests.support.pages import sign_in


def test_confirm_then_listed(page: Any, live_server: str, app: Flask,
                             auth: AuthActions) -> None:
    auth.create()
    with app.app_context():
        token = make_token("alice", "Reader@Example.com")
    page.goto(f"{live_server}/unsubscribe/{token}")  # no session: the link is the proof
    expect(page.locator("#unsubscribe-address")).to_have_text("reader@example.com")
    page.click("#unsubscribe-confirm")
    expect(page.locator("#unsubscribe-done")).to_be_visible()
    assert "reader@example.com" in page.locator("#unsubscribe-done").inner_text()
    sign_in(page, live_server)
    page.goto(f"{live_server}/suppressions")
    row = page.locator("#suppressions tr[data-address='reader@example.com']")
    expect(row).to_have_attribute("data-source", "unsubscribe")
    expect(row).to_contain_text("수신자가 거부")
