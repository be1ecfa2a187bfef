"""Issue 21's must-show in Chromium: with ``Accept-Language: en`` every page of the app (a
visitor's, a user's in each state of a send, an operator's, the error pages) has no Hangul
outside user data; with the navbar's switch on 한국어 the same pages say none of the code's
English words (``delivered``, ``pending``, ``Task#``); the choice outlives a sign-out and a
new browser; a task's dates read as each language writes them; axe finds nothing. Every
page is looked at before one assertion reports all that is left, page by page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.extensions import db
from app.mail.unsubscribe import make_token
from app.models import MailTemplate
from tests.support.flows import (
    AuthActions,
    control,
    csrf_token,
    ended,
    flashes,
    post_send,
    tasks,
    wait_for_task,
)
from tests.support.language import (
    DATES,
    Findings,
    captured_mail,
    refused_until_429,
    seed_rows,
    sign_out,
    to_korean,
)
from tests.support.language_steps import ALICE, OWN_TEMPLATE, ROOT, Seeded, Step, go
from tests.support.pages import SEOUL, sign_in

RUNNING = 1500  # recipients of the send caught running (2 a second: it outlasts the walk)


@pytest.fixture
def app_config(app_config: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    """A slow send (a rate), a quota above it, a login pair limit a few failures reach,
    and an outbox to show."""
    (tmp_path / "outbox").mkdir()
    app_config.update(MAIL_RATE_PER_SECOND=2, MAIL_MAX_RECIPIENTS=RUNNING,
                      QUOTA_RECIPIENTS_PER_DAY=10_000,
                      RATELIMIT_LOGIN_PAIR="3 per minute", RATELIMIT_LOGIN_IP="1000 per minute",
                      OUTBOX_DIR=str(tmp_path / "outbox"))
    return app_config


def _post(client: FlaskClient, path: str, data: dict[str, str], form: str) -> Any:
    return client.post(path, data={**data, "csrf_token": csrf_token(client, form)})


def _send(app: Flask, client: FlaskClient, recipients: list[str], **extra: str) -> int:
    before = len(tasks(app))
    post_send(client, "\n".join(recipients), "welcome", **extra)
    made = tasks(app)
    assert len(made) > before, flashes(client)
    return made[-1].id


def seed(app: Flask, client: FlaskClient, smtp_sink: Any) -> Seeded:
    """Through the app's own forms (a test client signed in as alice, in English: what the
    app writes about a send is in the language it was made in): a finished send with
    a delivered and a refused recipient, a list after an import, a template, a suppressed
    address, a reservation two hours ahead, and last a send caught running."""
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"  # alice writes in English first
    AuthActions(client, app).create()
    AuthActions(client, app).login()
    smtp_sink.handler.refuse = {"bad@example.com"}
    finished = _send(app, client, ["ok@example.com", "bad@example.com"])
    wait_for_task(app, finished, lambda t: t.status == "finished", 60, "the first send")
    made = _post(client, "/lists/new", {"name": "readers"}, "/lists/new")
    list_id = int(made.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    _post(client, f"/lists/{list_id}/import",
          {"members": "email,name\nann@example.com,Ann\nbob@example.com,Bob\nnot-an-address"},
          f"/lists/{list_id}")
    wait_for_task(app, tasks(app)[-1].id, lambda t: t.status == "finished", 60, "the import")
    _post(client, "/templates/new", OWN_TEMPLATE, "/templates/new")
    _post(client, "/suppressions", {"addresses": "blocked@example.com"}, "/suppressions")
    when = datetime.now(UTC).astimezone(SEOUL) + timedelta(hours=2)
    reserved = _send(app, client, ["later@example.com"], is_scheduled="y",
                     scheduled_time=when.strftime("%Y-%m-%dT%H:%M:%S"))
    running = _send(app, client, [f"r{i}@example.com" for i in range(RUNNING)])
    wait_for_task(app, running, lambda t: t.status == "running" and t.delivered_count > 0,
                  60, "the long send to be under way")
    seed_rows(app, "alice", finished)
    with app.app_context():
        template_id = db.session.scalar(db.select(MailTemplate.id).filter_by(name="promo"))
    return Seeded(finished, running, reserved, list_id, template_id,
                  captured_mail(app, "alice"))


def walk(page: Any, base: str, ids: Seeded, steps: list[Step], lang: str,
         found: Findings) -> None:
    for name, get_there, error_page in steps:
        try:
            get_there(page, base, ids)
        except Exception as exc:  # noqa: BLE001 (one page that fails must not hide the rest)
            found.note(name, lang, f"not reached: {type(exc).__name__}: "
                                   f"{str(exc).splitlines()[0][:200]}")
            continue
        found.look(page, name, lang, error_page)
        if name == "task detail (finished)":
            shown = [t.strip() for t in page.locator("#task-summary time, #recipients td.at")
                     .all_inner_texts()]
            odd = [t for t in shown if not DATES[lang].fullmatch(t)]
            if not shown or odd:
                found.note(name, lang, f"dates not in the {lang} format: {odd or 'none shown'}")


def _broken_link(page: Any, base: str, ids: Seeded) -> None:
    page.goto(base + "/unsubscribe/not-a-token")
    page.locator("#unsubscribe-invalid").wait_for()


def visitor(page: Any, base: str, app: Flask, lang: str, found: Findings) -> None:
    """The pages of someone not signed in: sign-in, an unsubscribe link (and its answer),
    a broken one, and the 429 a few wrong passwords earn."""
    with app.app_context():
        token = make_token("alice", f"reader-{lang}@example.com")
    steps: list[Step] = [("login", go("/auth/login"), False),
                         ("unsubscribe confirm", go(f"/unsubscribe/{token}"), False),
                         ("unsubscribe done", lambda p, b, i: p.click("#unsubscribe-confirm"),
                          False),
                         ("unsubscribe: broken link", _broken_link, True),
                         ("429", lambda p, b, i: refused_until_429(p, b, f"ghost-{lang}"), True)]
    walk(page, base, None, steps, lang, found)  # type: ignore[arg-type]


def one_language(browser: Any, base: str, app: Flask, ids: Seeded, lang: str,
                 found: Findings) -> None:
    """Every page in ``lang`` in a browser that asks for English (Korean: by the switch,
    clicked before signing in, and again signed in so the account keeps it)."""
    context = browser.new_context(timezone_id="Asia/Seoul", locale="en-US")
    page = context.new_page()
    page.set_default_timeout(15000)
    found.watch(page)
    try:
        page.goto(base + "/auth/login")
        if lang == "ko":
            to_korean(page)
        visitor(page, base, app, lang, found)
        for username, steps in (("alice", ALICE), ("root", ROOT)):
            sign_in(page, base, username)
            if lang == "ko":
                to_korean(page)
            walk(page, base, ids, steps, lang, found)
            sign_out(page)
        found.look(page, "login (signed out)", lang)
    finally:
        context.close()


def kept(browser: Any, base: str, found: Findings) -> None:
    """alice chose 한국어 and signed out: a new browser asking for English, signed in,
    reads Korean."""
    context = browser.new_context(timezone_id="Asia/Seoul", locale="en-US")
    page = context.new_page()
    try:
        sign_in(page, base)
        lang = page.locator("html").get_attribute("lang")
        nav = page.locator("#main-nav .nav-link").first.inner_text()
        if lang != "ko" or nav != "보내기":
            found.note("the choice kept after sign-out", "ko", f"lang={lang!r}, nav {nav!r}")
    finally:
        context.close()


def test_every_page_in_english_then_korean(browser: Any, live_server: str, app: Flask,
                                           client: FlaskClient, smtp_sink: Any,
                                           start_worker: Any) -> None:
    start_worker()
    ids = seed(app, client, smtp_sink)
    found = Findings()
    for lang in ("en", "ko"):
        one_language(browser, live_server, app, ids, lang, found)
    kept(browser, live_server, found)
    AuthActions(client, app).login()  # the browser's sign-outs ended its session too
    control(client, ids.running, "cancel", confirm="1")
    wait_for_task(app, ids.running, ended, 30, "the long send to stop")
    print(found.summary())
    assert not found.failed(), "\n" + found.summary()
