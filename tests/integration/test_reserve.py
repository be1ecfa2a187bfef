"""Reservations against a real worker whose own zone (Los Angeles) is not the user's (Seoul)."""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from redis import Redis
from rq.registry import ScheduledJobRegistry

from app.queue import queues
from tests.support import wait_until
from tests.support.flows import (
    control,
    ended,
    flashes,
    post_send,
    task,
    tasks,
    wait_for_task,
)

SEOUL = ZoneInfo("Asia/Seoul")
# Timing of the scheduler, not of the database: these slow ones run on SQLite only (a
# reservation on PostgreSQL fires in test_templates.py and test_unsubscribe_flow.py).
SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
WORKER_ENV = {"TZ": "America/Los_Angeles"}
# How late a reserved mail may arrive and still be "on time": RQ's scheduler ticks once a
# second, then the job is picked, rendered and sent — under CI's three test processes on two
# cores that took up to 1.54 s. A mail at the old time of a changed reservation is 7 s off.
ON_TIME = 3.0


@pytest.fixture
def app_config(app_config: dict[str, Any], smtp_sink: Any) -> dict[str, Any]:
    app_config.update(RESERVATION_MIN_LEAD_SECONDS=5)
    return app_config


def ahead(seconds: int) -> datetime:
    """A whole-second UTC time ``seconds`` from now."""
    return datetime.fromtimestamp(math.ceil(time.time()) + seconds, UTC)


def seoul_wall(moment: datetime) -> str:
    """``moment`` as a Seoul browser's datetime-local field gives it."""
    return moment.astimezone(SEOUL).strftime("%Y-%m-%dT%H:%M:%S")


def reserve(client: FlaskClient, moment: datetime, recipients: str = "r@example.com") -> Any:
    return post_send(client, recipients, is_scheduled="y", scheduled_time=seoul_wall(moment))


def scheduled_ids(app: Flask) -> list[str]:
    with app.app_context():
        return ScheduledJobRegistry("high", connection=queues().connection).get_job_ids()


def first_arrival(sink: Any, timeout: float = 30) -> float:
    return wait_until(lambda: sink.handler.messages and sink.handler.messages[0].at, timeout,
                      "the reserved mail")


@SQLITE_ONLY
def test_reservation_fires_on_time_across_zones(app: Flask, signed_in: FlaskClient,
                                                smtp_sink: Any, start_worker: Any) -> None:
    start_worker(WORKER_ENV)
    target = ahead(10)
    response = reserve(signed_in, target)
    assert response.status_code == 302
    [(category, message)] = flashes(signed_in)
    local = target.astimezone(SEOUL).strftime("%Y년%m월%d일 %H시 %M분 %S초")
    assert category == "success"
    assert message == f"[r@example.com]에게 [welcome] 템플릿 메일 전송을 예약({local})하였습니다."
    [row] = tasks(app)
    assert row.status == "reserved" and row.reserved_at == target
    assert scheduled_ids(app) == [str(row.id)]
    page = signed_in.get("/send_mail").get_data(as_text=True)
    assert f'id="{row.id}-remain"' in page and f"[예약] send_mail : {local}" in page

    arrived = first_arrival(smtp_sink)
    assert target.timestamp() <= arrived <= target.timestamp() + ON_TIME
    done = wait_for_task(app, row.id, ended)
    assert (done.status, done.delivered_count) == ("finished", 1)


@SQLITE_ONLY
def test_canceled_reservation_never_delivers(app: Flask, signed_in: FlaskClient,
                                             smtp_sink: Any, start_worker: Any) -> None:
    start_worker(WORKER_ENV)
    target = ahead(6)
    reserve(signed_in, target)
    [row] = tasks(app)
    control(signed_in, row.id, "cancel_reserve")
    assert flashes(signed_in) == [("success", f"예약 Task#{row.id} send_mail가 취소되었습니다.")]
    assert task(app, row.id).status == "canceled"
    assert scheduled_ids(app) == []
    wait_until(lambda: time.time() > target.timestamp() + 2.5, 20, "the old time to pass")
    assert smtp_sink.handler.count() == 0
    assert task(app, row.id).status == "canceled"
    assert control(signed_in, row.id, "cancel_reserve").status_code == 302
    assert flashes(signed_in)[0][0] == "danger"  # a second cancel is refused


@SQLITE_ONLY
def test_changed_time_delivers_at_new_time(app: Flask, signed_in: FlaskClient,
                                           smtp_sink: Any, start_worker: Any) -> None:
    start_worker(WORKER_ENV)
    old, new = ahead(7), ahead(14)
    reserve(signed_in, old)
    [row] = tasks(app)
    control(signed_in, row.id, "reschedule", scheduled_time=seoul_wall(new),
            timezone="Asia/Seoul")
    [(category, message)] = flashes(signed_in)
    assert category == "success" and "전송 시각을" in message
    assert task(app, row.id).reserved_at == new
    arrived = first_arrival(smtp_sink)
    assert new.timestamp() <= arrived <= new.timestamp() + ON_TIME


def test_send_now_delivers_at_once(app: Flask, signed_in: FlaskClient, smtp_sink: Any,
                                   start_worker: Any) -> None:
    start_worker(WORKER_ENV)
    reserve(signed_in, ahead(600))
    [row] = tasks(app)
    asked = time.time()
    control(signed_in, row.id, "send_now")
    assert flashes(signed_in) == [("success", f"예약 Task#{row.id} send_mail를 지금 보냅니다.")]
    assert scheduled_ids(app) == []
    arrived = first_arrival(smtp_sink)
    assert arrived - asked <= ON_TIME
    assert wait_for_task(app, row.id, ended).status == "finished"


def test_reserve_controls_refuse_when_not_reserved(app: Flask, signed_in: FlaskClient) -> None:
    post_send(signed_in, "a@example.com")
    [row] = tasks(app)
    flashes(signed_in)
    control(signed_in, row.id, "send_now")
    assert flashes(signed_in)[0][0] == "danger"
    control(signed_in, row.id, "reschedule", scheduled_time=seoul_wall(ahead(120)),
            timezone="Asia/Seoul")
    assert flashes(signed_in)[0][0] == "danger"
    assert task(app, row.id).status == "queued"


def test_retry_parked_in_registry_is_not_a_reservation(app: Flask, signed_in: FlaskClient,
                                                       smtp_sink: Any, start_worker: Any,
                                                       redis_conn: Redis) -> None:
    app.config["TASK_RETRY_INTERVALS"] = "600"
    smtp_sink.handler.defer_first = 1
    start_worker()
    post_send(signed_in, "a@example.com")
    [row] = tasks(app)
    wait_for_task(app, row.id, lambda t: t.attempts == 1 and t.status == "queued")
    with app.app_context():
        registry = ScheduledJobRegistry("default", connection=queues().connection)
        # The Task turns queued just before RQ parks the retry: wait for the parking.
        wait_until(lambda: registry.get_job_ids() == [str(row.id)], 10, "the parked retry")
    page = signed_in.get("/send_mail").get_data(as_text=True)
    assert f'id="{row.id}-reserve-alert"' not in page
    reserve_entries = [n["data"] for n in signed_in.get("/notifications").get_json()
                       if n["name"] == "task_reserve"]
    assert all(e["task_id"] != row.id for data in reserve_entries for e in data)


@pytest.mark.parametrize("scheduled_time,timezone,message", [
    ("garbage", "Asia/Seoul", "시간 형식이 올바르지 않습니다."),
    ("", "Asia/Seoul", "시간 형식이 올바르지 않습니다."),
    ("2020-01-01T09:00", "Asia/Seoul", "현재보다 60초 이내의 예약은 불가능합니다."),
    ("+30s", "Asia/Seoul", "현재보다 60초 이내의 예약은 불가능합니다."),
    ("+31d", "Asia/Seoul", "현재보다 30일 이후로는 예약할 수 없습니다."),
    ("2027-03-14T02:30", "America/New_York", "America/New_York에는 없는 시각입니다"),
    ("2027-11-07T01:30", "America/New_York", "America/New_York에서 두 번 있는 시각입니다"),
])
def test_bad_reservations_change_nothing(app_config: dict[str, Any], app: Flask,
                                         signed_in: FlaskClient, redis_conn: Redis,
                                         scheduled_time: str, timezone: str,
                                         message: str) -> None:
    app.config["RESERVATION_MIN_LEAD_SECONDS"] = 60
    if scheduled_time.startswith("+"):
        unit = {"s": "seconds", "d": "days"}[scheduled_time[-1]]
        moment = ahead(0) + timedelta(**{unit: int(scheduled_time[1:-1])})
        scheduled_time = seoul_wall(moment)
    response = post_send(signed_in, "a@example.com", is_scheduled="y",
                         scheduled_time=scheduled_time, timezone=timezone)
    assert response.status_code == 302
    [(category, text)] = flashes(signed_in)
    assert category == "danger" and message in text
    assert tasks(app) == []
    assert redis_conn.keys("rq:*job*") == []
