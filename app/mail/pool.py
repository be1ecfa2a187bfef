"""Parallel delivery inside a task: up to ``MAIL_CONCURRENCY`` SMTP connections, each in a
thread of its own that claims a batch of recipients (one UPDATE; as many as it sends in
half a second, at most ``MAIL_BATCH_SIZE``, so a slow relay claims few), sends them over
its connection (kept for many messages, opened again after a 421 or a drop) and
settles them (one statement). A crash leaves at most each connection's batch in flight
claimed — ``unknown``, never resent automatically — and every other recipient delivered,
refused or still pending. Each connection looks at the stop signal and waits for the
shared send rate before every message."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.message import Message

from flask import Flask
from sqlalchemy import bindparam

from app.extensions import db
from app.mail.rate import SendRate
from app.mail.sender import OutcomeUnknown, RecipientRefused, SmtpBatch, message_id
from app.models import Delivery
from app.models.task import DELIVERED, PENDING, REFUSED, SENDING, UNKNOWN
from app.models.types import utcnow
from app.tasks.decorators import TransientError

log = logging.getLogger(__name__)
SETTLE_SECONDS = 0.5
MAX_CONNECTION_LOSSES = 3


@dataclass
class Outgoing:
    """One claimed recipient."""

    delivery_id: int
    recipient: str
    message_id: str
    fields: dict[str, str] | None = None  # the recipient's own template variables


# Makes a claimed batch's messages: each one, or the reason it cannot be made.
Compose = Callable[[list[Outgoing]], list[Message | str]]


@dataclass
class Outcome:
    """What became of one claimed recipient: its new status, and why."""

    item: Outgoing
    status: str
    error: str | None = None
    transient: bool = False  # not sent, and the server or the link said: later


def claim_batch(task_id: int, size: int, sender: str,
                settled: list[Outcome] | None = None) -> list[Outgoing]:
    """Write ``settled`` (the last batch's outcomes) and claim up to ``size`` pending
    recipients of the task, in order, in one transaction; commit. Empty only when none is
    pending: rows another connection took first are looked for again."""
    while True:
        _write_outcomes(settled or [])
        settled = None
        # One statement. The chosen rows are a MATERIALIZED CTE, evaluated once: PostgreSQL
        # may evaluate an ``IN (SELECT … LIMIT n)`` again for each row, and then claims
        # every pending recipient at once. Rows another connection is claiming right now
        # are skipped, not waited for (SQLite has one writer at a time anyway).
        chosen = (db.select(Delivery.id)
                  .where(Delivery.task_id == task_id, Delivery.status == PENDING)
                  .order_by(Delivery.position, Delivery.id).limit(size)
                  .with_for_update(skip_locked=True)
                  .cte("chosen").prefix_with("MATERIALIZED"))
        claimed = db.session.execute(
            db.update(Delivery)
            .where(Delivery.id.in_(db.select(chosen.c.id)), Delivery.status == PENDING)
            .values(status=SENDING, updated_at=utcnow())
            .returning(Delivery.id, Delivery.recipient, Delivery.position, Delivery.fields)
            .execution_options(synchronize_session=False)).all()
        if claimed or not _any_pending(task_id):
            db.session.commit()
            break
        db.session.commit()  # let go of the snapshot before looking again
    return [Outgoing(row.id, row.recipient, message_id(task_id, row.recipient, sender),
                     row.fields) for row in sorted(claimed, key=lambda r: r.position)]


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
                message_id=bindparam("b_message_id"), updated_at=utcnow()),
        [{"b_id": o.item.delivery_id, "b_status": o.status, "b_error": o.error,
          "b_message_id": o.item.message_id if o.status in (DELIVERED, UNKNOWN) else None}
         for o in outcomes])


def settle(outcomes: list[Outcome]) -> None:
    """Write each claimed recipient's outcome; commit."""
    if outcomes:
        _write_outcomes(outcomes)
        db.session.commit()


class Connection:
    """One SMTP connection's thread: claim, send, settle, until nothing is pending, a stop,
    or a transient failure (then RQ's retry takes it from there)."""

    def __init__(self, app: Flask, task_id: int, compose: Compose,
                 stop: threading.Event, rate: SendRate) -> None:
        self.app, self.task_id, self.compose = app, task_id, compose
        self.stop, self.rate = stop, rate
        self.sender = app.config["MAIL_DEFAULT_SENDER"]
        self.smtp = SmtpBatch(app.config)
        self.transient: str | None = None
        self.losses = 0  # connections lost in a row once DATA had begun

    def run(self) -> None:
        """The thread's body, inside its own app context (its own DB session)."""
        most = max(1, int(self.app.config["MAIL_BATCH_SIZE"]))
        size = 1  # grows to what this connection sends in SETTLE_SECONDS, up to ``most``
        with self.app.app_context():
            try:
                done: list[Outcome] = []
                while not self.stop.is_set() and self.transient is None:
                    # The last batch's outcomes go in with the next claim: one commit.
                    batch = claim_batch(self.task_id, size, self.sender, done)
                    done = []
                    if not batch:
                        return
                    started = time.monotonic()
                    done = self.send_batch(batch)
                    each = (time.monotonic() - started) / len(batch)
                    size = max(1, min(most, int(SETTLE_SECONDS / max(each, 1e-4))))
                settle(done)
            except Exception:
                log.exception("task %s: a connection's thread failed", self.task_id)
                self.transient = self.transient or "전송 스레드 오류"
            finally:
                self.smtp.__exit__(None, None, None)
                db.session.remove()

    def send_batch(self, batch: list[Outgoing]) -> list[Outcome]:
        """Send a claimed batch, settling what is done at least every ``SETTLE_SECONDS`` (a
        slow relay must not leave many sent messages unsettled); the outcomes not yet
        written, for the caller to write with its next claim."""
        done: list[Outcome] = []
        last = time.monotonic()
        for item, message in zip(batch, self.messages(batch), strict=True):
            done.append(self.send_one(item, message))
            if time.monotonic() - last >= SETTLE_SECONDS:
                settle(done)
                done, last = [], time.monotonic()
        return done

    def messages(self, batch: list[Outgoing]) -> list[Message | str | None]:
        """The batch's messages (a reason where one cannot be made); None for each when the
        send stopped, or the render processes could not be reached (a transient failure)."""
        if self.stop.is_set():
            return [None] * len(batch)
        try:
            return list(self.compose(batch))
        except Exception as exc:  # no render process: try again later, mail nobody now
            log.exception("task %s: messages could not be made", self.task_id)
            self.transient = f"메일을 만들 수 없습니다: {exc}"[:300]
            return [None] * len(batch)

    def send_one(self, item: Outgoing, message: Message | str | None) -> Outcome:
        """One message; after a stop or a transient failure the rest go back to pending."""
        if self.transient is not None or self.stop.is_set() or message is None:
            return Outcome(item, PENDING)
        if isinstance(message, str):  # this recipient's mail cannot be made: the rest go on
            log.warning("no message for %s: %s", item.recipient, message)
            return Outcome(item, REFUSED, f"메시지를 만들 수 없습니다: {message}"[:300])
        try:
            if self.smtp.connection is None:
                self.smtp.connect()
            # The turn is taken last, so what the rate counts is when messages really go.
            if not self.rate.wait_turn(self.stop):
                return Outcome(item, PENDING)
            self.smtp.send(message, self.sender, item.recipient)
        except RecipientRefused as exc:
            return Outcome(item, REFUSED, str(exc)[:300])
        except OutcomeUnknown as exc:
            self.losses += 1
            if self.losses >= MAX_CONNECTION_LOSSES:  # a broken link: leave it to RQ's retry
                self.transient = f"SMTP 연결이 {self.losses}번 연달아 끊겼습니다."
            return Outcome(item, UNKNOWN, str(exc)[:300])  # reconnects for the next one
        except TransientError as exc:
            self.smtp.close()
            self.transient = str(exc)[:300]
            return Outcome(item, PENDING, self.transient, transient=True)
        self.losses = 0
        return Outcome(item, DELIVERED)


def run_connections(app: Flask, task_id: int, pending: int,
                    compose: Compose, stop: threading.Event,
                    rate: SendRate, on_tick: Callable[[], None],
                    tick: float = 0.25) -> list[str]:
    """Send the task's ``pending`` recipients over up to ``MAIL_CONCURRENCY`` connections
    (no more than there are batches), calling ``on_tick`` every ``tick`` seconds meanwhile;
    the transient failures met."""
    batch = max(1, int(app.config["MAIL_BATCH_SIZE"]))
    wanted = max(1, min(int(app.config["MAIL_CONCURRENCY"]), -(-pending // batch)))
    connections = [Connection(app, task_id, compose, stop, rate) for _ in range(wanted)]
    threads = [threading.Thread(target=c.run, name=f"smtp-{i}", daemon=True)
               for i, c in enumerate(connections)]
    for thread in threads:
        thread.start()
    while alive := [thread for thread in threads if thread.is_alive()]:
        alive[0].join(tick)
        on_tick()
    return [c.transient for c in connections if c.transient]
