"""The operator view, the outbox, the suppression list, the bounces and the unsubscribe pages
in both languages (issue 21): in English no Korean is left outside what a user wrote, a mail
holds or a server said; in Korean no English word of the code leaks into the text; the
operator view's times (RQ's heartbeats) read in the reader's zone and language, never as
raw ISO; a non-admin at /admin/ and a recipient with a damaged unsubscribe link get the
site's page in their language."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from redis import Redis
from rq import Worker

from app.cli import create_user
from app.extensions import db
from app.mail.unsubscribe import make_token
from app.models import Bounce, Suppression, Task
from app.models.suppression import BOUNCE, COMPLAINT, MANUAL, UNSUBSCRIBE
from app.queue import SERIALIZER
from app.tasks.service import Mailing, TaskService
from tests.support.flows import PASSWORD, AuthActions, csrf_token
from tests.support.outbox import captured
from tests.unit.test_language import ENGLISH, HANGUL, _Chrome

KOREAN = {"Accept-Language": "ko"}
# What a user wrote, a mail holds, a server said or the system recorded as it came: left
# out of the words checked (the test data put Korean in some of them on purpose).
USER_DATA_CLASSES = {"task-description", "mail-header", "mail-body", "reply", "address",
                     "bounce-conclusion", "bounce-raw-text", "job-info"}
USER_DATA_IDS = {"unsubscribe-address", "unsubscribe-sender"}
LEAKS = re.compile(r"delivered|pending|Task#")
ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
# RQ's own way of writing the scheduler's heartbeat: 20:18:41 UTC on the 3rd is 05:18:41 on
# the 4th in Seoul (the example, shown beside a Korean date of another day).
HEARTBEAT = "2026-12-03T20:18:41.817038Z"
SCHEDULER = "0f1e2d3c4b5a"


class _Words(_Chrome):
    """What a reader sees or hears (also the phone tables' captions), without user data
    nor scripts."""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if "data-label" in found and not self.left_out(tag, found) and not any(self._foreign):
            self.words.append(found["data-label"] or "")
        super().handle_starttag(tag, attrs)

    def left_out(self, tag: str, attrs: dict[str, str | None]) -> bool:
        classes = set((attrs.get("class") or "").split())
        return (super().left_out(tag, attrs) or bool(classes & USER_DATA_CLASSES)
                or attrs.get("id") in USER_DATA_IDS or tag in ("script", "style", "title"))


def words(html: str) -> str:
    return _Words.read(html)


def title(html: str) -> str:
    found = re.search(r"<title>(.*?)</title>", html, re.S)
    return found.group(1).strip() if found else ""


@pytest.fixture
def app_config(app_config: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    (tmp_path / "outbox").mkdir()
    app_config["OUTBOX_DIR"] = str(tmp_path / "outbox")
    return app_config


@pytest.fixture
def root(app: Flask, client: FlaskClient, auth: AuthActions, redis_conn: Redis) -> dict[str, Any]:
    """An operator ``root`` (signed in) with a reserved send, a finished one, suppressions of
    every source, a bounce matched to the send and one that matched nobody, a captured mail,
    a live worker and a scheduler whose heartbeat RQ wrote in ISO; ``alice`` is no admin."""
    with app.app_context():
        create_user("root", PASSWORD, admin=True, display_name="루트 상점")
        create_user("alice", PASSWORD)
        when = datetime.now(UTC) + timedelta(hours=2)
        reserved = TaskService("root").send(
            Mailing.named("welcome", "root", ["later@example.com"]), when).id
        for source, address in ((UNSUBSCRIBE, "left@example.com"), (MANUAL, "hand@example.com"),
                                (BOUNCE, "gone@example.org"), (COMPLAINT, "spam@example.com")):
            Suppression.add("root", [address], source)
        for owner, address, task_id in (("root", "gone@example.org", reserved),
                                        (None, "stranger@example.net", None)):
            db.session.add(Bounce(owner=owner, task_id=task_id, address=address, kind="hard",
                                  via="smtp", diagnostic="550 5.1.1 사용자가 없습니다",
                                  effect="suppressed" if owner else "ignored",
                                  conclusion="dsn: hard; matched by verp", raw="본문",
                                  digest=address))
        db.session.commit()
    mail = captured(app, "root", "<p>안녕하세요</p>")
    Worker(["default"], connection=redis_conn, serializer=SERIALIZER).register_birth()
    redis_conn.hset(f"rq:scheduler:{SCHEDULER}", mapping={
        "hostname": "elsewhere", "pid": "4242", "last_heartbeat": HEARTBEAT})
    redis_conn.set("rq:scheduler-lock:default", SCHEDULER)
    with app.app_context():
        unsubscribe = make_token("root", "reader@example.com")
    auth.login("root")
    return {"task": reserved, "mail": mail, "token": unsubscribe}


def _pages(client: FlaskClient, data: dict[str, Any], headers: dict[str, str]) -> dict[str, str]:
    """Every page of these modules with ``data`` in them, as ``headers`` asks."""
    paths = ["/admin/", "/outbox/", f"/outbox/{data['mail']}", "/suppressions", "/bounces",
             f"/unsubscribe/{data['token']}"]
    pages = {}
    for path in paths:
        response = client.get(path, headers=headers)
        assert response.status_code == 200, path
        pages[path] = response.get_data(as_text=True)
    asked = client.post(f"/admin/jobs/{data['task']}/delete", headers=headers,
                        data={"csrf_token": csrf_token(client, "/admin/")})
    assert asked.status_code == 200
    pages["confirm-delete"] = asked.get_data(as_text=True)
    visitor = client.application.test_client()  # a recipient: nobody signed in
    done = visitor.post(f"/unsubscribe/{data['token']}", headers=headers)
    again = visitor.post(f"/unsubscribe/{data['token']}", headers=headers)
    assert done.status_code == again.status_code == 200
    pages["unsubscribe-done"] = done.get_data(as_text=True)
    pages["unsubscribe-already"] = again.get_data(as_text=True)
    return pages


def test_the_ops_pages_in_english_have_no_korean(client: FlaskClient,
                                                 root: dict[str, Any]) -> None:
    pages = _pages(client, root, ENGLISH)
    for path, html in pages.items():
        assert '<html lang="en">' in html, path
        text = words(html)
        assert not HANGUL.search(text), (path, sorted(set(re.findall(
            r"\S*[\uac00-\ud7a3]+\S*", text))))
        if path != f"/outbox/{root['mail']}":  # that one's title is the mail's subject
            assert not HANGUL.search(title(html)), (path, title(html))
    admin = pages["/admin/"]
    assert "Operations" in admin and "Scheduled" in admin and "Last heartbeat" in admin
    assert "Suppression list" in pages["/suppressions"]
    suppressions = words(pages["/suppressions"])
    for source in ("Unsubscribed by the recipient", "Added by hand", "Bounced",
                   "Reported as spam by the recipient"):
        assert source in suppressions, source
    bounces = words(pages["/bounces"])
    # a send's link reads as on the history and a task's page (one msgid, '작업 #%(id)s')
    assert re.search(rf"(?:Send|Task) #{root['task']}\b", bounces), bounces
    assert "No matching send" in bounces
    assert "Hard bounce" in bounces and "Added to the suppression list" in bounces
    assert "You are unsubscribed." in pages["unsubscribe-done"]
    assert "is already unsubscribed" in pages["unsubscribe-already"]
    assert "Delete job" in pages["confirm-delete"]


def test_the_ops_pages_in_korean_say_no_english_code_words(client: FlaskClient,
                                                           root: dict[str, Any]) -> None:
    pages = _pages(client, root, KOREAN)
    for path, html in pages.items():
        assert '<html lang="ko">' in html, path
        # the text and the attributes a reader meets, not data-* (the page's script and the
        # tests read those) nor class names
        text = words(re.sub(r'\s(?:data-(?!label)[\w-]+|class)="[^"]*"', "", html))
        assert not LEAKS.search(text), (path, LEAKS.findall(text))
    bounces = words(pages["/bounces"])
    assert f"작업 #{root['task']}" in bounces and "맞는 보내기 없음" in bounces
    suppressions = words(pages["/suppressions"])
    for source in ("수신자가 거부", "직접 추가", "반송", "수신자가 스팸 신고"):
        assert source in suppressions, source
    assert "예약됨" in words(pages["/admin/"])  # the job's kind, not ``scheduled``


@pytest.mark.parametrize(("headers", "long", "short"), [
    (KOREAN, r"2026년12월04일 05시 18분 41초", r"12월 4일 오전 5:18:41"),
    (ENGLISH, r"Dec 4, 2026, 5:18:41\W*AM", r"Dec 4, 5:18:41\W*AM"),
])
def test_the_heartbeats_read_in_the_readers_zone_and_language(
        client: FlaskClient, root: dict[str, Any], headers: dict[str, str], long: str,
        short: str) -> None:
    html = client.get("/admin/", headers=headers).get_data(as_text=True)
    text = words(html)
    assert not ISO_TIME.search(text), ISO_TIME.findall(text)
    assert HEARTBEAT not in html and "20:18:41" not in text
    scheduler = re.search(r'<p id="admin-scheduler"[^>]*>(.*?)</p>', html, re.S)
    assert scheduler and re.search(long, scheduler.group(1)), scheduler and scheduler.group(1)
    row = re.search(rf'<tr data-scheduler="{SCHEDULER}".*?</tr>', html, re.S)
    assert row and re.search(short, row.group(0)), row and row.group(0)
    worker = re.search(r'<table class="table table-sm" id="admin-workers">.*?</table>', html,
                       re.S)
    assert worker and re.search(r'<time datetime="[^"]+[+-]\d{2}:\d{2}">', worker.group(0))


@pytest.mark.parametrize(("headers", "lang", "heading"), [
    (KOREAN, "ko", "페이지를 찾을 수 없습니다"),
    (ENGLISH, "en", "Page not found"),
])
def test_a_non_admin_at_admin_gets_the_sites_404(app: Flask, client: FlaskClient,
                                                 root: dict[str, Any], headers: dict[str, str],
                                                 lang: str, heading: str) -> None:
    visitor = app.test_client()
    AuthActions(visitor, app).login("alice")
    for who in (visitor, app.test_client()):  # signed in without the right, and nobody
        response = who.get("/admin/", headers=headers)
        html = response.get_data(as_text=True)
        assert response.status_code == 404
        assert f'<html lang="{lang}">' in html and heading in html and 'id="error-404"' in html
        assert "Not Found" not in html
        if lang == "en":
            assert not HANGUL.search(words(html)), words(html)


@pytest.mark.parametrize(("headers", "lang", "heading"), [
    (KOREAN, "ko", "수신 거부 링크가 올바르지 않습니다"),
    ({"Accept-Language": "en-GB,en;q=0.8,ko;q=0.5"}, "en", "This unsubscribe link does not work"),
])
def test_a_damaged_unsubscribe_link_gets_a_page_in_the_browsers_language(
        app: Flask, root: dict[str, Any], headers: dict[str, str], lang: str,
        heading: str) -> None:
    visitor = app.test_client()
    for link in (root["token"][:-3], "nonsense", root["token"] + "x"):
        for method in (visitor.get, visitor.post):
            response = method(f"/unsubscribe/{link}", headers=headers)
            html = response.get_data(as_text=True)
            assert response.status_code == 404, link
            assert f'<html lang="{lang}">' in html and heading in html
            assert 'id="unsubscribe-invalid"' in html and "Not Found" not in html
            if lang == "en":
                assert not HANGUL.search(words(html)), words(html)


def test_an_operators_delete_is_logged_in_the_sends_language(app: Flask, client: FlaskClient,
                                                            root: dict[str, Any]) -> None:
    with app.app_context():
        db.session.get(Task, root["task"]).language = "en"
        db.session.commit()
    token = csrf_token(client, "/admin/")
    done = client.post(f"/admin/jobs/{root['task']}/delete", headers=KOREAN,
                       data={"confirm": "1", "csrf_token": token}, follow_redirects=True)
    assert f"작업 {root['task']}을(를) 지웠습니다." in done.get_data(as_text=True)  # the reader's
    with app.app_context():
        ended = db.session.get(Task, root["task"])
        assert (ended.failed, ended.log) == (True, "An operator deleted this job.")  # the send's
