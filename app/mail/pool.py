"""Parallel delivery inside a task: up to ``MAIL_CONCURRENCY`` SMTP connections, each in a
thread of its own. A connection opens first, then claims a batch of recipients (as many as
it sends in ``SETTLE_SECONDS``, at most ``MAIL_BATCH_SIZE``, so a slow relay claims few),
sends them over its connection (kept for many messages, opened again after a 421 or a
drop) and writes their outcomes at least every ``SETTLE_SECONDS``.

Just before a message's data goes, the connection takes its turn of the shared send rate
and enters the message in the task's ledger (``app/tasks/inflight.py``); the relay's answer
follows. A crash therefore leaves in doubt only a message whose data went without an answer
heard — at most one per connection — and every other claim goes back to pending or gets
its answer. A stop (cancel, pause, shutdown) is looked at before every message; a relay
that does not answer within ``CANCEL_DRAIN_SECONDS`` of it is cut."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from email.message import Message

from flask import Flask
from flask_babel import gettext as _
from redis.exceptions import RedisError

from app.extensions import db
from app.i18n import current_language, written_in
from app.mail.claims import Compose, Outcome, Outgoing, claim_batch, write_outcomes
from app.mail.rate import SendRate
from app.mail.sender import OutcomeUnknown, RecipientRefused, SmtpConnection, abort_all
from app.models.task import DELIVERED, NOT_BUILT, PENDING, REFUSED, UNKNOWN
from app.queue import queues
from app.tasks.errors import TransientError
from app.tasks.inflight import Ledger
from app.tasks.patience import patiently
from app.tasks.stopwatch import shutdown_requested

log = logging.getLogger(__name__)
SETTLE_SECONDS = 0.1
MAX_CONNECTION_LOSSES = 3
DB_PATIENCE = 120.0  # seconds a connection waits for a database that went away


class _NotNow(Exception):
    """The send stopped while the connection waited for its turn: the message stays."""


class Sender:
    """One SMTP connection's thread: claim, send, write, until nothing is pending, a stop,
    or a transient failure (then RQ's retry takes it from there)."""

    def __init__(self, app: Flask, task_id: int, compose: Compose,
                 stop: threading.Event, rate: SendRate, ledger: Ledger) -> None:
        self.app, self.task_id, self.compose = app, task_id, compose
        self.stop, self.rate, self.ledger = stop, rate, ledger
        self.sender = app.config["MAIL_DEFAULT_SENDER"]
        self.smtp = SmtpConnection(app.config)
        self.transient: str | None = None
        self.losses = 0  # connections lost in a row once DATA had begun
        self.turn: str | None = None  # this message's turn of the second, while it goes
        self.floor = 0  # where this connection's last claim began (claims.claim_batch)
        self.language = current_language()  # the run's (the task's): its words for the log

    def run(self) -> None:
        """The thread's body, inside its own app context (its own DB session)."""
        most = max(1, int(self.app.config["MAIL_BATCH_SIZE"]))
        size = 1  # grows to what this connection sends in SETTLE_SECONDS, up to ``most``
        with self.app.app_context(), written_in(self.language):
            try:
                if not self._open():  # connect before claiming anyone
                    return
                done: list[Outcome] = []
                while not self.stop.is_set() and self.transient is None:
                    # The last batch's outcomes go in with the next claim: one commit.
                    batch = self._claim(size, done)
                    done = []
                    if not batch:
                        return
                    started = time.monotonic()
                    done = self.send_batch(batch)
                    each = (time.monotonic() - started) / len(batch)
                    size = max(1, min(most, int(SETTLE_SECONDS / max(each, 1e-4))))
                self._write(done)
            except Exception:
                log.exception("task %s: a connection's thread failed", self.task_id)
                self.transient = self.transient or _("전송 스레드 오류")
            finally:
                self.smtp.__exit__(None, None, None)
                db.session.remove()

    def _open(self) -> bool:
        try:
            self.smtp.connect()
        except TransientError as exc:
            self.transient = str(exc)[:300]
            return False
        return True

    def _claim(self, size: int, done: list[Outcome]) -> list[Outgoing]:
        batch = patiently(
            lambda: claim_batch(self.task_id, size, self.sender, done, self.floor),
            DB_PATIENCE, f"task {self.task_id}: claims", stop=shutdown_requested)
        self.ledger.written([o.item.delivery_id for o in done])
        if batch:
            self.floor = batch[0].position
        return batch

    def _write(self, done: list[Outcome]) -> None:
        patiently(lambda: write_outcomes(done), DB_PATIENCE,
                  f"task {self.task_id}: outcomes", stop=shutdown_requested)
        self.ledger.written([o.item.delivery_id for o in done])

    def send_batch(self, batch: list[Outgoing]) -> list[Outcome]:
        """Send a claimed batch, writing what is done at least every ``SETTLE_SECONDS``
        (a slow relay must not leave many answered messages unwritten); the outcomes not
        yet written, for the caller to write with its next claim."""
        done: list[Outcome] = []
        last = time.monotonic()
        for item, message in zip(batch, self.messages(batch), strict=True):
            done.append(self.send_one(item, message))
            if time.monotonic() - last >= SETTLE_SECONDS:
                self._write(done)
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
            self.transient = _("메일을 만들 수 없습니다: %(error)s", error=exc)[:300]
            return [None] * len(batch)

    def send_one(self, item: Outgoing, message: Message | str | None) -> Outcome:
        """One message; after a stop or a transient failure the rest go back to pending."""
        if self.transient is not None or self.stop.is_set() or message is None:
            return Outcome(item, PENDING)
        if isinstance(message, str):  # this recipient's mail cannot be made: the rest go on
            log.warning("no message for %s: %s", item.recipient, message)
            return Outcome(item, REFUSED, message[:300], kind=NOT_BUILT)
        outcome = self._deliver(item, message)
        if outcome.status in (DELIVERED, REFUSED, PENDING):  # the relay's answer, for the ledger
            detail = item.message_id if outcome.status == DELIVERED else outcome.error
            self.ledger.answered(item.delivery_id, f"{outcome.status} {detail or ''}".strip())
        return outcome

    def _deliver(self, item: Outgoing, message: Message) -> Outcome:
        """Send ``message``; the relay's answer as an outcome. The message's turn of the
        second (taken just before its data) is handed back once the answer is in."""
        try:
            return self._send(item, message)
        finally:
            turn, self.turn = self.turn, None
            if turn:
                self._hand_back(turn)

    def _hand_back(self, turn: str) -> None:
        try:
            self.rate.answered(turn)
        except RedisError as exc:  # it holds its place until MAIL_TIMEOUT_SECONDS + 1 s
            log.warning("could not hand back a turn of the send rate: %s", exc)

    def _send(self, item: Outgoing, message: Message) -> Outcome:
        try:
            if not self.rate.wait_window(self.stop):  # the hour's share, before it begins
                return Outcome(item, PENDING)
            if self.smtp.connection is None:
                self.smtp.connect()
            self.smtp.send(message, self.sender, item.recipient,
                           before_data=lambda: self._before_data(item))
        except _NotNow:
            return Outcome(item, PENDING)
        except RecipientRefused as exc:
            return Outcome(item, REFUSED, str(exc)[:300])
        except OutcomeUnknown as exc:
            self.losses += 1
            if self.losses >= MAX_CONNECTION_LOSSES:  # a broken link: leave it to RQ's retry
                self.transient = _("SMTP 연결이 %(count)s번 연달아 끊겼습니다.",
                                   count=self.losses)
            return Outcome(item, UNKNOWN, str(exc)[:300])  # reconnects for the next one
        except TransientError as exc:
            self.smtp.close()
            self.transient = str(exc)[:300]
            return Outcome(item, PENDING, self.transient, transient=True)
        self.losses = 0
        return Outcome(item, DELIVERED)

    def _before_data(self, item: Outgoing) -> None:
        """The relay asked for the data: enter the message in the ledger as on the wire,
        then take its turn of the second, last, so the rate counts when messages really go
        (a crash while it waits leaves it in doubt: never mailed twice)."""
        try:
            self.ledger.begin(item.delivery_id)
        except RedisError as exc:  # unrecorded, it must not go: later, by RQ's retry
            raise TransientError(_("전송 기록(Redis)을 남길 수 없습니다: %(error)s",
                                   error=exc)) from exc
        self.turn = self.rate.take_turn(self.stop)
        if self.turn is None:
            self.ledger.answered(item.delivery_id, PENDING)
            raise _NotNow


def run_connections(app: Flask, task_id: int, pending: int, attempt: int | None,
                    compose: Compose, stop: threading.Event, rate: SendRate,
                    on_tick: Callable[[], None], tick: float = 0.25) -> list[str]:
    """Send the task's ``pending`` recipients over up to ``MAIL_CONCURRENCY`` connections
    (no more than there are batches), calling ``on_tick`` every ``tick`` seconds meanwhile;
    the transient failures met."""
    batch = max(1, int(app.config["MAIL_BATCH_SIZE"]))
    wanted = max(1, min(int(app.config["MAIL_CONCURRENCY"]), -(-pending // batch)))
    redis = queues(app).connection
    Ledger(redis, task_id).open(attempt or 0)
    connections = [Sender(app, task_id, compose, stop, rate, Ledger(redis, task_id))
                   for _ in range(wanted)]
    threads = [threading.Thread(target=c.run, name=f"smtp-{i}", daemon=True)
               for i, c in enumerate(connections)]
    for thread in threads:
        thread.start()
    drain = Drain(float(app.config["CANCEL_DRAIN_SECONDS"]), stop, task_id)
    while alive := [thread for thread in threads if thread.is_alive()]:
        alive[0].join(tick)
        on_tick()
        drain.check()
    return [c.transient for c in connections if c.transient]


class Drain:
    """After a stop, the connections finish the message on the wire; one whose relay has
    not answered ``seconds`` later is cut (its message then ends ``unknown``)."""

    def __init__(self, seconds: float, stop: threading.Event, task_id: int) -> None:
        self.seconds, self.stop, self.task_id = seconds, stop, task_id
        self.since: float | None = None
        self.cut = False

    def check(self) -> None:
        """Cut the connections once the stop is older than ``seconds`` (once)."""
        if self.cut or not self.stop.is_set():
            return
        self.since = self.since or time.monotonic()
        if time.monotonic() - self.since >= self.seconds:
            self.cut = True
            log.warning("task %s: the relay did not answer within %s s of the stop: cut %d "
                        "connection(s)", self.task_id, self.seconds, abort_all())
