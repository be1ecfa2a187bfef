"""Task: one row per RQ job (``job_id == str(task.id)``), and its deliveries."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, bindparam
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.i18n import N_
from app.models.types import UTCDateTime, utcnow

RESERVED, QUEUED, RUNNING, PAUSED, CANCELED, FINISHED = (
    "reserved", "queued", "running", "paused", "canceled", "finished",
)
STATUSES = (RESERVED, QUEUED, RUNNING, PAUSED, CANCELED, FINISHED)
UNFINISHED = (RESERVED, QUEUED, RUNNING, PAUSED)
WAITING = (RESERVED, QUEUED)
IN_PROGRESS = (QUEUED, RUNNING, PAUSED)
# What Redis must hold a job for (a paused task waits on no queue).
IN_REDIS = (RESERVED, QUEUED, RUNNING)


# What one recipient of a task has come to. ``sending`` is claimed before DATA and confirmed
# after; a claim left behind by a crash becomes ``unknown`` and is never resent automatically.
PENDING, SENDING, DELIVERED, REFUSED, UNKNOWN = (
    "pending", "sending", "delivered", "refused", "unknown",
)
# Skipped: the address is on the sender's suppression list (it asked to be left alone).
SUPPRESSED = "suppressed"
# Delivered, then came back: a DSN, a provider's bounce event or a complaint (app/bounces).
BOUNCED = "bounced"
# Why a ``refused`` recipient was refused, when it was not the receiving server: its
# message could not be made (a template error, a render limit). Never resent as it was.
NOT_BUILT = "not_built"

# The name of a list's import task (app/lists/jobs.py); every other task is a send.
IMPORT = "import_members"


class Task(db.Model):
    __tablename__ = "tasks"
    __table_args__ = (
        Index("ix_tasks_username_status", "username", "status"),
        Index("ix_tasks_status", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    description: Mapped[str] = mapped_column(String(512))
    username: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16), default=QUEUED)
    failed: Mapped[bool] = mapped_column(default=False)
    log: Mapped[str | None] = mapped_column(Text)
    result: Mapped[Any | None] = mapped_column(JSON)
    progress: Mapped[int] = mapped_column(default=0)
    recipient_count: Mapped[int] = mapped_column(default=0)
    delivered_count: Mapped[int] = mapped_column(default=0)
    failed_count: Mapped[int] = mapped_column(default=0)
    unknown_count: Mapped[int] = mapped_column(default=0)
    # Delivered recipients whose mail came back since (no longer in delivered_count).
    bounced_count: Mapped[int] = mapped_column(default=0, server_default="0")
    # The job as the database keeps it, so a Redis that lost it can be given it again.
    job_func: Mapped[str | None] = mapped_column(String(255))
    job_args: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    job_queue: Mapped[str | None] = mapped_column(String(32))
    job_timeout: Mapped[int | None] = mapped_column()
    attempts: Mapped[int] = mapped_column(default=0)
    # The language the send was made in (app/i18n.py): what the worker writes about it (its
    # log, its reasons) is written in it. NULL: Korean.
    language: Mapped[str | None] = mapped_column(String(8))
    # What the user's daily quota counts for this task, and since when (app/tasks/quota.py):
    # set when its recipients are let go — a send at once, a reservation when it fires.
    charged: Mapped[int] = mapped_column(default=0)
    charged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The mail template as it was when the task was made (MailTemplate.snapshot); NULL for
    # tasks made before templates were data, which name a built-in in their job.
    template: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # A resend names the task it repeats (for its failed or unknown recipients).
    resent_from: Mapped[int | None] = mapped_column(
        ForeignKey("tasks.id", ondelete="SET NULL"))
    # A send to a saved list takes its members when its run starts (``recipients_taken_at``).
    list_id: Mapped[int | None] = mapped_column(
        ForeignKey("mailing_lists.id", ondelete="SET NULL"), index=True)
    recipients_taken_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The running job's last sign of life, written with its progress (the reconciler
    # takes a run for dead only when this and its worker's Redis heartbeat are both stale).
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancel_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    pause_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reserved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def job_id(self) -> str:
        """The RQ job id of this task."""
        return str(self.id)

    @property
    def is_import(self) -> bool:
        """True for a list's import (it has lines, not recipients)."""
        return self.name == IMPORT

    @property
    def is_unfinished(self) -> bool:
        """True while the task may still send (reserved, queued or running)."""
        return self.status in UNFINISHED

    def end(self, status: str, *, failed: bool = False, log: str | None = None) -> None:
        """Move to a final state (``finished`` or ``canceled``), stamping the time."""
        self.status = status
        self.failed = failed
        if log is not None:
            self.log = log
        self.finished_at = utcnow()

    @classmethod
    def transition(cls, task_id: int, from_statuses: tuple[str, ...], *,
                   attempt: int | None = None, commit: bool = True, **values: Any) -> bool:
        """Set ``values`` only if the task is still in ``from_statuses`` (and, given
        ``attempt``, still on that run); commit (unless the caller commits it with more).

        A compare-and-set in one UPDATE, so a worker starting a job and a user canceling it
        can never both win, and a run the reconciler gave up on cannot end its successor.
        """
        query = db.update(cls).where(cls.id == task_id, cls.status.in_(from_statuses))
        if attempt is not None:
            query = query.where(cls.attempts == attempt)
        result = db.session.execute(
            query
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if commit:
            db.session.commit()
        return result.rowcount == 1

    @classmethod
    def delivery_counts(cls, task_id: int) -> dict[str, int]:
        """``delivered_count``, ``failed_count`` (refused) and ``unknown_count`` as the
        delivery records tell them."""
        rows = db.session.execute(
            db.select(Delivery.status, db.func.count()).where(Delivery.task_id == task_id)
            .group_by(Delivery.status)
        ).all()
        counts = dict(rows)
        total = sum(counts.values())
        served = total - counts.get(PENDING, 0) - counts.get(SENDING, 0)
        return {"delivered_count": counts.get(DELIVERED, 0),
                "failed_count": counts.get(REFUSED, 0),
                "unknown_count": counts.get(UNKNOWN, 0),
                "bounced_count": counts.get(BOUNCED, 0),
                # served of all: a send that stops part way shows how far it came
                **({"progress": served * 100 // total} if total else {})}

    def sync_delivery_counts(self) -> None:
        """Set the delivered and failed counts (and the progress) from the delivery
        records."""
        for name, value in self.delivery_counts(self.id).items():
            setattr(self, name, value)

    @classmethod
    def of_user(cls, username: str, statuses: tuple[str, ...]) -> list[Task]:
        """The user's tasks in ``statuses``, oldest first."""
        query = (
            db.select(cls)
            .where(cls.username == username, cls.status.in_(statuses))
            .order_by(cls.created_at, cls.id)
        )
        return list(db.session.scalars(query))

    @classmethod
    def owned_or_404(cls, task_id: int, username: str) -> Task:
        """The task, if it is ``username``'s; another user's task answers 404."""
        return db.one_or_404(db.select(cls).filter_by(id=task_id, username=username))


class Delivery(db.Model):
    """One recipient of one task, written when the task is made: what the job sends comes
    from these rows, and their status keeps a retry or a resumed job from mailing twice."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("task_id", "recipient"),
        # The next pending recipients in order, found without sorting the task's rows.
        Index("ix_deliveries_task_status_position", "task_id", "status", "position", "id"),
        # A page of the task's recipients in order, walked without sorting them all.
        Index("ix_deliveries_task_position", "task_id", "position", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(default=0)
    recipient: Mapped[str] = mapped_column(String(320))
    # The recipient's own template variables (a CSV row's columns but ``email``).
    fields: Mapped[dict[str, str] | None] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    error: Mapped[str | None] = mapped_column(Text)
    # NULL: ``error`` is the server's reply (or another reason); ``not_built``: see NOT_BUILT.
    reason_kind: Mapped[str | None] = mapped_column(String(16))
    message_id: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @classmethod
    def count(cls, task_id: int, *statuses: str) -> int:
        """How many of the task's recipients are in one of ``statuses``."""
        return db.session.scalar(db.select(db.func.count()).where(
            cls.task_id == task_id, cls.status.in_(statuses)))

    @classmethod
    def give_up(cls, task_id: int, reason: str) -> int:
        """The recipients still waiting when a task ends failed were never sent: they are
        ``refused`` with ``reason`` (shown, and offered for a resend); commit. How many."""
        result = db.session.execute(
            db.update(cls).where(cls.task_id == task_id, cls.status == PENDING)
            .values(status=REFUSED, error=reason, updated_at=utcnow())
            .execution_options(synchronize_session=False))
        db.session.commit()
        return result.rowcount

    @classmethod
    def settle_claims(cls, task_id: int,
                      answers: Mapping[int, tuple[str, str | None]] | None = None) -> int:
        """Claims no run will confirm any more; commit. How many there were.

        ``answers`` (from the run's ledger, ``app/tasks/inflight.py``) says, per claim,
        ``(status, detail)``: ``unknown`` for a message whose data went without an answer
        heard, ``delivered`` (detail: its Message-ID) or ``refused`` (detail: the reply) for
        one the relay answered; a claim it does not name never began and goes back to
        ``pending``. Without ``answers`` every claim is ``unknown`` (never resent
        automatically).
        """
        if answers is None:
            result = db.session.execute(
                db.update(cls).where(cls.task_id == task_id, cls.status == SENDING)
                .values(status=UNKNOWN, updated_at=utcnow(), error=_(IN_DOUBT))
                .execution_options(synchronize_session=False))
            db.session.commit()
            return result.rowcount
        claimed = list(db.session.scalars(db.select(cls.id).where(
            cls.task_id == task_id, cls.status == SENDING)))
        rows = [_settled(row_id, *answers.get(row_id, (PENDING, None))) for row_id in claimed]
        if rows:
            db.session.execute(
                db.update(cls.__table__)
                .where(cls.id == bindparam("b_id"), cls.status == SENDING)
                .values(status=bindparam("b_status"), error=bindparam("b_error"),
                        message_id=bindparam("b_message_id"), updated_at=utcnow()), rows)
        db.session.commit()
        return len(rows)


# A claim no answer settled (in the task's language where it is written: ``_(IN_DOUBT)``)
IN_DOUBT = N_("작업이 중단되어 전달 여부를 알 수 없습니다.")


def _settled(row_id: int, status: str, detail: str | None) -> dict[str, Any]:
    """One claim's row values for ``settle_claims``."""
    return {"b_id": row_id, "b_status": status,
            "b_error": _(IN_DOUBT) if status == UNKNOWN else detail if status == REFUSED else None,
            "b_message_id": detail if status == DELIVERED else None}
