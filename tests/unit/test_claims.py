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
