"""One task in detail: every recipient with its outcome (live while it runs), as CSV too,
and a resend to those that failed or are in doubt."""

from __future__ import annotations

import csv
import io
from typing import Any

from flask import Response, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.extensions import db
from app.filters import to_localtime
from app.models import Delivery, Task
from app.models.task import REFUSED, SENDING, SUPPRESSED, UNKNOWN
from app.tasks.service import QUEUE_FULL, EnqueueError, QueueFull, TaskService
from app.tasks_ui import bp
from app.views import page_number

PER_PAGE = 100
# ``sending`` is a claim in flight: to the user it is still pending.
OUTCOME = {SENDING: "pending"}
WHICH = {"failed": REFUSED, "unknown": UNKNOWN}


def outcome(delivery: Delivery) -> str:
    """SPEC's outcome of one recipient."""
    return OUTCOME.get(delivery.status, delivery.status)


def _recipients(task_id: int) -> Any:
    return (db.select(Delivery).where(Delivery.task_id == task_id)
            .order_by(Delivery.position, Delivery.id))


def _row(delivery: Delivery) -> dict[str, Any]:
    return {"recipient": delivery.recipient, "outcome": outcome(delivery),
            "at": to_localtime(delivery.updated_at) if delivery.updated_at else "",
            "message_id": delivery.message_id or "", "reply": delivery.error or ""}


@bp.get("/tasks/<id:task_id>")
def detail(task_id: int) -> str:
    """The task and its recipients (paged), live while it is unfinished."""
    task = Task.owned_or_404(task_id, current_user.username)
    page = db.paginate(_recipients(task.id), page=page_number(), per_page=PER_PAGE,
                       error_out=True)
    resends = list(db.session.scalars(db.select(Task.id).where(Task.resent_from == task.id)))
    template = ((task.job_args or {}).get("args") or [""])[0]
    suppressed = db.session.scalar(db.select(db.func.count()).where(
        Delivery.task_id == task.id, Delivery.status == SUPPRESSED))
    return render_template("tasks_ui/detail.html", task=task, page=page, rows=map(_row, page),
                           template_name=template, resends=resends, suppressed=suppressed)


@bp.get("/tasks/<id:task_id>/recipients.json")
def recipients_json(task_id: int) -> dict[str, Any]:
    """One page of recipients as the detail page's script reads it."""
    task = Task.owned_or_404(task_id, current_user.username)
    page = db.paginate(_recipients(task.id), page=page_number(), per_page=PER_PAGE,
                       error_out=True)
    return {"status": task.status, "unfinished": task.is_unfinished,
            "delivered": task.delivered_count, "total": task.recipient_count,
            "recipients": [_row(d) for d in page]}


@bp.get("/tasks/<id:task_id>/recipients.csv")
def recipients_csv(task_id: int) -> Response:
    """Every recipient of the task with its outcome, as CSV."""
    task = Task.owned_or_404(task_id, current_user.username)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["email", "outcome", "at", "message_id", "reply"])
    for delivery in db.session.scalars(_recipients(task.id)):
        row = _row(delivery)
        writer.writerow([_cell(str(v)) for v in row.values()])
    return Response(out.getvalue(), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="task-{task.id}-recipients.csv"'})


def _cell(value: str) -> str:
    """A CSV cell a spreadsheet will not run as a formula."""
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value


@bp.post("/tasks/<id:task_id>/resend")
def resend(task_id: int) -> Response:
    """A new task for exactly the task's refused (``which=failed``) or unknown recipients."""
    task = Task.owned_or_404(task_id, current_user.username)
    status = WHICH.get(request.form.get("which", ""))
    back = redirect(url_for("tasks.detail", task_id=task.id))
    if status is None or task.job_func is None:
        flash("다시 보낼 대상을 고르세요 (failed 또는 unknown).", "danger")
        return back
    try:
        new = TaskService(current_user.username).resend(task, status)
    except LookupError as exc:
        flash(str(exc), "warning")
        return back
    except ValueError as exc:
        flash(str(exc), "danger")
        return back
    except EnqueueError:
        flash(f"Task#{task.id}의 다시 보내기를 시작하지 못했습니다.", "danger")
        return back
    except QueueFull as full:
        flash(f"Task#{task.id}의 받는 사람 {full.task.recipient_count}명에게 다시 보내기를 "
              f"접수했습니다 (Task#{full.task.id}). {QUEUE_FULL}", "warning")
        return redirect(url_for("tasks.detail", task_id=full.task.id))
    flash(f"Task#{task.id}의 받는 사람 {new.recipient_count}명에게 다시 보냅니다 "
          f"(Task#{new.id}).", "success")
    return redirect(url_for("tasks.detail", task_id=new.id))
