"""``/outbox`` in Chromium (issue 24): the HTML part shows in its sandboxed frame (the mail's
own styles apply there, under its own policy, and nothing is refused on the page), the date
is local, the text part's links are links; at a phone's width nothing scrolls sideways."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import expect

from tests.support.axe import assert_no_violations
from tests.support.flows import AuthActions
from tests.support.outbox import captured
from tests.support.pages import sign_in

HTML = ("<html><body><h1 style='color:#b02a37'>공지</h1><p>안녕하세요, "
        "<a href='https://mail.example/unsubscribe/abc'>수신 거부</a></p></body></html>")


@pytest.fixture
def app_config(app_config: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    (tmp_path / "outbox").mkdir()
    app_config["OUTBOX_DIR"] = str(tmp_path / "outbox")
    return app_config


@pytest.mark.parametrize("size", [{"width": 390, "height": 844},
                                  {"width": 1280, "height": 900}], ids=["phone", "desktop"])
def test_a_captured_mail_shows_its_html_framed(page: Any, live_server: str, app: Flask,
                                               auth: AuthActions, size: dict[str, int]) -> None:
    auth.create()
    name = captured(app, "alice", HTML)
    page.set_viewport_size(size)
    sign_in(page, live_server)
    page.goto(f"{live_server}/outbox/")
    expect(page.locator("#outbox time")).to_have_text("12월 6일 오전 3:15")
    page.click("#outbox a")
    page.wait_for_url(f"**/outbox/{name}")
    expect(page.locator("#outbox-date time")).to_have_text("12월 6일 오전 3:15:33")
    link = page.locator("#outbox-text a")
    expect(link).to_have_attribute("href", "https://mail.example/unsubscribe/abc?x=1&y=2")
    heading = page.frame_locator("#outbox-html").locator("h1")
    expect(heading).to_have_text("공지")
    # The mail's own inline style applies inside its frame (#b02a37), not refused.
    assert heading.evaluate("e => getComputedStyle(e).color") == "rgb(176, 42, 55)"
    assert page.evaluate("document.documentElement.scrollWidth") <= size["width"]
    assert_no_violations(page, "outbox mail")
