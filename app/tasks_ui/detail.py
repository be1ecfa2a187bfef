"""One task in detail: every recipient with its outcome (live while it runs), as CSV too,
and a resend to those that failed or are in doubt."""

from __future__ import annotations

import csv
import io
from typing import Any

from flask import Response, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app import labels
from app.extensions import db
from app.filters import iso_local, to_short_local
from app.labels import NOT_BUILT_LABEL
from app.models import Delivery, Task
from app.models.task import NOT_BUILT, REFUSED, SENDING, UNKNOWN
from app.tasks.service import QUEUE_FULL, EnqueueError, QueueFull, TaskService
from app.tasks_ui import bp, charts
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


def reason(delivery: Delivery) -> str:
    """Why the recipient ended as it did: the server's reply, or — for a message that
    could not be made — that, never blamed on the server."""
    if delivery.reason_kind == NOT_BUILT:
        return f"{NOT_BUILT_LABEL}: {delivery.error}" if delivery.error else NOT_BUILT_LABEL
    return delivery.error or ""


def _row(delivery: Delivery) -> dict[str, Any]:
    return {"recipient": delivery.recipient, "outcome": outcome(delivery),
            "at": to_short_local(delivery.updated_at, seconds=True),
            "message_id": delivery.message_id or "", "reply": reason(delivery),
            "not_built": delivery.reason_kind == NOT_BUILT}


def not_built_count(task_id: int) -> int:
    """How many of the task's recipients were refused because their message could not be
    made (a resend leaves them out)."""
    return db.session.scalar(db.select(db.func.count()).where(
        Delivery.task_id == task_id, Delivery.status == REFUSED,
        Delivery.reason_kind == NOT_BUILT))


@bp.get("/tasks/<id:task_id>")
def detail(task_id: int) -> str:
    """The task and its recipients (paged), live while it is unfinished, with its chart."""
    task = Task.owned_or_404(task_id, current_user.username)
    page = db.paginate(_recipients(task.id), page=page_number(), per_page=PER_PAGE,
                       error_out=True)
    resends = list(db.session.scalars(db.select(Task.id).where(Task.resent_from == task.id)))
    # The template's name from the task's snapshot (tasks from before snapshots: job args).
    template = (task.template or {}).get("name") or ((task.job_args or {}).get("args")
                                                     or [""])[0]
    counts = charts.task_counts(task.id)
    return render_template(
        "tasks_ui/detail.html", task=task, page=page, rows=map(_row, page),
        template_name=template, resends=resends, labels=labels,
        suppressed=counts.get("suppressed", 0), not_built=counts.get(NOT_BUILT, 0),
        split=charts.split(counts),
        timeline=charts.timeline(charts.task_events(task.id),
                                 lambda t: to_short_local(t, seconds=True)))


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
    """Every recipient of the task with its outcome, as CSV: UTF-8 with a BOM (Excel on a
    Korean Windows reads it right), times in ISO 8601 with the user's offset."""
    task = Task.owned_or_404(task_id, current_user.username)
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(["email", "outcome", "at", "message_id", "reply", "reason_kind"])
    for d in db.session.scalars(_recipients(task.id)):
        writer.writerow([_cell(v) for v in (
            d.recipient, outcome(d), iso_local(d.updated_at), d.message_id or "",
            reason(d), d.reason_kind or "")])
    return Response(out.getvalue().encode("utf-8"), mimetype="text/csv",
                    headers={"Content-Disposition":
                             f'attachment; filename="task-{task.id}-recipients.csv"'})


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
        flash(f"{exc}{_skipped(task.id, status)}", "warning")
        return back
    except ValueError as exc:
        flash(str(exc), "danger")
        return back
    except EnqueueError:
        flash(f"Task#{task.id}의 다시 보내기를 시작하지 못했습니다.", "danger")
        return back
    except QueueFull as full:
        flash(f"Task#{task.id}의 받는 사람 {full.task.recipient_count}명에게 다시 보내기를 "
              f"접수했습니다 (Task#{full.task.id}). {QUEUE_FULL}{_skipped(task.id, status)}",
              "warning")
        return redirect(url_for("tasks.detail", task_id=full.task.id))
    flash(f"Task#{task.id}의 받는 사람 {new.recipient_count}명에게 다시 보냅니다 "
          f"(Task#{new.id}).{_skipped(task.id, status)}", "success")
    return redirect(url_for("tasks.detail", task_id=new.id))


def _skipped(task_id: int, status: str) -> str:
    """What a resend of the refused said about those whose message could not be made."""
    count = not_built_count(task_id) if status == REFUSED else 0
    return (f" 메일을 만들지 못한 {count}명은 같은 템플릿으로는 다시 만들 수 없어 뺐습니다. "
            "템플릿을 고친 뒤 보내기 화면에서 보내세요." if count else "")
