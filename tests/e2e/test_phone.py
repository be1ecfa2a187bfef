"""Phone first (issue 24): at 390×844 no page scrolls sideways and the navbar is collapsed
behind its toggler (links hidden until it is pressed).

Pages by owner (issue 24 was split three ways; a page still being fixed by its owner may
fail here, and the failure names it):
- frame, login, templates, suppressions, admin, error pages, pager: this file's author;
- /send_mail (mail_ui templates, _macros.html, task controls): colleague A;
- /tasks, /tasks/<id>, /outbox, /unsubscribe/<token>: colleague C.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import expect

from app.cli import create_user
from app.extensions import db
from app.mail.unsubscribe import make_token
from app.models import MailTemplate, Suppression
from app.tasks.service import Mailing, TaskService
from tests.support.flows import PASSWORD
from tests.support.pages import sign_in

PHONE = {"width": 390, "height": 844}
MINE, A, C = "frame", "colleague-A", "colleague-C"


@pytest.fixture
def app_config(app_config: dict[str, Any], tmp_path: Any) -> dict[str, Any]:
    """The dev outbox on (empty), so its page exists and shows in the navbar."""
    outbox = tmp_path / "outbox"
    outbox.mkdir()
    app_config["OUTBOX_DIR"] = str(outbox)
    return app_config


def long_rows(app: Flask) -> dict[str, int]:
    """Data that tends to widen a page: a long-named template, a long address on the
    suppression list, a send to long addresses and a reservation; their ids."""
    long_address = "a.very.long.recipient.address.for.wrapping@subdomain.example.com"
    with app.app_context():
        create_user("alice", PASSWORD, admin=True)
        template = MailTemplate(owner="alice", name="quarterly-newsletter-for-customers",
                                subject="분기 소식: 새 기능과 요금 안내, 그리고 자주 묻는 질문",
                                body_text="안녕하세요 {{ email }}", body_html="")
        db.session.add(template)
        db.session.add(Suppression(owner="alice", address=long_address, source="manual"))
        db.session.add_all(Suppression(owner="alice", address=f"s{n}@example.com",
                                       source="manual") for n in range(60))  # two pages
        db.session.commit()
        service = TaskService("alice")
        sent = service.send(Mailing.named("welcome", "alice", [long_address,
                                                               "b@example.com"]))
        later = datetime.now(UTC) + timedelta(minutes=30)
        reserved = service.send(Mailing.named("notice", "alice", ["c@example.com"]), later)
        return {"template": template.id, "task": sent.id, "reserved": reserved.id}


def pages(ids: dict[str, int], token: str) -> list[tuple[str, str, bool]]:
    """(owner, path, signed in) for every page the phone test visits."""
    return [
        (MINE, "/templates", True),
        (MINE, "/templates/new", True),
        (MINE, f"/templates/{ids['template']}/edit", True),
        (MINE, "/suppressions", True),
        (MINE, "/suppressions?page=2", True),  # the pager
        (MINE, "/admin/", True),
        (MINE, "/no-such-page", True),  # the 404 page (errors/limit.html)
        (A, "/send_mail", True),
        (C, "/tasks", True),
        (C, f"/tasks/{ids['task']}", True),
        (C, "/outbox", True),
        (C, f"/unsubscribe/{token}", True),
    ]


def horizontal_overflow(page: Any) -> int:
    """How far the page is wider than the phone (0 when it fits)."""
    return page.evaluate("document.documentElement.scrollWidth") - PHONE["width"]


def navbar_collapsed(page: Any) -> str | None:
    """None when the navbar is collapsed and opens from its toggler; else what is wrong."""
    toggler = page.locator("#nav-toggle")
    if not toggler.is_visible():
        return "no visible toggler"
    link = page.locator("#main-nav .nav-link").first
    if link.is_visible():
        return "links visible before the toggler is pressed"
    toggler.click()
    try:
        expect(link).to_be_visible(timeout=3000)
    except AssertionError:
        return "the toggler does not open the menu"
    if toggler.get_attribute("aria-expanded") != "true":
        return "aria-expanded not true once open"
    toggler.click()
    return None


def test_every_page_fits_a_phone(browser: Any, page: Any, live_server: str,
                                 app: Flask) -> None:
    ids = long_rows(app)
    with app.app_context():
        token = make_token("alice", "reader@example.com")
    page.set_viewport_size(PHONE)
    sign_in(page, live_server)
    problems = []
    for owner, path, _signed_in in pages(ids, token):
        # A 404 logs a console error in Chromium (the page fixture fails on those).
        target = page if "no-such" not in path else _other_page(browser, live_server)
        target.goto(live_server + path)
        assert target.locator("h1").count() == 1, f"{path}: one h1"
        wider = horizontal_overflow(target)
        if wider > 0:
            problems.append(f"[{owner}] {path}: {wider}px wider than 390")
        trouble = navbar_collapsed(target)
        if trouble:
            problems.append(f"[{owner}] {path}: navbar: {trouble}")
        if target is not page:
            target.context.close()
    assert problems == [], "\n".join(problems)


def test_login_and_error_page_fit_signed_out(browser: Any, page: Any,
                                             live_server: str) -> None:
    """The pages a visitor sees: no toggler (nothing to collapse), nothing wider."""
    page.set_viewport_size(PHONE)
    page.goto(live_server + "/auth/login")
    assert horizontal_overflow(page) <= 0
    assert page.locator("#nav-toggle").count() == 0
    other = _other_page(browser, live_server, signed_in=False)
    other.goto(live_server + "/nowhere")
    assert horizontal_overflow(other) <= 0
    assert "페이지를 찾을 수 없습니다" in other.locator("h1").inner_text()
    other.context.close()


def test_skip_link_moves_to_main(page: Any, live_server: str) -> None:
    """The first thing to tab to, shown when focused, lands on <main>."""
    page.set_viewport_size(PHONE)
    page.goto(live_server + "/auth/login")
    first = page.evaluate("""() => document.querySelector(
        'a[href], button, input:not([type=hidden]), select, textarea').className""")
    assert "skip-link" in first
    skip = page.locator("a.skip-link")
    assert not skip.is_visible() or skip.bounding_box()["width"] <= 1
    skip.focus()
    expect(skip).to_have_text("본문으로 건너뛰기")
    assert skip.bounding_box()["width"] > 10
    page.keyboard.press("Enter")
    expect(page.locator("main#main")).to_be_focused()


def _other_page(browser: Any, live_server: str, signed_in: bool = True) -> Any:
    """A page in a context of its own (for 404s, whose console error is expected)."""
    context = browser.new_context(timezone_id="Asia/Seoul", locale="ko-KR",
                                  viewport=PHONE)
    other = context.new_page()
    other.set_default_timeout(15000)
    if signed_in:
        sign_in(other, live_server)
    return other
