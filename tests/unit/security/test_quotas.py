"""Issue 9, point 6: no spam relay. Per-user quotas in TaskService: recipients per rolling
24 hours and open reservations. Over a quota: a flash naming the limit and when it frees
up, no Task row, no job (real Redis, the real form)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from redis import Redis

from app import create_app
from app.extensions import db
from app.models import Task
from app.tasks.quota import WINDOW, frees_at
from app.tasks.service import EnqueueError, TaskService
from app.utils.datetime_converter import korean_datetime, localtime
from tests import jobs
from tests.support import free_port
from tests.support.flows import AuthActions, csrf_token, flashes, post_send, tasks

SEOUL = ZoneInfo("Asia/Seoul")


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    app_config.update(QUOTA_RECIPIENTS_PER_DAY=5, QUOTA_OPEN_RESERVATIONS=2,
                      RATELIMIT_ENABLED=False)  # this file is about quotas, not request rates
    return app_config


def addresses(count: int, prefix: str = "r") -> str:
    return ", ".join(f"{prefix}{i}@example.com" for i in range(count))


def jobs_in_redis(redis_conn: Redis) -> int:
    return len(redis_conn.keys("rq:job:*"))


def send(client: FlaskClient, count: int, prefix: str = "r", **extra: str) -> tuple[str, str]:
    """Post the form; the one flash it left."""
    assert post_send(client, addresses(count, prefix), **extra).status_code == 302
    [flash] = flashes(client)
    return flash


def reserve(client: FlaskClient, count: int = 1, hours: int = 1) -> tuple[str, str]:
    when = datetime.now(SEOUL) + timedelta(hours=hours)
    return send(client, count, prefix=f"h{hours}-", is_scheduled="y",
                scheduled_time=when.strftime("%Y-%m-%d %H:%M:%S"), timezone="Asia/Seoul")


def seoul_text(moment: datetime) -> str:
    return korean_datetime(localtime(moment, SEOUL))


def test_recipients_over_the_rolling_day_are_refused(app: Flask, signed_in: FlaskClient,
                                                     redis_conn: Redis) -> None:
    assert send(signed_in, 3)[0] == "success"
    [first] = tasks(app)
    assert jobs_in_redis(redis_conn) == 1

    category, message = send(signed_in, 3, prefix="s")
    assert category == "danger"
    assert "24시간 동안 5명까지" in message and "최근 24시간 3명, 이번 3명" in message
    assert "지금은 2명까지 보낼 수 있고" in message
    assert f"{seoul_text(first.created_at + WINDOW)}(" in message  # when it frees up
    assert len(tasks(app)) == 1 and jobs_in_redis(redis_conn) == 1

    assert send(signed_in, 2, prefix="t")[0] == "success"  # exactly at the limit
    assert len(tasks(app)) == 2 and jobs_in_redis(redis_conn) == 2
    category, message = send(signed_in, 1, prefix="u")
    assert category == "danger" and "지금은 0명까지" in message
    assert len(tasks(app)) == 2 and jobs_in_redis(redis_conn) == 2


def test_a_batch_larger_than_the_daily_limit_is_refused(app: Flask, signed_in: FlaskClient,
                                                        redis_conn: Redis) -> None:
    category, message = send(signed_in, 6)
    assert (category, message) == ("danger", "받는 사람 한도를 넘었습니다: 24시간 동안 5명까지 "
                                             "보낼 수 있습니다(이번 6명).")
    assert tasks(app) == [] and jobs_in_redis(redis_conn) == 0


def test_the_window_rolls(app: Flask, signed_in: FlaskClient, redis_conn: Redis) -> None:
    assert send(signed_in, 4)[0] == "success"
    assert send(signed_in, 4, prefix="s")[0] == "danger"
    with app.app_context():
        day_ago = datetime.now(ZoneInfo("UTC")) - WINDOW - timedelta(seconds=1)
        db.session.execute(db.update(Task).values(created_at=day_ago, charged_at=day_ago))
        db.session.commit()
    assert send(signed_in, 5, prefix="s")[0] == "success"
    assert len(tasks(app)) == 2 and jobs_in_redis(redis_conn) == 2


def test_sends_that_never_started_are_not_charged(app: Flask, app_config: dict[str, Any],
                                                  signed_in: FlaskClient,
                                                  redis_conn: Redis) -> None:
    # An enqueue that Redis refused: the app on a Redis that is not there.
    dead = create_app({**app_config, "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"})
    try:
        with dead.app_context(), pytest.raises(EnqueueError):
            TaskService("alice").enqueue_task(jobs.returns_value, 1, description="lost",
                                              recipient_count=5)
    finally:
        with dead.app_context():
            db.session.remove()
            db.engine.dispose()
        dead.extensions["rq"].connection.close()
    # A send canceled while it waited in the queue (no worker runs here).
    assert send(signed_in, 5)[0] == "success"
    canceled = tasks(app)[-1].id
    token = csrf_token(signed_in, "/send_mail")
    signed_in.post(f"/tasks/{canceled}/cancel", data={"csrf_token": token})
    rows = tasks(app)
    assert [(t.status, t.failed, t.started_at) for t in rows] == [
        ("finished", True, None), ("canceled", True, None)]

    assert send(signed_in, 5, prefix="s")[0] == "success"
    assert len(tasks(app)) == 3


def test_a_started_task_stays_charged(app: Flask, signed_in: FlaskClient) -> None:
    assert send(signed_in, 5)[0] == "success"
    with app.app_context():
        db.session.execute(db.update(Task).values(
            status="canceled", failed=True, started_at=datetime.now(ZoneInfo("UTC"))))
        db.session.commit()
    assert send(signed_in, 1, prefix="s")[0] == "danger"


def test_other_users_sends_do_not_count(app: Flask, auth: AuthActions,
                                        signed_in: FlaskClient, redis_conn: Redis) -> None:
    auth.create("bob")
    with app.app_context():
        TaskService("bob").enqueue_task(jobs.returns_value, 1, description="bob's",
                                        recipient_count=5)
    assert send(signed_in, 5)[0] == "success"
    assert jobs_in_redis(redis_conn) == 2


def test_open_reservations_are_limited(app: Flask, signed_in: FlaskClient,
                                       redis_conn: Redis) -> None:
    registry = "rq:scheduled:high"
    assert reserve(signed_in, hours=2)[0] == "success"
    assert reserve(signed_in, hours=1)[0] == "success"
    earliest = min(t.reserved_at for t in tasks(app))
    assert redis_conn.zcard(registry) == 2

    category, message = reserve(signed_in, hours=3)
    assert category == "danger"
    assert "예약은 한 번에 2개까지" in message and "(지금 2개)" in message
    assert f"가장 이른 예약이 전송되는 {seoul_text(earliest)}(" in message
    assert len(tasks(app)) == 2 and redis_conn.zcard(registry) == 2

    assert send(signed_in, 1, prefix="now")[0] == "success"  # sending now is not a reservation
    first = tasks(app)[0].id
    token = csrf_token(signed_in, "/send_mail")
    signed_in.post(f"/tasks/{first}/cancel_reserve", data={"csrf_token": token})
    assert reserve(signed_in, hours=3)[0] == "success"  # a canceled one frees its place
    assert redis_conn.zcard(registry) == 2


def test_defaults_apply_without_configuration(app: Flask) -> None:
    from app.tasks.quota import OPEN_RESERVATIONS, RECIPIENTS_PER_DAY, limit

    with app.app_context():
        app.config.pop("QUOTA_RECIPIENTS_PER_DAY")
        app.config.pop("QUOTA_OPEN_RESERVATIONS")
        assert (limit(RECIPIENTS_PER_DAY), limit(OPEN_RESERVATIONS)) == (2000, 50)


def test_frees_at() -> None:
    t0 = datetime(2026, 11, 23, 9, tzinfo=ZoneInfo("UTC"))
    rows = [(t0, 3), (t0 + timedelta(hours=1), 4), (t0 + timedelta(hours=2), 2)]
    assert frees_at(rows, 1, 10) == t0 + WINDOW  # 9 + 1 - 3 fits once the first leaves
    assert frees_at(rows, 5, 10) == t0 + timedelta(hours=1) + WINDOW
    assert frees_at(rows, 10, 10) == t0 + timedelta(hours=2) + WINDOW
    assert frees_at(rows, 11, 10) is None
