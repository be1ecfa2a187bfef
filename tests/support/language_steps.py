"""The pages of tests/e2e/test_language_every_page.py: each step brings the browser to a
page, or to a state of one (a refused form, a flash after an action, a question asked),
as a user would get there."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tests.support.pages import reserve_from_page

OWN_TEMPLATE = {"name": "promo", "subject": "Hello {{ name }}",
                "body_text": "Hello {{ name }}, see you at the fair.",
                "body_html": "<p>Hello <b>{{ name }}</b>, see you at the fair.</p>"}


@dataclass
class Seeded:
    """What the pages show: alice's sends (one finished with a refusal, one running, one
    reserved), her list, her template and a mail in the outbox."""

    finished: int
    running: int
    reserved: int
    list_id: int
    template_id: int
    outbox: str


Go = Callable[[Any, str, Seeded], None]
Step = tuple[str, Go, bool]  # its name, how to get there, whether it answers a 4xx


def go(path: str) -> Go:
    return lambda page, base, ids: page.goto(base + path.format(ids=ids))


def error(path: str) -> Go:
    """To ``path``, which must answer the site's error page."""
    def get_there(page: Any, base: str, ids: Seeded) -> None:
        page.goto(base + path.format(ids=ids))
        page.locator("[id^='error-']").wait_for(timeout=5000)
    return get_there


def _send_page(page: Any, base: str, ids: Seeded) -> None:
    page.goto(base + "/send_mail")
    page.locator(f"[id='{ids.running}-state']").wait_for()
    page.wait_for_timeout(1500)  # a few polls: the scripts' own words are drawn


def _just_sent(page: Any, base: str, ids: Seeded) -> None:
    """A send made from the page, queued behind the running one: its flash and alert."""
    page.goto(base + "/send_mail")
    page.fill("textarea[name=recipient]", "hello@example.com")
    page.click("#send-button")
    page.wait_for_url("**/send_mail")
    page.locator(".flash").first.wait_for()
    page.wait_for_timeout(1000)


def _reserved(page: Any, base: str, ids: Seeded) -> None:
    page.goto(base + "/send_mail")
    reserve_from_page(page, "soon@example.com", 3600)
    page.locator(".flash").first.wait_for()


def _refused_form(page: Any, base: str, ids: Seeded) -> None:
    page.goto(base + "/send_mail")
    page.fill("textarea[name=recipient]", "not-an-address")
    page.click("#send-button")
    page.locator("#recipient-error").wait_for()


def _asking(page: Any, base: str, ids: Seeded) -> None:
    """The running send's cancel, asked in its alert (then left alone)."""
    page.goto(base + "/send_mail")
    page.click(f"[id='{ids.running}-progress-cancel'] button")
    page.locator(f"[id='{ids.running}-confirm']").wait_for()
    page.mouse.move(0, 0)
    page.wait_for_timeout(500)  # the buttons' colour transitions over


def _preview(page: Any, base: str, ids: Seeded) -> None:
    page.goto(base + "/send_mail")
    page.fill("textarea[name=recipient]", "email,name\nann@example.com,Ann")
    page.select_option("select[name=template_name]", OWN_TEMPLATE["name"])
    page.click("#preview-button")
    page.locator("#preview-subject", has_text="Hello Ann").wait_for()


def _too_large(page: Any, base: str, ids: Seeded) -> None:
    page.goto(base + "/send_mail")
    page.evaluate("() => { document.querySelector('textarea[name=recipient]').value ="
                  " 'a@example.com,'.repeat(80000); }")  # 1.1 MB, over MAX_CONTENT_LENGTH
    page.click("#send-button")
    page.locator("#error-413").wait_for()


def _cancel_confirm(page: Any, base: str, ids: Seeded) -> None:
    """The page that asks before a cancel, as a browser without script reaches it."""
    page.goto(base + "/send_mail")
    page.evaluate("(id) => HTMLFormElement.prototype.submit.call(document.getElementById(id))",
                  f"{ids.running}-progress-cancel")
    page.locator("#confirm-question").wait_for()


def _bad_template(page: Any, base: str, ids: Seeded) -> None:
    page.goto(base + "/templates/new")
    for name, value in (("name", "broken"), ("subject", "Hi"), ("body_text", "{{ oops")):
        page.fill(f"#template-form [name={name}]", value)
    page.click("#template-save")
    page.locator(".invalid-feedback").first.wait_for()


def _history(page: Any, base: str, ids: Seeded) -> None:
    page.goto(base + "/tasks")
    page.select_option("#filter-status", "finished")
    page.fill("#filter-q", "example.com")
    page.click("#filter-apply")
    page.wait_for_url("**/tasks?*q=example.com*")


def _outcome(page: Any, base: str, ids: Seeded) -> None:
    page.goto(f"{base}/tasks/{ids.finished}")
    page.select_option("#recipient-outcome", "refused")
    page.click("#recipient-search-apply")
    page.wait_for_url("**outcome=refused*")


def _resend(page: Any, base: str, ids: Seeded) -> None:
    """Send again to the refused recipient: the flash that names both tasks."""
    page.goto(f"{base}/tasks/{ids.finished}")
    page.click("#resend-failed button")
    page.locator(".flash").first.wait_for()


def _import(page: Any, base: str, ids: Seeded) -> None:
    """An import started from the list's page (queued behind the running send); the
    second time, the page of an import still under way (its button disabled)."""
    page.goto(f"{base}/lists/{ids.list_id}")
    if page.locator("#import-button").is_disabled():
        return
    page.fill("textarea#members", "carl@example.com")
    page.click("#import-button")
    page.locator(".flash").first.wait_for()


def _suppress(page: Any, base: str, ids: Seeded) -> None:
    page.goto(base + "/suppressions")
    page.fill("#suppression-addresses", "quiet@example.com")
    page.click("#suppression-add-button")
    page.locator(".flash").first.wait_for()


def _no_token(page: Any, base: str, ids: Seeded) -> None:
    """A form posted without its CSRF token (a page left open too long): the 400 page."""
    page.goto(base + "/suppressions")
    page.evaluate("() => document.querySelector('#suppression-add [name=csrf_token]').remove()")
    page.fill("#suppression-addresses", "late@example.com")
    page.click("#suppression-add-button")
    page.locator("#error-400").wait_for()


def _admin_delete(page: Any, base: str, ids: Seeded) -> None:
    """The operator's delete of alice's reservation, asked first (then left alone)."""
    page.goto(base + "/admin/")
    page.click(f"[id='admin-{ids.reserved}-delete']")
    page.locator("#admin-confirm-delete").wait_for()


def _new_token(page: Any, base: str, ids: Seeded) -> None:
    page.goto(base + "/settings/tokens")
    page.fill("#name", "ci")
    page.click("#token-create")
    page.locator("#new-token").wait_for()


ALICE: list[Step] = [
    ("send (running, reserved, ended)", _send_page, False),
    ("send: just sent (queued)", _just_sent, False),
    ("send: reserved from the page", _reserved, False),
    ("send: a refused form", _refused_form, False),
    ("send: cancel asked in the alert", _asking, False),
    ("send: preview", _preview, False),
    ("cancel confirm page", _cancel_confirm, False),
    ("413", _too_large, True),
    ("templates", go("/templates"), False),
    ("templates: new", go("/templates/new"), False),
    ("templates: a refused template", _bad_template, False),
    ("templates: edit", go("/templates/{ids.template_id}/edit"), False),
    ("templates: a built-in (read only)", go("/templates/1/edit"), False),
    ("history", go("/tasks"), False),
    ("history (filtered)", _history, False),
    ("task detail (finished)", go("/tasks/{ids.finished}"), False),
    ("task detail (outcome filter)", _outcome, False),
    ("task detail (running)", go("/tasks/{ids.running}"), False),
    ("task detail (reserved)", go("/tasks/{ids.reserved}"), False),
    ("task detail: resend asked", _resend, False),
    ("lists", go("/lists"), False),
    ("lists: new", go("/lists/new"), False),
    ("list after an import", go("/lists/{ids.list_id}"), False),
    ("list: import started (or under way)", _import, False),
    ("suppressions", go("/suppressions"), False),
    ("suppressions: one added", _suppress, False),
    ("bounces", go("/bounces"), False),
    ("outbox", go("/outbox/"), False),
    ("outbox: a mail", go("/outbox/{ids.outbox}"), False),
    ("settings: tokens", go("/settings/tokens"), False),
    ("settings: new token", _new_token, False),
    ("settings: webhooks", go("/settings/webhooks"), False),
    ("404", error("/no/such/page"), True),
    ("404 (a task not there)", error("/tasks/987654"), True),
    ("404 (a user at /admin/)", error("/admin/"), True),
    ("405", error("/auth/logout"), True),
    ("400 (a form without its token)", _no_token, True),
]
ROOT: list[Step] = [("send (idle)", go("/send_mail"), False), ("admin", go("/admin/"), False),
                    ("admin: delete asked", _admin_delete, False)]
