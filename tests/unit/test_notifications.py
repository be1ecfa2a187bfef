"""``GET /notifications?since=`` and the notification rows ``publish_task`` keeps."""

from __future__ import annotations

import math
import time
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from redis import Redis
from rq import SimpleWorker

from app.extensions import db
from app.models import Notification, Task
from app.models.types import utcnow
from app.queue import SERIALIZER, queues
from app.tasks import progress
from app.tasks.progress import KEEP_ENDED_SECONDS, publish_task
from app.tasks.service import TaskService
from tests import jobs
from tests.support.flows import AuthActions


def enqueue(app: Flask, username: str = "alice", *args: Any, func: Any = jobs.returns_value,
            description: str = "a test job") -> int:
    with app.app_context():
        task = TaskService(username).enqueue_task(func, *(args or (1,)),
                                                  description=description)
        return task.id


def run_worker(app: Flask) -> None:
    with app.app_context():
        queue_set = queues()
        SimpleWorker(queue_set.ordered(), connection=queue_set.connection,
                     serializer=SERIALIZER).work(burst=True)


def republish(app: Flask, task_id: int) -> None:
    with app.app_context():
        task = db.session.get(Task, task_id)
        assert task is not None
        publish_task(task)


def poll(client: FlaskClient, since: Any = None) -> list[dict[str, Any]]:
    """GET /notifications (with ``since`` when given): the JSON list."""
    query = {} if since is None else {"since": since}
    response = client.get("/notifications", query_string=query)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.is_json
    body = response.get_json()
    assert isinstance(body, list)
    return body


def by_name(items: list[dict[str, Any]], name: str) -> dict[str, Any]:
    found = [item for item in items if item["name"] == name]
    assert len(found) == 1, items
    return found[0]


def notification_rows(app: Flask, **filters: str) -> list[tuple[str, str, int]]:
    """(username, name, number of entries) of every Notification row matching ``filters``."""
    with app.app_context():
        rows = db.session.scalars(db.select(Notification).filter_by(**filters)
                                  .order_by(Notification.id))
        return [(row.username, row.name, len(row.entries)) for row in rows]


# -- the endpoint --------------------------------------------------------------------------

def test_nothing_yet_is_an_empty_list(signed_in: FlaskClient) -> None:
    assert poll(signed_in) == []
    assert poll(signed_in, 0) == []


def test_enqueued_task_is_served_as_progress_zero(app: Flask, redis_conn: Redis,
                                                  signed_in: FlaskClient) -> None:
    task_id = enqueue(app, description="welcome to bob@example.com")
    items = poll(signed_in)
    assert [item["name"] for item in items] == ["task_progress"]
    item = items[0]
    assert set(item) == {"name", "data", "timestamp"}
    assert isinstance(item["timestamp"], float) and math.isfinite(item["timestamp"])
    [entry] = item["data"]
    assert entry["task_id"] == task_id
    assert (entry["progress"], entry["status"], entry["failed"]) == (0, "queued", False)
    assert entry["description"] == "welcome to bob@example.com"
    assert entry["ended_at"] is None


def test_since_returns_only_what_changed(app: Flask, redis_conn: Redis,
                                         signed_in: FlaskClient) -> None:
    task_id = enqueue(app)
    first = by_name(poll(signed_in), "task_progress")["timestamp"]
    assert poll(signed_in, repr(first)) == []
    assert poll(signed_in, repr(first)) == []  # still nothing: polling changes nothing

    run_worker(app)  # running, then finished
    items = poll(signed_in, repr(first))
    item = by_name(items, "task_progress")
    assert item["timestamp"] > first
    [entry] = item["data"]
    assert (entry["task_id"], entry["status"], entry["progress"]) == (task_id, "finished", 100)
    assert poll(signed_in, repr(item["timestamp"])) == []


def test_timestamp_strictly_increases_on_every_change(app: Flask, redis_conn: Redis,
                                                      signed_in: FlaskClient) -> None:
    task_id = enqueue(app)
    stamps = [by_name(poll(signed_in), "task_progress")["timestamp"]]
    for _ in range(5):
        republish(app, task_id)
        items = poll(signed_in, repr(stamps[-1]))
        assert [item["name"] for item in items] == ["task_progress"]
        stamps.append(items[0]["timestamp"])
    assert all(later > earlier for earlier, later in zip(stamps, stamps[1:], strict=False))


def test_timestamp_increases_even_when_the_clock_does_not(
        app: Flask, redis_conn: Redis, signed_in: FlaskClient,
        monkeypatch: pytest.MonkeyPatch) -> None:
    task_id = enqueue(app)
    frozen = time.time()
    monkeypatch.setattr("app.models.notification.time", SimpleNamespace(time=lambda: frozen))
    stamps = []
    for _ in range(3):
        republish(app, task_id)
        stamps.append(by_name(poll(signed_in), "task_progress")["timestamp"])
    assert stamps[0] < stamps[1] < stamps[2]


@pytest.mark.parametrize("since", ["garbage", "nan", "NaN", "inf", "-inf", "", "1e999", "0x10"])
def test_bad_since_does_not_500(app: Flask, redis_conn: Redis, signed_in: FlaskClient,
                                since: str) -> None:
    task_id = enqueue(app)
    items = poll(signed_in, since)  # read as 0: everything
    assert [entry["task_id"] for entry in by_name(items, "task_progress")["data"]] == [task_id]


def test_since_in_the_future_returns_nothing(app: Flask, redis_conn: Redis,
                                             signed_in: FlaskClient) -> None:
    enqueue(app)
    assert poll(signed_in, repr(time.time() + 3600)) == []


# -- users ---------------------------------------------------------------------------------

def test_another_users_notifications_are_never_served(app: Flask, redis_conn: Redis,
                                                      auth: AuthActions,
                                                      signed_in: FlaskClient) -> None:
    auth.create("bob")
    bobs = enqueue(app, "bob", description="bob's secret")
    assert poll(signed_in) == []
    assert poll(signed_in, 0) == []

    alices = enqueue(app, "alice")
    run_worker(app)  # both tasks change again
    items = poll(signed_in)
    assert [item["name"] for item in items] == ["task_progress"]
    assert [entry["task_id"] for entry in items[0]["data"]] == [alices]
    assert "bob's secret" not in str(items)
    assert notification_rows(app, username="bob") == [("bob", "task_progress", 1)]

    # bob, signed in, sees his own and only his own
    auth.logout()
    assert auth.login("bob").status_code == 302
    items = poll(signed_in)
    assert [entry["task_id"] for entry in by_name(items, "task_progress")["data"]] == [bobs]


def test_one_row_per_user_and_name(app: Flask, redis_conn: Redis,
                                   signed_in: FlaskClient) -> None:
    task_ids = [enqueue(app) for _ in range(4)]
    assert notification_rows(app) == [("alice", "task_progress", 4)]
    run_worker(app)
    assert notification_rows(app) == [("alice", "task_progress", 4)]
    [item] = poll(signed_in)
    assert sorted(entry["task_id"] for entry in item["data"]) == task_ids
    assert {entry["status"] for entry in item["data"]} == {"finished"}


# -- pruning -------------------------------------------------------------------------------

def test_ended_entries_are_pruned_after_keep_seconds(app: Flask, redis_conn: Redis,
                                                     signed_in: FlaskClient,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    ended = enqueue(app)
    run_worker(app)
    waiting = enqueue(app)  # queued: never pruned
    entries = by_name(poll(signed_in), "task_progress")["data"]
    assert [e["task_id"] for e in entries] == [ended, waiting]  # just ended: still shown
    assert entries[0]["status"] == "finished" and entries[0]["ended_at"] is not None

    later = entries[0]["ended_at"] + KEEP_ENDED_SECONDS + 1
    monkeypatch.setattr(progress, "time", SimpleNamespace(time=lambda: later))
    newest = enqueue(app)
    entries = by_name(poll(signed_in), "task_progress")["data"]
    assert [e["task_id"] for e in entries] == [waiting, newest]
    assert notification_rows(app) == [("alice", "task_progress", 2)]


def test_ended_entry_within_keep_seconds_stays(app: Flask, redis_conn: Redis,
                                               signed_in: FlaskClient,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    ended = enqueue(app)
    run_worker(app)
    ended_at = by_name(poll(signed_in), "task_progress")["data"][0]["ended_at"]
    monkeypatch.setattr(progress, "time",
                        SimpleNamespace(time=lambda: ended_at + KEEP_ENDED_SECONDS - 1))
    newest = enqueue(app)
    entries = by_name(poll(signed_in), "task_progress")["data"]
    assert [e["task_id"] for e in entries] == [ended, newest]


def test_long_ended_task_is_pruned_by_the_next_publish(app: Flask, redis_conn: Redis,
                                                       signed_in: FlaskClient) -> None:
    old = enqueue(app)
    run_worker(app)
    with app.app_context():
        task = db.session.get(Task, old)
        assert task is not None
        task.finished_at = utcnow() - timedelta(seconds=KEEP_ENDED_SECONDS + 60)
        db.session.commit()
    newest = enqueue(app)
    entries = by_name(poll(signed_in), "task_progress")["data"]
    assert old in [e["task_id"] for e in entries]  # its stored entry is still the fresh one
    republish(app, old)
    entries = by_name(poll(signed_in), "task_progress")["data"]
    assert [e["task_id"] for e in entries] == [newest]


# -- reservations --------------------------------------------------------------------------

def reserve(app: Flask, minutes: int = 5, username: str = "alice") -> int:
    """A reserved Task written directly, then published."""
    with app.app_context():
        task = Task(name="send_mail", description="reserved mail", username=username,
                    status="reserved", reserved_at=utcnow() + timedelta(minutes=minutes))
        db.session.add(task)
        db.session.commit()
        publish_task(task)
        return task.id


def test_reservation_is_served_with_remaining_time(app: Flask, signed_in: FlaskClient) -> None:
    task_id = reserve(app)
    items = poll(signed_in)
    assert [item["name"] for item in items] == ["task_reserve"]  # not a progress entry
    [entry] = items[0]["data"]
    assert entry["task_id"] == task_id
    assert entry["description"] == "reserved mail"
    assert type(entry["remaining_seconds"]) is int
    assert 299 <= entry["remaining_seconds"] <= 300
    assert entry["remaining_text"].endswith("남음")
    assert entry["remaining_text"].startswith(("4분", "5분"))
    reserved_at = datetime.fromisoformat(entry["reserved_at"])
    assert reserved_at.utcoffset() is not None
    with app.app_context():
        task = db.session.get(Task, task_id)
        assert task is not None and task.reserved_at == reserved_at


def test_due_reservation_is_served_as_zero(app: Flask, signed_in: FlaskClient) -> None:
    reserve(app, minutes=-1)
    [entry] = by_name(poll(signed_in), "task_reserve")["data"]
    assert entry["remaining_seconds"] == 0
    assert not entry["remaining_text"].endswith("남음")


def test_reservation_moves_to_progress_when_it_is_queued(app: Flask,
                                                         signed_in: FlaskClient) -> None:
    task_id = reserve(app)
    stamp = by_name(poll(signed_in), "task_reserve")["timestamp"]
    with app.app_context():
        assert Task.transition(task_id, ("reserved",), status="queued")
    republish(app, task_id)
    items = poll(signed_in, repr(stamp))
    assert by_name(items, "task_reserve")["data"] == []
    [entry] = by_name(items, "task_progress")["data"]
    assert (entry["task_id"], entry["status"]) == (task_id, "queued")
    assert sorted(notification_rows(app)) == [("alice", "task_progress", 1),
                                              ("alice", "task_reserve", 0)]
