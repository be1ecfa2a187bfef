"""The ledger of messages on the wire (app/tasks/inflight.py), on fakeredis: after a run
ended abnormally, only a message whose data went without an answer is in doubt."""

from __future__ import annotations

import fakeredis
import pytest
from flask import Flask

from app.extensions import db
from app.models import Delivery, Task
from app.tasks.inflight import Ledger, ledger_key, settle_claims


@pytest.fixture
def claimed(app: Flask) -> int:
    """A task with five recipients claimed by a run that then died."""
    with app.app_context():
        task = Task(name="send_mail", description="t", username="alice", status="running",
                    recipient_count=5)
        db.session.add(task)
        db.session.flush()
        db.session.add_all(Delivery(task_id=task.id, position=i, recipient=f"r{i}@example.com",
                                    status="sending" if i < 4 else "delivered")
                           for i in range(5))
        db.session.commit()
        return task.id


def outcomes(app: Flask, task_id: int) -> list[tuple[str, str | None, str | None]]:
    with app.app_context():
        return [(d.status, d.error, d.message_id) for d in db.session.scalars(
            db.select(Delivery).where(Delivery.task_id == task_id).order_by(Delivery.position))]


def ids(app: Flask, task_id: int) -> list[int]:
    with app.app_context():
        return list(db.session.scalars(db.select(Delivery.id).where(
            Delivery.task_id == task_id).order_by(Delivery.position)))


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_only_a_message_begun_without_an_answer_is_in_doubt(app: Flask, claimed: int) -> None:
    redis = fakeredis.FakeRedis()
    first, second, third, *_ = ids(app, claimed)
    ledger = Ledger(redis, claimed)
    ledger.open(1)
    ledger.answered(second, "delivered <m2@example.com>")
    ledger.answered(third, "refused SMTP 550 no such user")
    ledger.begin(first)  # its data went (the answers heard so far with it); no answer yet
    with app.app_context():
        assert settle_claims(redis, claimed) == 4
    [a, b, c, d, e] = outcomes(app, claimed)
    assert a[0] == "unknown"
    assert b == ("delivered", None, "<m2@example.com>")
    assert c == ("refused", "SMTP 550 no such user", None)
    assert d == ("pending", None, None) and e[0] == "delivered"
    assert not redis.exists(ledger_key(claimed))


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_ledger_redis_lost_proves_nothing(app: Flask, claimed: int) -> None:
    redis = fakeredis.FakeRedis()
    redis.hset(ledger_key(claimed), str(ids(app, claimed)[0]), "data")  # no "run": partial
    with app.app_context():
        settle_claims(redis, claimed)
    assert [status for status, _, _ in outcomes(app, claimed)] == ["unknown"] * 4 + [
        "delivered"]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_entries_leave_once_their_outcome_is_written(app: Flask, claimed: int) -> None:
    redis = fakeredis.FakeRedis()
    first, second, *_ = ids(app, claimed)
    ledger = Ledger(redis, claimed)
    ledger.open(1)
    ledger.begin(first)
    ledger.answered(first, "delivered <m1@example.com>")
    ledger.begin(second)
    ledger.written([first, second])
    assert redis.hkeys(ledger_key(claimed)) == [b"run"]
