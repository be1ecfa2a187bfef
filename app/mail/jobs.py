"""The send job: one template to the task's recipients over one SMTP connection.

Each recipient is claimed (``pending`` → ``sending``) before its message goes and settled
after, so a retry, a resumed job or a second job of the same task never mails anyone twice;
a claim whose outcome is in doubt ends ``unknown`` and is left for the user to decide.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import current_app

from app.extensions import db
from app.mail.catalog import render
from app.mail.recipients import display
from app.mail.sender import (
    OutcomeUnknown,
    RecipientRefused,
    SmtpBatch,
    build_message,
    message_id,
)
from app.models import Delivery
from app.models.task import DELIVERED, PENDING, REFUSED, SENDING, UNKNOWN
from app.models.types import utcnow
from app.tasks.decorators import (
    ProgressReporter,
    TransientError,
    background_task,
    check_still_wanted,
    current_task_id,
)

log = logging.getLogger(__name__)
# Connections lost in a row before the job gives up until RQ's next retry.
MAX_CONNECTION_LOSSES = 3


def _pending(task_id: int) -> list[tuple[int, str]]:
    query = (db.select(Delivery.id, Delivery.recipient)
             .where(Delivery.task_id == task_id, Delivery.status == PENDING)
             .order_by(Delivery.position, Delivery.id))
    return [(row.id, row.recipient) for row in db.session.execute(query)]


def _move(delivery_id: int, from_status: str, to_status: str, **values: Any) -> bool:
    """Compare-and-set one delivery's status; commit. True when this call moved it."""
    result = db.session.execute(
        db.update(Delivery).where(Delivery.id == delivery_id, Delivery.status == from_status)
        .values(status=to_status, updated_at=utcnow(), **values)
        .execution_options(synchronize_session=False))
    db.session.commit()
    return result.rowcount == 1


def _outcome(task_id: int, total: int) -> dict[str, Any]:
    rows = db.session.execute(
        db.select(Delivery.recipient, Delivery.status, Delivery.error)
        .where(Delivery.task_id == task_id, Delivery.status.in_((REFUSED, UNKNOWN)))
        .order_by(Delivery.position)).all()
    refused = [{"recipient": r, "error": e} for r, s, e in rows if s == REFUSED]
    unknown = [{"recipient": r, "error": e} for r, s, e in rows if s == UNKNOWN]
    result: dict[str, Any] = {"delivered": total - len(rows), "total": total,
                              "refused": refused, "unknown": unknown}
    reasons = []
    if refused:
        reasons.append(f"받는 서버가 거부한 주소 {len(refused)}개: " + display(
            [f"{e['recipient']} ({e['error']})" for e in refused], shown=5))
    if unknown:
        reasons.append(f"전달 여부를 알 수 없는 주소 {len(unknown)}개(자동으로 다시 보내지 않음): "
                       + display([e["recipient"] for e in unknown], shown=5))
    if reasons:
        result["failed"] = True
        result["log"] = " / ".join(reasons)
    return result


class _Batch:
    """One pass over the pending recipients of a task on one SMTP connection."""

    def __init__(self, task_id: int, template_name: str, sender_name: str) -> None:
        self.task_id, self.template_name, self.sender_name = task_id, template_name, sender_name
        self.sender = current_app.config["MAIL_DEFAULT_SENDER"]
        self.losses = 0

    def deliver(self, smtp: SmtpBatch, delivery_id: int, recipient: str) -> None:
        """Claim, send and settle one recipient."""
        if not _move(delivery_id, PENDING, SENDING):
            return  # another run of this task has it
        msg_id = message_id(self.task_id, recipient, self.sender)
        try:
            mail = render(self.template_name, recipient=recipient, sender_name=self.sender_name)
            message = build_message(mail, self.sender, recipient, msg_id)
        except Exception as exc:  # this recipient's mail cannot be made: the rest go on
            log.warning("task %s: no message for %s: %s", self.task_id, recipient, exc)
            _move(delivery_id, SENDING, REFUSED, error=f"메시지를 만들 수 없습니다: {exc}"[:300])
            return
        try:
            if smtp.connection is None:
                smtp.reconnect()
            smtp.send(message, self.sender, recipient)
        except RecipientRefused as exc:
            _move(delivery_id, SENDING, REFUSED, error=str(exc)[:300])
        except OutcomeUnknown as exc:
            _move(delivery_id, SENDING, UNKNOWN, error=str(exc)[:300], message_id=msg_id)
            self._lost_connection()
        except TransientError:
            _move(delivery_id, SENDING, PENDING)  # certainly not sent: a retry may send it
            raise
        else:
            _move(delivery_id, SENDING, DELIVERED, message_id=msg_id)
            self.losses = 0

    def _lost_connection(self) -> None:
        self.losses += 1
        if self.losses >= MAX_CONNECTION_LOSSES:
            raise TransientError(f"SMTP 연결이 {self.losses}번 연달아 끊겼습니다.")


@background_task
def send_mail(template_name: str, sender_name: str) -> dict[str, Any]:
    """Send ``template_name`` to each pending recipient of the task, checking for a cancel."""
    task_id = current_task_id()
    Delivery.settle_claims(task_id)  # a crashed run's claims: in doubt, never resent
    pending = _pending(task_id)
    total = db.session.scalar(db.select(db.func.count()).where(Delivery.task_id == task_id))
    progress = ProgressReporter(task_id, total)
    done = total - len(pending)
    if pending:
        batch = _Batch(task_id, template_name, sender_name)
        with SmtpBatch(current_app.config) as smtp:
            for delivery_id, recipient in pending:
                check_still_wanted(task_id)
                batch.deliver(smtp, delivery_id, recipient)
                done += 1
                progress.report(done)
    return _outcome(task_id, total)
