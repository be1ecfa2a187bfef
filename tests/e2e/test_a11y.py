"""axe-core (tests/support/axe.py) finds no violation on any page, at a desktop's 1280×900
and a phone's 390×844 (issue 24): WCAG 2.x A/AA and axe's best practices.

Pages by owner (a page still being fixed by its owner may fail here; the failure lists
each page with the rule and the element):
- login, templates (list, new, edit, a form in error), suppressions, admin, the 404 page,
  and the frame of every page (base.html): this file's author;
- /send_mail, empty, with a running send and a reservation, and with a preview open:
  colleague A;
- /tasks, /tasks/<id>, /unsubscribe/<token>: colleague C.
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
from tests.support.axe import assert_no_violations, report, violations
from tests.support.flows import PASSWORD, wait_for_task
from tests.support.pages import sign_in, write_template

SIZES = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
MINE, A, C = "frame", "colleague-A", "colleague-C"


def seed(app: Flask) -> dict[str, int]:
    """An admin ``alice`` with a template of her own and two pages of suppressed
    addresses; the template's id."""
    with app.app_context():
        create_user("alice", PASSWORD, admin=True)
        template = MailTemplate(owner="alice", name="greeting", subject="안녕하세요",
                                body_text="안녕하세요 {{ email }}", body_html="<p>안녕</p>")
        db.session.add(template)
        db.session.add(Suppression(owner="alice", address="gone@example.com",
                                   source="manual"))
        db.session.add_all(Suppression(owner="alice", address=f"s{n}@example.com",
                                       source="manual") for n in range(60))  # a pager
        db.session.commit()
        return {"template": template.id}


class Audit:
    """Runs axe on page after page and keeps what it found, by owner and page."""

    def __init__(self, page: Any, base: str) -> None:
        self.page, self.base, self.found = page, base, []

    def visit(self, owner: str, path: str, label: str = "") -> None:
        self.page.goto(self.base + path)
        self.check(owner, label or path)

    def check(self, owner: str, label: str, page: Any = None) -> None:
        found = violations(page or self.page)
        if found:
            self.found.append(f"[{owner}] {label}:\n{report(found)}")

    def assert_clean(self) -> None:
        assert self.found == [], "axe violations:\n" + "\n".join(self.found)


@pytest.mark.parametrize("size", SIZES)
def test_pages_without_sends(size: str, browser: Any, page: Any, live_server: str,
                             app: Flask) -> None:
    ids = seed(app)
    with app.app_context():
        token = make_token("alice", "reader@example.com")
    page.set_viewport_size(SIZES[size])
    audit = Audit(page, live_server)
    audit.visit(MINE, "/auth/login")
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", "wrong")
    page.click("button[type=submit]")
    expect(page.locator("#login-error")).to_be_visible()
    audit.check(MINE, "/auth/login (refused)")
    sign_in(page, live_server)
    audit.check(A, "/send_mail (empty)")
    audit.visit(MINE, "/templates")
    audit.visit(MINE, "/templates/new")
    page.click("#template-save")  # empty: every required field in error
    expect(page.locator("#name-error")).to_be_visible()
    audit.check(MINE, "/templates/new (errors)")
    audit.visit(MINE, f"/templates/{ids['template']}/edit")
    audit.visit(MINE, "/templates/1/edit", "/templates/1/edit (built-in, read only)")
    audit.visit(MINE, "/suppressions")
    expect(page.locator("nav[aria-label='페이지']")).to_be_visible()
    audit.visit(MINE, "/suppressions?page=2")
    audit.visit(MINE, "/admin/")
    audit.visit(C, "/tasks", "/tasks (empty)")
    audit.visit(C, f"/unsubscribe/{token}")
    # A 404 logs a console error in Chromium, which the page fixture refuses: its own context.
    context = browser.new_context(timezone_id="Asia/Seoul", locale="ko-KR",
                                  viewport=SIZES[size])
    other = context.new_page()
    sign_in(other, live_server)
    other.goto(live_server + "/no-such-page")
    audit.check(MINE, "/no-such-page (404)", other)
    context.close()
    audit.assert_clean()


@pytest.mark.parametrize("size", SIZES)
def test_pages_with_sends(size: str, page: Any, live_server: str, app: Flask,
                          smtp_sink: Any, start_worker: Any) -> None:
    """A send running (the sink slow), one reserved, one finished: the send page, the
    history, a task's page, the operator's view."""
    seed(app)
    smtp_sink.handler.delay = 0.3
    start_worker()
    with app.app_context():
        service = TaskService("alice")
        done = service.send(Mailing.named("welcome", "alice", ["x@example.com"])).id
    wait_for_task(app, done, lambda t: t.status == "finished", what="the first send")
    with app.app_context():
        service = TaskService("alice")
        running = service.send(Mailing.named("notice", "alice", [
            f"r{n}@example.com" for n in range(60)])).id
        service.send(Mailing.named("welcome", "alice", ["later@example.com"]),
                     datetime.now(UTC) + timedelta(minutes=30))
    wait_for_task(app, running, lambda t: t.status == "running", what="the send to run")
    page.set_viewport_size(SIZES[size])
    sign_in(page, live_server)
    expect(page.locator(f"[id='{running}-progress']")).to_be_visible()
    audit = Audit(page, live_server)
    audit.check(A, "/send_mail (a running send, a reservation)")
    audit.visit(C, "/tasks")
    audit.visit(C, f"/tasks/{done}", "/tasks/<id> (finished)")
    audit.visit(C, f"/tasks/{running}", "/tasks/<id> (running)")
    audit.visit(MINE, "/admin/", "/admin/ (with jobs)")
    with app.app_context():
        TaskService("alice").cancel_task(running)
    audit.assert_clean()


def test_form_errors_are_tied_to_their_fields(page: Any, live_server: str,
                                              app: Flask) -> None:
    """A refused form names its fields invalid, describes them by the error, and puts the
    focus on the first one (login, template)."""
    seed(app)
    page.goto(live_server + "/auth/login")
    page.fill("input[name=username]", "alice")
    page.click("button[type=submit]")  # no password
    password = page.locator("input[name=password]")
    expect(password).to_have_attribute("aria-invalid", "true")
    assert set(password.get_attribute("aria-describedby").split()) == {"password-error",
                                                                      "login-error"}
    expect(page.locator("#password-error")).to_have_text("비밀번호를 입력하세요.")
    expect(password).to_be_focused()
    expect(page.locator("#login-error")).to_contain_text("아이디 또는 비밀번호가")

    sign_in(page, live_server)
    page.goto(live_server + "/templates/new")
    page.fill("#template-form [name=name]", "letter")
    page.click("#template-save")  # no subject, no text body
    subject = page.locator("#template-form [name=subject]")
    expect(subject).to_have_attribute("aria-invalid", "true")
    expect(subject).to_have_attribute("aria-describedby", "subject-error")
    expect(page.locator("#subject-error")).to_have_text("제목을 입력하세요.")
    expect(subject).to_be_focused()
    assert page.locator("#template-form [name=name]").get_attribute("aria-invalid") is None
    body = page.locator("#template-form [name=body_text]")
    expect(body).to_have_attribute("aria-describedby", "body_text-error")


@pytest.mark.parametrize("size", SIZES)
def test_the_send_page_with_a_preview_open(size: str, page: Any, live_server: str,
                                           app: Flask) -> None:
    """README's preview screenshot: a template of the user's, previewed for a CSV row."""
    seed(app)
    page.set_viewport_size(SIZES[size])
    sign_in(page, live_server)
    write_template(page, live_server, {"name": "인사", "subject": "{{ name }}님, 안녕하세요",
                                       "body_text": "{{ name }}님께",
                                       "body_html": "<p>{{ name }}님께</p>"})
    page.goto(live_server + "/send_mail")
    page.fill("textarea[name=recipient]", "email,name\nkim@example.com,김하나")
    page.select_option("select[name=template_name]", "인사")
    page.click("#preview-button")
    expect(page.locator("#preview-subject")).to_have_text("김하나님, 안녕하세요")
    assert_no_violations(page, f"/send_mail with a preview ({size})")

