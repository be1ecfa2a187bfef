"""What the worker writes about a send is in the language the send was made in (issue 21):
``tasks.language`` is the request's language when the task is made, and the run (with its
connections' threads) and the reconciler write under it; Korean when none was recorded.
Jobs run in-process by RQ's ``SimpleWorker`` against the session's real redis-server."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from redis import Redis

from app.extensions import db
from app.models import Task
from app.security import limit_words
from app.tasks.decorators import CANCELED_LOG
from app.tasks.service import Mailing, TaskService
from tests import jobs
from tests.unit.test_background_task import fresh, run_worker
from tests.unit.test_language import HANGUL

ENGLISH = {"Accept-Language": "en-US,en;q=0.9"}


def _make(app: Flask, headers: dict[str, str], func: Any = jobs.cancels_itself) -> int:
    with app.test_request_context("/", headers=headers):
        return TaskService("alice").enqueue_task(func, description="a test job").id


@pytest.mark.parametrize(("headers", "language", "log"), [
    (ENGLISH, "en", "Canceled by the user."),
    ({"Accept-Language": "ko"}, "ko", CANCELED_LOG),
])
def test_the_run_writes_in_the_sends_language(app: Flask, redis_conn: Redis,
                                              headers: dict[str, str], language: str,
                                              log: str) -> None:
    task_id = _make(app, headers)
    with app.app_context():  # the worker: no request, Korean unless the task says
        run_worker()
        task = fresh(task_id)
        assert (task.language, task.status, task.log) == (language, "canceled", log)


def test_a_task_without_a_language_is_written_in_korean(app: Flask, redis_conn: Redis) -> None:
    task_id = _make(app, ENGLISH)
    with app.app_context():
        db.session.execute(db.update(Task).values(language=None))
        db.session.commit()
        run_worker()
        assert fresh(task_id).log == CANCELED_LOG


def test_a_send_made_in_english_is_described_in_english(app: Flask,
                                                         signed_in: FlaskClient) -> None:
    with app.test_request_context("/", headers=ENGLISH):
        task = TaskService("alice").send(Mailing.named("welcome", "alice", ["a@example.com"]))
        assert task.language == "en"
        assert task.description == "[welcome] template mail to 1 recipient"
    with app.test_request_context("/"):
        task = TaskService("alice").send(Mailing.named("welcome", "alice", ["a@example.com"]))
        assert (task.language, task.description) == ("ko", "[welcome] 템플릿 메일을 1명에게 전송")


def test_a_server_error_is_a_page_in_the_readers_language(app: Flask,
                                                          client: FlaskClient) -> None:
    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError("boom")

    app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production: the handler answers
    answer = client.get("/boom", headers=ENGLISH)
    page = answer.get_data(as_text=True)
    assert answer.status_code == 500 and 'id="error-500"' in page
    assert "Server error" in page and not HANGUL.search(page.split("<main", 1)[-1]
                                                         .split("</main>", 1)[0])
    korean = client.get("/boom", headers={"Accept-Language": "ko"}).get_data(as_text=True)
    assert "서버 오류" in korean and "Internal Server Error" not in korean


@pytest.mark.parametrize(("lang", "text", "words"), [
    ("ko", "3 per 1 minute", "1분에 3번"),
    ("en", "3 per 1 minute", "3 per 1 minute"),
    ("ko", "10 per 2 hours", "2시간에 10번"),
    ("en", "10 per 2 hours", "10 per 2 hours"),
    ("ko", "1 per 1 day", "1일에 1번"),
    ("ko", "something else", "something else"),
])
def test_a_rate_limit_in_words(app: Flask, lang: str, text: str, words: str) -> None:
    """The 429 page's limit (Flask-Limiter says it in English) in the reader's language."""
    with app.test_request_context("/", headers={"Accept-Language": lang}):
        assert limit_words(text) == words
