"""What the API says of a task and of its recipients: plain JSON, times in RFC 3339 (UTC),
counts, and links to what can be done with it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import url_for

from app.models import Delivery, Task
from app.tasks_ui.exports import outcome, reason


def moment(value: datetime | None) -> str | None:
    """An aware time as RFC 3339 in UTC (``Z``), or None."""
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def _links(task: Task) -> dict[str, str]:
    links = {"self": url_for("api.get_send", task_id=task.id, _external=True),
             "recipients": url_for("api.send_recipients", task_id=task.id, _external=True),
             "page": url_for("tasks.detail", task_id=task.id, _external=True)}
    for action in ("cancel", "pause", "resume", "send_now"):
        links[action] = url_for(f"api.{action}_send", task_id=task.id, _external=True)
    return links


def task_json(task: Task) -> dict[str, Any]:
    """A task as the API shows it."""
    template = task.template or {}
    served = task.delivered_count + task.failed_count + task.unknown_count
    return {
        "id": task.id,
        "status": task.status,
        "failed": bool(task.failed),
        "description": task.description,
        "template": template.get("name"),
        "list_id": task.list_id,
        "progress": task.progress,
        "counts": {"recipients": task.recipient_count, "delivered": task.delivered_count,
                   "refused": task.failed_count, "unknown": task.unknown_count,
                   "pending": max(0, task.recipient_count - served)},
        "log": task.log or None,
        "created_at": moment(task.created_at),
        "send_at": moment(task.reserved_at),
        "started_at": moment(task.started_at),
        "finished_at": moment(task.finished_at),
        "links": _links(task),
    }


def recipient_json(delivery: Delivery) -> dict[str, Any]:
    """One recipient's outcome (the words of the detail page's ``data-outcome``)."""
    return {"email": delivery.recipient, "outcome": outcome(delivery),
            "reply": reason(delivery) or None, "message_id": delivery.message_id,
            "fields": delivery.fields or {}, "updated_at": moment(delivery.updated_at)}
