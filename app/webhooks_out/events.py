"""Turning what happened into deliveries: one row per event per hook that wants it (a
unique key, so an event published twice is delivered once), committed, then one RQ job
each. A user without hooks costs one indexed SELECT when a task ends."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app.extensions import db
from app.models import Task, Webhook, WebhookDelivery
from app.models.task import FINISHED
from app.models.types import utcnow

log = logging.getLogger(__name__)
DELIVERY_QUEUE = "high"  # short jobs: never behind a long send
KEEP_LOG = timedelta(days=30)  # deliveries older than this leave the log


def _moment(value: Any) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def task_data(task: Task) -> dict[str, Any]:
    """What an event says of a send."""
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    return {"id": task.id, "status": task.status, "failed": bool(task.failed),
            "template": (task.template or {}).get("name"), "description": task.description,
            "counts": {"recipients": task.recipient_count, "delivered": task.delivered_count,
                       "refused": task.failed_count, "unknown": task.unknown_count},
            "log": task.log or None, "finished_at": _moment(task.finished_at),
            "url": f"{base}/api/v1/sends/{task.id}"}


def _insert(hook: Webhook, event: str, key: str, data: dict[str, Any]) -> int | None:
    """The new delivery's id; None when this event was already there for the hook."""
    insert = sqlite_insert if db.engine.dialect.name == "sqlite" else pg_insert
    payload = {"type": event, "created_at": _moment(utcnow()), "data": data}
    return db.session.scalar(
        insert(WebhookDelivery).values(webhook_id=hook.id, event=event, event_key=key,
                                       payload=payload, status="pending", attempts=0,
                                       created_at=utcnow())
        .on_conflict_do_nothing(index_elements=["webhook_id", "event_key"])
        .returning(WebhookDelivery.id))


def emit(username: str, event: str, key: str, data: dict[str, Any]) -> list[int]:
    """Record ``event`` for each of the user's hooks that wants it, commit, then hand each
    new delivery to RQ; their ids."""
    hooks = [h for h in Webhook.of_user(username) if event in (h.events or [])]
    if not hooks:
        return []
    made = [i for i in (_insert(hook, event, key, data) for hook in hooks) if i is not None]
    db.session.execute(db.delete(WebhookDelivery).where(  # the log keeps KEEP_LOG
        WebhookDelivery.webhook_id.in_([hook.id for hook in hooks]),
        WebhookDelivery.created_at < utcnow() - KEEP_LOG))
    db.session.commit()
    from app.webhooks_out.jobs import enqueue

    for delivery_id in made:
        enqueue(delivery_id)
    return made


def task_ended(task: Task) -> None:
    """``send.finished`` or ``send.failed`` for a send that has just finished (called
    where a task's state is published; anything else costs nothing)."""
    if task.status != FINISHED or task.name != "send_mail":
        return
    event = "send.failed" if task.failed else "send.finished"
    try:
        emit(task.username, event, f"{event}:{task.id}", {"task": task_data(task)})
    except Exception:  # a hook must never fail the send that caused it
        db.session.rollback()
        log.exception("webhook event %s of task %s not recorded", event, task.id)


def bounced(owner: str, task_id: int, address: str, kind: str, diagnostic: str) -> None:
    """``recipient.bounced`` for ``owner``'s hooks: a bounce (hard or soft) or a complaint
    about a recipient of task ``task_id``, once it has been acted on."""
    key = f"recipient.bounced:{task_id}:{address}:{utcnow().timestamp():.3f}"
    try:
        emit(owner, "recipient.bounced", key[:128], {
            "email": address, "task_id": task_id, "kind": kind, "diagnostic": diagnostic})
    except Exception:  # a hook must never undo the bounce that caused it
        db.session.rollback()
        log.exception("webhook event recipient.bounced of task %s not recorded", task_id)


def unsubscribed(owner: str, address: str) -> None:
    """``recipient.unsubscribed`` for ``owner``'s hooks."""
    key = f"recipient.unsubscribed:{address}:{utcnow().timestamp():.0f}"
    emit(owner, "recipient.unsubscribed", key[:128], {"email": address})
