"""What a reader of a page in Chromium sees in which language (issue 21's must-show): the
visible words of a page and the words its attributes say (aria-label, title, placeholder,
alt, data-label: the phone tables' captions, the value of a button input), less the user
data, as tests/unit/test_language_pages.py leaves it out; and a per-page record of what is
left to fix, reported at once."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask

from app.cli import create_user
from app.extensions import db
from app.models import Bounce, Webhook, WebhookDelivery
from tests.support.axe import report, violations
from tests.support.flows import PASSWORD
from tests.support.outbox import captured

HANGUL = re.compile(r"[\u1100-\u11ff\u3130-\u318f\uac00-\ud7a3]")
# The code's English words that must not reach a Korean reader (the browser's own
# 'Choose File' on a file input is not the page's: innerText never holds it).
LEAKS = re.compile(r"\b(?:delivered|pending)\b|Task#", re.IGNORECASE)
# User data, marked as in tests/unit/test_language_pages.py (descriptions, the reasons
# servers gave, Message-IDs, the preview's recipient, the zone, the template names) and
# anything written in a language of its own (the switch's 한국어 / English).
USER_DATA = ", ".join([
    "[lang]:not(html)", ".task-description", ".reply", ".message-id",
    ".text-danger-emphasis", "#preview-recipient", "#timezone-label", "#template_name"])
# A date as Babel writes it on a task's page (with or without the year and the seconds).
DATES = {
    "en": re.compile(r"[A-Z][a-z]{2,8}\.? \d{1,2}(?:, \d{4})?,? (?:at )?\d{1,2}:\d{2}"
                     r"(?::\d{2})?\s?[AP]M"),
    "ko": re.compile(r"(?:(?:\d{4}년\s?)?\d{1,2}월\s?\d{1,2}일|\d{4}\.\s?\d{1,2}\.\s?\d{1,2}\.?)"
                     r"\s?(?:\([월화수목금토일]\)\s?)?(?:오전|오후)\s?\d{1,2}:\d{2}(?::\d{2})?"),
}

# [where, text] for every visible text node and every reader-facing attribute outside
# the user data; options count when their select is visible.
READ = """(skip) => {
  const out = [];
  const where = (el) => {
    const holder = el.closest('[id]');
    const cls = typeof el.className === 'string' && el.className.trim()
      ? '.' + el.className.trim().split(/\\s+/).slice(0, 2).join('.') : '';
    return (holder && holder !== el ? '#' + holder.id + ' ' : '')
      + el.tagName.toLowerCase() + (el.id ? '#' + el.id : cls);
  };
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement, text = node.nodeValue.trim();
    if (!text || !el || el.closest('script, style, noscript, template') || el.closest(skip)) {
      continue;
    }
    const box = el.closest('select') || el;
    if (box.checkVisibility({visibilityProperty: true})) { out.push([where(el), text]); }
  }
  const names = ['aria-label', 'title', 'placeholder', 'alt', 'data-label'];
  for (const el of document.body.querySelectorAll('*')) {
    if (el.closest('template') || el.closest(skip)) { continue; }
    for (const name of names) {
      const value = (el.getAttribute(name) || '').trim();
      if (value) { out.push([where(el) + '[' + name + ']', value]); }
    }
    if (el.matches('input[type=submit], input[type=button], input[type=reset]') && el.value) {
      out.push([where(el) + '[value]', el.value]);
    }
  }
  out.push(['<title>', document.title]);
  return out;
}"""


def reader_words(page: Any) -> list[tuple[str, str]]:
    """(where, text) for what a reader of ``page`` sees or hears, less the user data."""
    return [(where, text) for where, text in page.evaluate(READ, USER_DATA)]


def foreign(page: Any, lang: str) -> list[str]:
    """What is not in ``lang``: Hangul on an English page, the code's English words
    (``LEAKS``) on a Korean one; each as ``text  @where``, once."""
    found = HANGUL if lang == "en" else LEAKS
    seen: dict[str, str] = {}
    for where, text in reader_words(page):
        if found.search(text):
            seen.setdefault(" ".join(text.split())[:90], where)
    return [f"{text!r}  @{where}" for text, where in seen.items()]


def captured_mail(app: Flask, username: str) -> str:
    """A mail of a finished send of ``username`` as the dev stack's sink saves it under
    ``OUTBOX_DIR``, written in plain ASCII: nothing of this user data counts as a page's
    words. Its file name."""
    return captured(app, username, html="<p>See you at the <b>fair</b>.</p>",
                    subject="Autumn fair",
                    text="See you at the fair: https://mail.example/unsubscribe/abc\n")


def seed_rows(app: Flask, username: str, finished: int) -> None:
    """An operator ``root``; for ``username``, a bounce of the send ``finished`` and a
    webhook with its log (all in ASCII)."""
    with app.app_context():
        create_user("root", PASSWORD, admin=True)
        hook = Webhook(username=username, url="https://hooks.example.com/mailroom",
                       events=["recipient.bounced"], secret="whsec_seed")
        db.session.add_all([hook, Bounce(
            owner=username, task_id=finished, address="gone@example.org", kind="hard",
            via="smtp", diagnostic="5.1.1 550 User unknown", effect="suppressed",
            conclusion="dsn: gone@example.org hard", raw="550 5.1.1 User unknown", digest="a")])
        db.session.flush()
        db.session.add(WebhookDelivery(webhook_id=hook.id, event="send.finished", event_key="e",
                                       payload={}, status="delivered", attempts=1,
                                       last_status_code=200, last_response="ok"))
        db.session.commit()


def refused_until_429(page: Any, base: str, username: str) -> None:
    """A few wrong passwords for ``username`` until the sign-in answers 429."""
    for _ in range(6):
        page.goto(base + "/auth/login")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", "wrong password")
        page.click("button[type=submit]")
        page.wait_for_load_state()
        if page.locator("#error-429").count():
            return
    raise AssertionError("no 429 after 6 wrong passwords")


def to_korean(page: Any) -> None:
    """Click 한국어 in the navbar's switch, as a reader would."""
    page.click("#language-switch button[lang=ko]")
    page.wait_for_load_state()


def sign_out(page: Any) -> None:
    page.click("#logout")
    page.wait_for_url("**/auth/login*")


class Findings:
    """What is left to fix, page by page, in both languages: filled by ``look`` and
    reported by one assertion at the end."""

    def __init__(self) -> None:
        self.pages: dict[str, list[str]] = {}
        self.errors: list[str] = []  # the browser's console, where ``watch`` puts it

    def watch(self, page: Any) -> None:
        """Keep the page's script errors and what its policy refused."""
        def keep(text: str) -> None:
            self.errors.append(f"{page.url}: {text}")
        page.on("console", lambda msg: keep(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda exc: keep(str(exc)))

    def look(self, page: Any, name: str, lang: str, error_page: bool = False) -> None:
        """The page as it stands: its language, the words of the other one, axe, and the
        console since the last look (an error page's own 4xx aside)."""
        where = f"[{lang}] {name}"
        found = []
        html_lang = page.locator("html").get_attribute("lang")
        if html_lang != lang:
            found.append(f"<html lang={html_lang!r}>, not {lang!r}")
        found += foreign(page, lang)
        axe = violations(page)
        if axe:
            found.append("axe: " + report(axe).replace("\n", "\n      "))
        if errors := [e for e in self.errors
                      if not (error_page and re.search(r"status of 4\d\d", e))]:
            found += [f"console: {e}" for e in errors]
        self.errors.clear()
        self.pages.setdefault(where, []).extend(found)

    def note(self, name: str, lang: str, problem: str) -> None:
        self.pages.setdefault(f"[{lang}] {name}", []).append(problem)

    def summary(self) -> str:
        """Every page with what is wrong on it; a line per page that passed as well."""
        lines = []
        for where, found in self.pages.items():
            lines.append(f"{where}: {'ok' if not found else f'{len(found)} problem(s)'}")
            lines += [f"    {item}" for item in found]
        return "\n".join(lines)

    def failed(self) -> dict[str, list[str]]:
        return {where: found for where, found in self.pages.items() if found}
