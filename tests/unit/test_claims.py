"""Claims (app/mail/pool.py): a connection takes at most its batch, in order, and never a
row another connection holds — on SQLite and PostgreSQL alike (an UPDATE over a LIMIT
subquery once took every pending recipient at once on PostgreSQL)."""

from __future__ import annotations

from flask import Flask

from app.extensions import db
from app.mail.claims import claim_batch
from app.models import Delivery, Task


def a_task(count: int) -> int:
    task = Task(name="send_mail", description="claims", username="alice", status="running")
    db.session.add(task)
    db.session.flush()
    db.session.execute(db.insert(Delivery), [
        {"task_id": task.id, "position": i, "recipient": f"r{i}@example.com",
         "status": "pending"} for i in range(count)])
    db.session.commit()
    return task.id


def test_a_claim_takes_one_batch_in_order(app: Flask) -> None:
    with app.app_context():
        task_id = a_task(50)
        first = claim_batch(task_id, 8, "mailroom@example.com")
        second = claim_batch(task_id, 8, "mailroom@example.com")
        assert [o.recipient for o in first] == [f"r{i}@example.com" for i in range(8)]
        assert [o.recipient for o in second] == [f"r{i}@example.com" for i in range(8, 16)]
        sending = db.session.scalar(db.select(db.func.count()).where(
            Delivery.task_id == task_id, Delivery.status == "sending"))
        assert sending == 16
        rest = [claim_batch(task_id, 10, "mailroom@example.com") for _ in range(5)]
        assert [len(batch) for batch in rest] == [10, 10, 10, 4, 0]


def test_a_claim_starts_at_its_floor_then_looks_behind_it(app: Flask) -> None:
    """A claim from a floor takes rows from there on; once none is pending there, it takes
    those behind it (a row another connection put back) before it says none is left."""
    with app.app_context():
        task = Task(name="send_mail", description="d", username="alice", status="running")
        db.session.add(task)
        db.session.commit()
        db.session.execute(db.insert(Delivery.__table__), [
            {"task_id": task.id, "position": i, "recipient": f"r{i}@example.com",
             "status": "pending", "created_at": task.created_at} for i in range(6)])
        db.session.commit()

        def claim(size: int, floor: int) -> list[int]:
            batch = claim_batch(task.id, size, "s@example.com", None, floor)
            return [item.position for item in batch]

        assert claim(2, 3) == [3, 4]
        assert claim(5, 4) == [5]
        assert claim(2, 5) == [0, 1]
        assert claim(5, 5) == [2]
        assert claim(5, 2) == []
