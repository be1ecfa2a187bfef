"""Issue 17, point 3: the daily quota cannot be beaten. Parallel posts are counted one after
the other on both databases (real gunicorn, threaded), a reservation is charged — and
checked — when it fires, and ``send_now`` and ``resume`` check too."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from redis import Redis

from app.extensions import db
from app.models import Task
from app.tasks.quota import WINDOW
from tests.support import wait_until
from tests.support.flows import (
    AuthActions,
    csrf_token,
    ended,
    flashes,
    post_send,
    tasks,
    wait_for_task,
)
from tests.support.live import LiveApp, live_app  # noqa: F401 (a fixture)

SEOUL = ZoneInfo("Asia/Seoul")


@pytest.fixture
def app_config(app_config: dict[str, Any], smtp_sink: Any) -> dict[str, Any]:
    app_config.update(RESERVATION_MIN_LEAD_SECONDS=1)
    return app_config


def jobs_in_redis(redis_conn: Redis) -> int:
    return len(redis_conn.keys("rq:job:*"))


def test_parallel_posts_are_counted_one_after_the_other(
        app: Flask, auth: AuthActions, live_app: Any,  # noqa: F811 (the fixture)
        redis_conn: Redis) -> None:
    """8 × 500 recipients posted at the same moment against 2,000 a day: exactly 4 go."""
    auth.create("alice")
    live: LiveApp = live_app()
    browsers = [live.browser() for _ in range(8)]
    for browser in browsers:
        browser.login("alice")
    tokens = [browser.csrf() for browser in browsers]
    start = threading.Barrier(len(browsers))
    answers: list[Any] = [None] * len(browsers)

    def post(index: int) -> None:
        recipients = "\n".join(f"p{index}-{n}@example.com" for n in range(500))
        start.wait()
        answers[index] = browsers[index].request("POST", "/send_mail", {
            "recipient": recipients, "template_name": "welcome", "timezone": "Asia/Seoul",
            "csrf_token": tokens[index]})

    threads = [threading.Thread(target=post, args=(i,)) for i in range(len(browsers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(answer.status == 200 for answer in answers)
    accepted = [a for a in answers if "전송하였습니다" in a.text]
    refused = [a for a in answers if "받는 사람 한도를 넘었습니다" in a.text]
    assert (len(accepted), len(refused)) == (4, 4)
    rows = tasks(app)
    assert len(rows) == 4 and sum(row.recipient_count for row in rows) == 2000
    assert jobs_in_redis(redis_conn) == 4


@pytest.fixture
def small_quota(app_config: dict[str, Any]) -> dict[str, Any]:
    app_config.update(QUOTA_RECIPIENTS_PER_DAY=5, RATELIMIT_ENABLED=False)
    return app_config


def reserve(client: FlaskClient, count: int, seconds: float) -> None:
    when = datetime.now(SEOUL) + timedelta(seconds=seconds)
    post_send(client, ", ".join(f"later{i}@example.com" for i in range(count)),
              is_scheduled="y", scheduled_time=when.strftime("%Y-%m-%d %H:%M:%S"),
              timezone="Asia/Seoul")
    assert flashes(client)[0][0] == "success"


def send_now(client: FlaskClient, count: int, prefix: str = "now") -> str:
    post_send(client, ", ".join(f"{prefix}{i}@example.com" for i in range(count)))
    [(category, _)] = flashes(client)
    return category


@pytest.mark.usefixtures("small_quota")
def test_a_reservation_over_the_quota_when_it_fires_sends_nothing(
        app: Flask, signed_in: FlaskClient, smtp_sink: Any, start_worker: Any) -> None:
    reserve(signed_in, 3, seconds=4)  # fits now: nothing is charged yet
    assert send_now(signed_in, 5) == "success"  # the reservation is not charged until it fires
    reservation = tasks(app)[0]
    assert (reservation.status, reservation.charged_at) == ("reserved", None)
    start_worker()
    done = wait_for_task(app, reservation.id, ended, timeout=30, what="the reservation")
    assert (done.status, done.failed, done.delivered_count) == ("finished", True, 0)
    assert "받는 사람 한도를 넘었습니다" in (done.log or "")
    wait_until(lambda: smtp_sink.handler.count() >= 5, 20, "the send now")
    assert sorted(smtp_sink.handler.recipients()) == [f"now{i}@example.com" for i in range(5)]


@pytest.mark.usefixtures("small_quota")
def test_send_now_checks_the_quota(app: Flask, signed_in: FlaskClient,
                                   redis_conn: Redis) -> None:
    reserve(signed_in, 3, seconds=3600)
    assert send_now(signed_in, 5) == "success"
    reservation = tasks(app)[0]
    token = csrf_token(signed_in, "/send_mail")
    answer = signed_in.post(f"/tasks/{reservation.id}/send_now", data={"csrf_token": token},
                            headers={"Accept": "application/json"})
    assert answer.status_code == 409 and "받는 사람 한도를 넘었습니다" in answer.json["message"]
    kept = tasks(app)[0]
    assert (kept.status, kept.charged_at) == ("reserved", None)
    assert redis_conn.zscore("rq:scheduled:high", str(reservation.id)) is not None


@pytest.mark.usefixtures("small_quota")
def test_resume_checks_the_quota_once_its_charge_left_the_window(
        app: Flask, signed_in: FlaskClient) -> None:
    assert send_now(signed_in, 5, "first") == "success"
    paused = tasks(app)[0]
    token = csrf_token(signed_in, "/send_mail")
    signed_in.post(f"/tasks/{paused.id}/pause", data={"csrf_token": token})
    assert tasks(app)[0].status == "paused"
    with app.app_context():  # paused for a day: its charge has left the window
        day_ago = datetime.now(UTC) - WINDOW - timedelta(seconds=1)
        db.session.execute(db.update(Task).where(Task.id == paused.id)
                           .values(created_at=day_ago, charged_at=day_ago))
        db.session.commit()
    assert send_now(signed_in, 5, "second") == "success"
    answer = signed_in.post(f"/tasks/{paused.id}/resume", data={"csrf_token": token},
                            headers={"Accept": "application/json"})
    assert answer.status_code == 409 and "받는 사람 한도를 넘었습니다" in answer.json["message"]
    assert tasks(app)[0].status == "paused"


@pytest.mark.usefixtures("small_quota")
def test_resume_within_the_window_is_not_charged_twice(app: Flask,
                                                       signed_in: FlaskClient) -> None:
    assert send_now(signed_in, 5) == "success"
    paused = tasks(app)[0]
    token = csrf_token(signed_in, "/send_mail")
    signed_in.post(f"/tasks/{paused.id}/pause", data={"csrf_token": token})
    answer = signed_in.post(f"/tasks/{paused.id}/resume", data={"csrf_token": token},
                            headers={"Accept": "application/json"})
    assert answer.status_code == 200, answer.json
    resumed = tasks(app)[0]
    assert (resumed.status, resumed.charged) == ("queued", 5)
