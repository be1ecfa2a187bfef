"""What one recipient row says (its outcome, its reason), and the task's recipients as a
CSV download, streamed: rows are read from the database a thousand at a time (a
server-side cursor on PostgreSQL) and written out a chunk at a time, so a send of 100,000
recipients costs no more memory than one of ten."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

from flask import Response, current_app, stream_with_context
from flask_login import current_user

from app.extensions import db
from app.filters import user_zone_name
from app.labels import NOT_BUILT_LABEL
from app.models import Delivery, Task
from app.models.task import NOT_BUILT, SENDING
from app.tasks_ui import bp
from app.utils.datetime_converter import localtime, zone
from app.utils.text import csv_chunks

HEADER = ["email", "outcome", "at", "message_id", "reply", "reason_kind"]
YIELD_PER = 1000  # rows fetched from the database at once
CSV_COLUMNS = (Delivery.recipient, Delivery.status, Delivery.updated_at, Delivery.message_id,
               Delivery.error, Delivery.reason_kind)
# ``sending`` is a claim in flight: to the user it is still pending.
OUTCOME = {SENDING: "pending"}


def outcome(delivery: Delivery | Any) -> str:
    """SPEC's outcome of one recipient (a Delivery, or a row with its ``status``)."""
    return OUTCOME.get(delivery.status, delivery.status)


def reason(delivery: Delivery | Any) -> str:
    """Why the recipient ended as it did: the server's reply, or — for a message that
    could not be made — that, never blamed on the server (a Delivery, or a row with its
    ``reason_kind`` and ``error``)."""
    if delivery.reason_kind == NOT_BUILT:
        return f"{NOT_BUILT_LABEL}: {delivery.error}" if delivery.error else NOT_BUILT_LABEL
    return delivery.error or ""


def csv_rows(task_id: int, tz: ZoneInfo) -> Iterator[list[str]]:
    """The task's recipients in order, one CSV row each (times in ``tz``, as ``iso_local``
    writes them), read ``YIELD_PER`` at a time as plain rows (no ORM objects)."""
    query = (db.select(*CSV_COLUMNS).where(Delivery.task_id == task_id)
             .order_by(Delivery.position, Delivery.id)
             .execution_options(yield_per=YIELD_PER))
    for d in db.session.execute(query):
        at = localtime(d.updated_at, tz).isoformat(timespec="seconds") if d.updated_at else ""
        yield [d.recipient, outcome(d), at, d.message_id or "", reason(d), d.reason_kind or ""]


@bp.get("/tasks/<id:task_id>/recipients.csv")
def recipients_csv(task_id: int) -> Response:
    """Every recipient of the task with its outcome, as CSV: UTF-8 with a BOM (Excel on a
    Korean Windows reads it right), times in ISO 8601 with the user's offset, formula-like
    cells quoted."""
    task = Task.owned_or_404(task_id, current_user.username)
    tz = zone(user_zone_name(), current_app.config["APP_TIMEZONE"])
    body = stream_with_context(csv_chunks(HEADER, csv_rows(task.id, tz)))
    return Response(body, mimetype="text/csv",
                    headers={"Content-Disposition":
                             f'attachment; filename="task-{task.id}-recipients.csv"'})
