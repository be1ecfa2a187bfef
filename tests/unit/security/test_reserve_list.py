"""Issue 9, point 13: the notification lists drop only ended entries. Live reservations
(and live sends) are never cut, however many there are: the page removes the alert and the
cancel control of a task missing from the list."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from redis import Redis

from app.models.types import utcnow
from app.tasks.progress import KEEP_ENDED_SECONDS, MAX_ENDED_ENTRIES, _pruned
from app.tasks.service import TaskService
from tests import jobs
from tests.support.flows import csrf_token

MANY = 250  # past the old cut at 200


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    app_config.update(QUOTA_OPEN_RESERVATIONS=1000, QUOTA_RECIPIENTS_PER_DAY=10_000)
    return app_config


def reserve_many(app: Flask, count: int) -> list[int]:
    """``count`` reservations made through TaskService, an hour ahead and a second apart."""
    start = utcnow().replace(microsecond=0) + timedelta(hours=1)
    with app.app_context():
        service = TaskService("alice")
        return [service.reserve_task(start + timedelta(seconds=n), jobs.returns_value, n,
                                     description=f"reservation {n}", recipient_count=1).id
                for n in range(count)]


def served(client: FlaskClient, name: str) -> list[dict[str, Any]]:
    response = client.get("/notifications", query_string={"since": 0})
    assert response.status_code == 200
    lists = [item["data"] for item in response.get_json() if item["name"] == name]
    assert len(lists) == 1
    return lists[0]


def test_every_live_reservation_is_listed_with_its_controls(
        app: Flask, signed_in: FlaskClient, redis_conn: Redis) -> None:
    task_ids = reserve_many(app, MANY)
    assert redis_conn.zcard("rq:scheduled:high") == MANY

    entries = served(signed_in, "task_reserve")
    assert [entry["task_id"] for entry in entries] == task_ids
    assert all(entry["remaining_seconds"] > 0 for entry in entries)

    page = signed_in.get("/send_mail").get_data(as_text=True)
    for task_id in task_ids:
        for control in ("reserve-cancel", "send-now", "remain", "reschedule"):
            assert f'id="{task_id}-{control}"' in page, (task_id, control)
    assert len(re.findall(r'id="\d+-reserve-alert"', page)) == MANY

    # Canceling one takes out that one and no other.
    token = csrf_token(signed_in, "/send_mail")
    signed_in.post(f"/tasks/{task_ids[0]}/cancel_reserve", data={"csrf_token": token})
    assert [entry["task_id"] for entry in served(signed_in, "task_reserve")] == task_ids[1:]


def test_every_waiting_send_stays_in_the_progress_list(app: Flask, signed_in: FlaskClient,
                                                       redis_conn: Redis) -> None:
    with app.app_context():
        service = TaskService("alice")
        task_ids = [service.enqueue_task(jobs.returns_value, n, description=f"send {n}",
                                         recipient_count=1).id for n in range(MANY)]
    entries = served(signed_in, "task_progress")
    assert [entry["task_id"] for entry in entries] == task_ids
    page = signed_in.get("/send_mail").get_data(as_text=True)
    assert all(f'id="{task_id}-progress-cancel"' in page for task_id in task_ids)


def entry(task_id: int, ended_at: float | None) -> dict[str, Any]:
    return {"task_id": task_id, "status": "finished" if ended_at else "queued",
            "ended_at": ended_at}


def test_pruning_bounds_ended_entries_and_keeps_every_live_one() -> None:
    now = 1_000_000.0
    live = [entry(n, None) for n in range(MANY)]
    recent = [entry(1000 + n, now - 1) for n in range(MAX_ENDED_ENTRIES + 50)]
    stale = [entry(5000 + n, now - KEEP_ENDED_SECONDS - 1) for n in range(10)]
    mixed = [e for group in zip(live, recent, strict=False) for e in group] + stale
    kept = _pruned(mixed, now)
    assert [e for e in kept if e["ended_at"] is None] == live  # all, in order
    assert [e["task_id"] for e in kept if e["ended_at"] is not None] == [
        e["task_id"] for e in recent[-MAX_ENDED_ENTRIES:]]  # the newest ended ones


def test_reserve_entries_carry_no_end_and_are_never_pruned() -> None:
    reservations = [{"task_id": n, "reserved_at": "2026-11-24T00:00:00+00:00",
                     "description": "r"} for n in range(MANY * 4)]
    assert _pruned(reservations, 1_000_000.0) == reservations
