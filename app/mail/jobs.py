"""The send job: one template to many recipients over one SMTP connection."""

from __future__ import annotations

from typing import Any

from flask import current_app
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.mail.catalog import render
from app.mail.recipients import display
from app.mail.sender import RecipientRefused, SmtpBatch, build_message, message_id
from app.models import Delivery
from app.tasks.decorators import (
    CancelRequested,
    ProgressReporter,
    background_task,
    cancel_requested,
    current_task_id,
)


def _already_served(task_id: int) -> set[str]:
    query = db.select(Delivery.recipient).where(Delivery.task_id == task_id)
    return set(db.session.scalars(query))


def _record(task_id: int, recipient: str, *, ok: bool, error: str | None = None,
            msg_id: str | None = None) -> None:
    """Commit the delivery record right away: a retry must never mail this recipient again."""
    db.session.add(Delivery(task_id=task_id, recipient=recipient, ok=ok, error=error,
                            message_id=msg_id))
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()  # recorded already by an earlier attempt


def _outcome(task_id: int, total: int) -> dict[str, Any]:
    refused = db.session.execute(
        db.select(Delivery.recipient, Delivery.error)
        .where(Delivery.task_id == task_id, Delivery.ok.is_(False))
    ).all()
    delivered = total - len(refused)
    result: dict[str, Any] = {"delivered": delivered, "total": total,
                              "refused": [{"recipient": r, "error": e} for r, e in refused]}
    if refused:
        result["failed"] = True
        result["log"] = f"받는 서버가 거부한 주소 {len(refused)}개: " + display(
            [f"{r} ({e})" for r, e in refused], shown=5)
    return result


@background_task
def send_mail(recipients: list[str], template_name: str, sender_name: str) -> dict[str, Any]:
    """Send ``template_name`` to each recipient not yet served, checking for a cancel."""
    task_id = current_task_id()
    config = current_app.config
    sender = config["MAIL_DEFAULT_SENDER"]
    served = _already_served(task_id)
    progress = ProgressReporter(task_id, len(recipients))
    done = len(served)
    pending = [r for r in recipients if r not in served]
    if pending:
        with SmtpBatch(config) as smtp:
            for recipient in pending:
                if cancel_requested(task_id):
                    raise CancelRequested
                mail = render(template_name, recipient=recipient, sender_name=sender_name)
                msg_id = message_id(task_id, recipient, sender)
                try:
                    smtp.send(build_message(mail, sender, recipient, msg_id), recipient)
                except RecipientRefused as exc:
                    _record(task_id, recipient, ok=False, error=str(exc)[:300])
                else:
                    _record(task_id, recipient, ok=True, msg_id=msg_id)
                done += 1
                progress.report(done)
    return _outcome(task_id, len(recipients))
