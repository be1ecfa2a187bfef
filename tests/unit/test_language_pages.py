"""The send page, the history and a task's page in both languages (issue 21, second slice):
in English no Korean is left outside what the user wrote or a server said; in Korean no
English word of the code (an outcome's or a status's name) leaks into the text."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.extensions import db
from app.models import Delivery
from app.models.types import utcnow
from app.tasks.service import Mailing, TaskService
from tests.unit.test_language import ENGLISH, HANGUL, _Chrome

KOREAN = {"Accept-Language": "ko"}
# The elements that hold user data (a task's description and template, recipients, the
# reasons servers gave, the task's log): left out of the words checked.
USER_DATA_CLASSES = {"task-description", "reply", "message-id", "text-danger-emphasis"}
USER_DATA_IDS = {"preview-recipient", "timezone-label", "template_name"}
USER_DATA_LABELS = {"받는 사람", "내용"}  # the history's and recipients' table cells
# The words of the code, and ``Task#`` (a page calls a task 작업 #N; only SPEC's flashes, not
# drawn here, keep Task#).
LEAKS = re.compile(r"delivered|pending|Task#")


class _Words(_Chrome):
    """What a reader sees or hears, without the user data nor the scripts."""

    def left_out(self, tag: str, attrs: dict[str, str | None]) -> bool:
        classes = set((attrs.get("class") or "").split())
        return (super().left_out(tag, attrs) or bool(classes & USER_DATA_CLASSES)
                or attrs.get("id") in USER_DATA_IDS or tag in ("script", "style")
                or (tag == "td" and attrs.get("data-label") in USER_DATA_LABELS))


def words(html: str) -> str:
    return _Words.read(html)


@pytest.fixture
def finished(app: Flask, signed_in: FlaskClient) -> int:
    """alice's finished send: one delivered, one refused by its server, one unknown."""
    with app.app_context():
        task = TaskService("alice").send(Mailing.named(
            "welcome", "alice", ["ok@example.com", "bad@example.com", "odd@example.com"]))
        rows = {d.recipient: d for d in db.session.scalars(
            db.select(Delivery).where(Delivery.task_id == task.id))}
        now = utcnow()
        for i, (who, status, error) in enumerate((
                ("ok@example.com", "delivered", None),
                ("bad@example.com", "refused", "550 5.1.1 사용자가 없습니다"),
                ("odd@example.com", "unknown", "연결이 끊겼습니다"))):
            rows[who].status, rows[who].error = status, error
            rows[who].updated_at = now - timedelta(seconds=30 - 10 * i)
        task.status, task.finished_at, task.progress = "finished", now, 100
        task.sync_delivery_counts()
        db.session.commit()
        return task.id


def _pages(client: FlaskClient, task_id: int, headers: dict[str, str]) -> dict[str, str]:
    pages = {}
    for path in ("/send_mail", "/tasks", f"/tasks/{task_id}"):
        response = client.get(path, headers=headers)
        assert response.status_code == 200, path
        pages[path] = response.get_data(as_text=True)
    return pages


def test_the_send_pages_in_english_have_no_korean(signed_in: FlaskClient,
                                                  finished: int) -> None:
    for path, html in _pages(signed_in, finished, ENGLISH).items():
        assert '<html lang="en">' in html, path
        text = words(html)
        assert not HANGUL.search(text), (path, sorted(set(re.findall(
            r"\S*[\uac00-\ud7a3]+\S*", text))))
    pages = _pages(signed_in, finished, ENGLISH)
    assert "Send mail" in pages["/send_mail"] and "In progress" in pages["/send_mail"]
    assert "Send history" in pages["/tasks"] and f"Task #{finished}" in pages["/tasks"]
    assert "At a glance" in pages[f"/tasks/{finished}"]


def test_the_send_pages_in_korean_say_no_english_code_words(signed_in: FlaskClient,
                                                            finished: int) -> None:
    for path, html in _pages(signed_in, finished, KOREAN).items():
        assert '<html lang="ko">' in html, path
        # the text and the attributes a reader meets, not data-* (the page's script reads
        # those) nor class names
        text = words(re.sub(r'\s(?:data-[\w-]+|class)="[^"]*"', "", html))
        assert not LEAKS.search(text), (path, LEAKS.findall(text))
