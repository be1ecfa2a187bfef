"""The pages under the strict CSP (issue 18: no 'unsafe-inline', for scripts or styles) in
Chromium: every page a user or an operator opens, with a send running and a reservation
counting down, draws without one blocked style or script. The page records each
``securitypolicyviolation`` in ``window.__csp``; the tier's ``page`` fixture fails on any
console error (Chromium logs each blocked inline style there too)."""

from __future__ import annotations

from typing import Any

from flask import Flask
from playwright.sync_api import expect

from app.cli import create_user
from app.extensions import db
from app.models import Task
from tests.support.flows import PASSWORD, AuthActions
from tests.support.pages import reserve_from_page, send_from_page, sign_in

RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', function (event) {
  window.__csp.push([event.violatedDirective, event.blockedURI, event.sample].join(' '));
});
"""


def violations(page: Any) -> list[str]:
    return page.evaluate("window.__csp || ['no recorder on ' + location.pathname]")


def open_clean(page: Any, url: str) -> None:
    """Open ``url`` and let its scripts run a moment; nothing may have been blocked."""
    page.goto(url)
    page.wait_for_load_state("load")
    page.wait_for_timeout(300)
    assert violations(page) == [], url


def reserve(page: Any, recipient: str, seconds_ahead: int) -> str:
    """Reserve a send from the page; the reservation's task id."""
    reserve_from_page(page, recipient, seconds_ahead)
    return page.locator("#reserved .alert").first.get_attribute("data-task-id")


def test_every_page_draws_under_the_strict_policy(page: Any, live_server: str, app: Flask,
                                                  auth: AuthActions, smtp_sink: Any,
                                                  start_worker: Any) -> None:
    auth.create()
    with app.app_context():
        create_user("root", PASSWORD, admin=True)
        paused = Task(name="send_mail", description="paused", username="alice",
                      status="paused", progress=40, recipient_count=5, delivered_count=2)
        db.session.add(paused)
        db.session.commit()
        paused_id = paused.id
    smtp_sink.handler.delay = 0.2
    start_worker()
    page.context.add_init_script(RECORD_VIOLATIONS)
    open_clean(page, live_server + "/auth/login")
    sign_in(page, live_server)
    assert violations(page) == []

    # A reservation counting down and a send moving its bar (both drawn by the scripts).
    later = reserve(page, "later@example.com", 300)
    remain = page.locator(f"[id='{later}-remain']")
    first = remain.inner_text()
    expect(remain).not_to_have_text(first, timeout=5000)
    task_id = send_from_page(page, ["a@example.com", "b@example.com", "c@example.com"])
    bar = page.locator(f"[id='{task_id}-bar'] .progress-bar")
    expect(page.locator(f"[id='{task_id}-progress']")).to_have_text("100", timeout=30000)
    expect(bar).to_have_attribute("style", "width: 100%;")
    expect(page.locator(f"[id='{task_id}-progress-close']")).to_be_visible()
    expect(page.locator(f"[id='{task_id}-progress-cancel']")).to_be_hidden()
    assert violations(page) == []

    # The bars a page is rendered with get their width from data-progress, by script.
    open_clean(page, live_server + "/send_mail")
    expect(page.locator(f"[id='{paused_id}-bar'] .progress-bar")).to_have_attribute(
        "style", "width: 40%;")
    expect(page.locator(f"[id='{paused_id}-progress-resume']")).to_be_visible()
    expect(page.locator(f"[id='{paused_id}-progress-pause']")).to_be_hidden()
    expect(page.locator(f"[id='{paused_id}-progress-close']")).to_be_hidden()
    open_clean(page, live_server + f"/tasks/{task_id}")
    expect(page.locator("#recipients [data-outcome='delivered'] .outcome")).to_have_text(
        ["전송"] * 3)  # the outcome's words, from app/labels.py
    for path in ("/tasks", "/templates", "/templates/new", "/suppressions"):
        open_clean(page, live_server + path)

    page.click("#logout")
    page.wait_for_url("**/auth/login")
    sign_in(page, live_server, "root")
    open_clean(page, live_server + "/admin/")


def test_a_styled_mail_previews_without_a_blocked_style(browser: Any, live_server: str,
                                                        auth: AuthActions) -> None:
    """The preview frame loads the mail from its own answer, under a policy of its own that
    allows the mail's styles (the built-ins' footer has a style attribute); the page's
    strict policy is not loosened for it."""
    auth.create()
    # Not the tier's ``page``: this test looks for the console error itself.
    context = browser.new_context(timezone_id="Asia/Seoul", locale="ko-KR")
    page = context.new_page()
    blocked: list[str] = []
    page.on("console", lambda msg: blocked.append(msg.text)
            if msg.type == "error" and "Content Security Policy" in msg.text else None)
    try:
        sign_in(page, live_server)
        page.fill("textarea[name=recipient]", "a@example.com")
        page.select_option("select[name=template_name]", "welcome")
        page.click("#preview-button")
        expect(page.locator("#preview-html")).to_have_attribute("sandbox", "")
        footer = page.frame_locator("#preview-html").locator("p[style]")
        expect(footer).to_contain_text("수신 거부")
        # The mail's own style applied: #666 and 12px, as the mail client would draw it.
        expect(footer).to_have_css("color", "rgb(102, 102, 102)")
        expect(footer).to_have_css("font-size", "12px")
        page.wait_for_timeout(500)  # the frame draws (and Chromium logs what it blocked)
        policy = page.evaluate("fetch('/send_mail').then(r => r.headers.get("
                               "'Content-Security-Policy'))")
    finally:
        context.close()
    assert blocked == []
    assert "unsafe-inline" not in policy  # the page itself stays strict
