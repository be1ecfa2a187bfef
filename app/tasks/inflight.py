"""What was on the wire when a run ended: a ledger in Redis per task
(``mailroom:wire:<task id>``), so that after a crash only the messages whose DATA began
without an answer heard are in doubt — at most one per connection — and every other claim
goes back to pending (never sent) or gets the answer the relay gave.

``run`` holds the run that keeps it. A claimed recipient is entered as ``data`` just before
its message's data goes, and as ``delivered <Message-ID>``, ``refused <reason>`` or
``pending`` once the relay answered (sent with the next entry, or when the batch's outcomes
are written); entries leave once their outcome is in the database. A ledger Redis lost (no
``run``) proves nothing: every claim is then in doubt, as before there was a ledger.
"""

from __future__ import annotations

import logging

from redis import Redis
from redis.exceptions import RedisError

from app.models import Delivery
from app.models.task import DELIVERED, PENDING, REFUSED, SENDING, UNKNOWN

log = logging.getLogger(__name__)
KEEP_SECONDS = 7 * 86400
DATA = "data"  # begun, no answer heard yet; the answers are the statuses they settle as


def ledger_key(task_id: int) -> str:
    """The Redis hash of a task's messages on the wire."""
    return f"mailroom:wire:{task_id}"


class Ledger:
    """One connection's entries in its task's ledger (not shared between threads)."""

    def __init__(self, connection: Redis, task_id: int) -> None:
        self.connection, self.key = connection, ledger_key(task_id)
        self._answers: dict[str, str] = {}

    def open(self, attempt: int) -> None:
        """Mark the ledger as kept by run ``attempt``."""
        with self.connection.pipeline() as pipe:
            pipe.hset(self.key, "run", attempt)
            pipe.expire(self.key, KEEP_SECONDS)
            pipe.execute()

    def begin(self, delivery_id: int) -> None:
        """Just before a message's data goes (the answers heard so far go with it)."""
        self._answers[str(delivery_id)] = DATA
        self.connection.hset(self.key, mapping=self._answers)
        self._answers = {}

    def answered(self, delivery_id: int, answer: str) -> None:
        """What the relay said (``delivered <Message-ID>``, ``refused <reason>``,
        ``pending``); kept until the next entry or ``written``."""
        self._answers[str(delivery_id)] = answer

    def written(self, delivery_ids: list[int]) -> None:
        """These outcomes are in the database now: their entries can go."""
        if not delivery_ids:
            return
        written = {str(delivery_id) for delivery_id in delivery_ids}
        self._answers = {k: v for k, v in self._answers.items() if k not in written}
        try:
            self.connection.hdel(self.key, *delivery_ids)
        except RedisError as exc:  # a stale entry only names a row that is settled already
            log.warning("%s: entries not removed: %s", self.key, exc)


def settle_claims(connection: Redis, task_id: int) -> int:
    """Claims no run will confirm any more: answered ones get their answer, begun ones are
    ``unknown``, the rest go back to ``pending``; then the ledger is dropped. With no
    readable ledger, every claim is ``unknown``. How many claims there were."""
    if not Delivery.count(task_id, SENDING):  # the usual end of a run: nothing to read
        _drop(connection, task_id)
        return 0
    entries = read(connection, task_id)
    settled = Delivery.settle_claims(task_id, entries)
    if entries is not None:
        _drop(connection, task_id)
    return settled


def _drop(connection: Redis, task_id: int) -> None:
    try:
        connection.delete(ledger_key(task_id))
    except RedisError:
        pass  # the next run's open() takes the key over


def read(connection: Redis, task_id: int) -> dict[int, str] | None:
    """The ledger's entries by delivery id; None when there is none to trust."""
    try:
        raw = connection.hgetall(ledger_key(task_id))
    except RedisError as exc:
        log.warning("task %s: the ledger could not be read (%s): claims are in doubt",
                    task_id, exc)
        return None
    if b"run" not in raw:
        return None
    return {int(k): _answer(v.decode()) for k, v in raw.items() if k != b"run"}


def _answer(entry: str) -> tuple[str, str | None]:
    """``(status, detail)`` of one entry (a message begun without an answer: unknown)."""
    kind, _, detail = entry.partition(" ")
    if kind == DATA:
        return UNKNOWN, None
    return (kind if kind in (DELIVERED, REFUSED) else PENDING), detail or None
