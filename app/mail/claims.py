"""A send's recipients as rows: claimed in batches (``pending`` → ``sending``, one
statement) before their messages go, and their outcomes written after (one statement),
with the next claim when there is one: a commit per batch."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from email.message import Message
from typing import Any

from sqlalchemy import bindparam

from app.extensions import db
from app.mail.sender import message_id
from app.models import Delivery
from app.models.task import DELIVERED, PENDING, SENDING, UNKNOWN
from app.models.types import utcnow


@dataclass
class Outgoing:
    """One claimed recipient."""

    delivery_id: int
    recipient: str
    message_id: str
    fields: dict[str, str] | None = None  # the recipient's own template variables
    position: int = 0  # its place in the task's order


# Makes a claimed batch's messages: each one, or the reason it cannot be made.
Compose = Callable[[list[Outgoing]], list[Message | str]]


@dataclass
class Outcome:
    """What became of one claimed recipient: its new status, and why."""

    item: Outgoing
    status: str
    error: str | None = None
    transient: bool = False  # not sent, and the server or the link said: later
    kind: str | None = None  # NOT_BUILT: the message could not be made (not the server)


def claim_batch(task_id: int, size: int, sender: str,
                settled: list[Outcome] | None = None, floor: int = 0) -> list[Outgoing]:
    """Write ``settled`` (the last batch's outcomes) and claim up to ``size`` pending
    recipients of the task, in order, in one transaction; commit. Empty only when none is
    pending: rows another connection took first are looked for again.

    The claim looks from ``floor`` on first (where the connection's last claim began), then,
    when nothing is pending there, over the whole task: a row put back to pending behind the
    floor (another connection met a 4xx) is sent before the run ends. On PostgreSQL the
    index of pending rows keeps an entry for every row claimed before, dead until vacuum:
    walked from the start at every claim, a send's claims cost O(n²)."""
    while True:
        _write_outcomes(settled or [])
        settled = None
        claimed = _claim(task_id, size, floor) or (_claim(task_id, size, 0) if floor else [])
        if claimed or not _any_pending(task_id):
            db.session.commit()
            break
        db.session.commit()  # let go of the snapshot before looking again
    return [Outgoing(row.id, row.recipient, message_id(task_id, row.recipient, sender),
                     row.fields, row.position)
            for row in sorted(claimed, key=lambda r: r.position)]


def _claim(task_id: int, size: int, floor: int) -> list[Any]:
    """Mark up to ``size`` pending rows from position ``floor`` on as sending; the rows."""
    # One statement. The chosen rows are a MATERIALIZED CTE, evaluated once: PostgreSQL may
    # evaluate an ``IN (SELECT … LIMIT n)`` again for each row, and then claims every
    # pending recipient at once. Rows another connection is claiming right now are skipped,
    # not waited for (SQLite has one writer at a time anyway).
    chosen = (db.select(Delivery.id)
              .where(Delivery.task_id == task_id, Delivery.status == PENDING,
                     Delivery.position >= floor)
              .order_by(Delivery.position, Delivery.id).limit(size)
              .with_for_update(skip_locked=True)
              .cte("chosen").prefix_with("MATERIALIZED"))
    return list(db.session.execute(
        db.update(Delivery)
        .where(Delivery.id.in_(db.select(chosen.c.id)), Delivery.status == PENDING)
        .values(status=SENDING, updated_at=utcnow())
        .returning(Delivery.id, Delivery.recipient, Delivery.position, Delivery.fields)
        .execution_options(synchronize_session=False)).all())


def _any_pending(task_id: int) -> bool:
    return db.session.scalar(db.select(Delivery.id).where(
        Delivery.task_id == task_id, Delivery.status == PENDING).limit(1)) is not None


def _write_outcomes(outcomes: list[Outcome]) -> None:
    """Each claimed recipient's outcome, in one executemany (not committed)."""
    if not outcomes:
        return
    db.session.execute(
        db.update(Delivery.__table__)
        .where(Delivery.id == bindparam("b_id"), Delivery.status == SENDING)
        .values(status=bindparam("b_status"), error=bindparam("b_error"),
                message_id=bindparam("b_message_id"), reason_kind=bindparam("b_kind"),
                updated_at=utcnow()),
        [{"b_id": o.item.delivery_id, "b_status": o.status, "b_error": o.error,
          "b_kind": o.kind,
          "b_message_id": o.item.message_id if o.status in (DELIVERED, UNKNOWN) else None}
         for o in outcomes])


def write_outcomes(outcomes: list[Outcome]) -> None:
    """Write each claimed recipient's outcome; commit."""
    if outcomes:
        _write_outcomes(outcomes)
        db.session.commit()
