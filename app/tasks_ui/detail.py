"""One task in detail: every recipient with its outcome (live while it runs), searched by
address and outcome, and a resend to those that failed or are in doubt (the CSV download
is in exports.py). Nothing here is proportional to the task's size in Python: the page
reads one page of rows, and its counts and chart are aggregated by the database."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app import labels
from app.extensions import db
from app.filters import to_short_local
from app.i18n import N_
from app.models import Delivery, Task
from app.models.task import (
    BOUNCED,
    DELIVERED,
    NOT_BUILT,
    PENDING,
    REFUSED,
    SENDING,
    SUPPRESSED,
    UNKNOWN,
)
from app.tasks.service import QUEUE_FULL, EnqueueError, QueueFull, TaskService
from app.tasks_ui import bp, charts

# exports also serves the CSV download (its route is registered on import).
from app.tasks_ui.exports import outcome, reason
from app.utils.text import like_pattern
from app.views import page_number, window

PER_PAGE = 100
WHICH = {"failed": REFUSED, "unknown": UNKNOWN}
# The search's outcomes (SPEC's data-outcome) and the statuses each stands for.
OUTCOME_STATUSES = {"delivered": (DELIVERED,), "refused": (REFUSED,),
                    "pending": (PENDING, SENDING), "unknown": (UNKNOWN,),
                    "suppressed": (SUPPRESSED,), "bounced": (BOUNCED,)}
MAX_QUERY = 200  # characters of a search kept
TIMELINE_LATER = N_("보내기가 끝나면 시간에 따른 전송을 그립니다.")


def outcome_choices() -> list[tuple[str, str]]:
    """The search's outcome choices: (value, words), 모두 first."""
    return [("", labels.ANY_STATUS_LABEL),
            *((value, labels.outcome_text(value)) for value in OUTCOME_STATUSES)]


def searched(task_id: int, args: Mapping[str, str]) -> tuple[Any, dict[str, str], list[str]]:
    """The task's recipients in order, narrowed by ``q`` (text in the address, any case)
    and ``outcome``; the filters kept (for links) and what could not be read."""
    query = db.select(Delivery).where(Delivery.task_id == task_id)
    filters, errors = {}, []
    text = args.get("q", "").strip()[:MAX_QUERY]
    if text:
        # lower() LIKE, not ILIKE: the same for addresses, and half the time on PostgreSQL
        # (a search reads every recipient of the task: 50 against 95 ms at 97,500)
        query = query.where(db.func.lower(Delivery.recipient).like(
            like_pattern(text.lower()), escape="\\"))
        filters["q"] = text
    chosen = args.get("outcome", "")
    if chosen in OUTCOME_STATUSES:
        query = query.where(Delivery.status.in_(OUTCOME_STATUSES[chosen]))
        filters["outcome"] = chosen
    elif chosen:
        errors.append(_("알 수 없는 결과입니다: %(value)s", value=chosen[:20]))
    return query.order_by(Delivery.position, Delivery.id), filters, errors


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
    """The task and its recipients (paged, searched), live while it is unfinished, with its
    charts."""
    task = Task.owned_or_404(task_id, current_user.username)
    query, filters, errors = searched(task.id, request.args)
    page = _page(task, query, filters)
    resends = list(db.session.scalars(db.select(Task.id).where(Task.resent_from == task.id)))
    # The template's name from the task's snapshot (tasks from before snapshots: job args).
    template = (task.template or {}).get("name") or ((task.job_args or {}).get("args")
                                                     or [""])[0]
    counts = charts.running_counts(task) if task.is_unfinished else charts.task_counts(task.id)
    return render_template(
        "tasks_ui/detail.html", task=task, page=page, rows=map(_row, page),
        template_name=template, resends=resends, labels=labels,
        filters=filters, errors=errors, outcomes=outcome_choices(),
        suppressed=counts.get("suppressed", 0), not_built=counts.get(NOT_BUILT, 0),
        split=charts.split(counts),
        timeline=_timeline(task))


def _timeline(task: Task) -> charts.Chart:
    """The task's deliveries over time, once it has ended (the page is drawn again then):
    while it sends, no pass over its rows on each look."""
    if task.is_unfinished:
        return charts.Chart(summary=_(TIMELINE_LATER))
    return charts.timeline(charts.task_bins(task.id), lambda t: to_short_local(t, seconds=True))


def _page(task: Task, query: Any, filters: dict[str, str]) -> Any:
    """One page of the task's recipients, without a COUNT over a big task's rows each time
    the page or its script looks: unsearched, its total is the task's own count of
    recipients; searched, the page knows only whether another follows."""
    if filters:
        return window(query, PER_PAGE)  # a search: no COUNT of its matches
    page = db.paginate(query, page=page_number(), per_page=PER_PAGE, error_out=False,
                       count=False)
    taken = task.list_id is None or task.recipients_taken_at is not None
    page.total = task.recipient_count if taken else 0
    if page.page > 1 and not page.items:
        abort(404)
    return page


@bp.get("/tasks/<id:task_id>/recipients.json")
def recipients_json(task_id: int) -> dict[str, Any]:
    """One page of recipients as the detail page's script reads it (searched as the page
    is: the same ``q`` and ``outcome``)."""
    task = Task.owned_or_404(task_id, current_user.username)
    query, filters, _ = searched(task.id, request.args)
    page = _page(task, query, filters)
    return {"status": task.status, "unfinished": task.is_unfinished,
            "delivered": task.delivered_count, "total": task.recipient_count,
            "recipients": [_row(d) for d in page]}


@bp.post("/tasks/<id:task_id>/resend")
def resend(task_id: int) -> Response:
    """A new task for exactly the task's refused (``which=failed``) or unknown recipients."""
    task = Task.owned_or_404(task_id, current_user.username)
    status = WHICH.get(request.form.get("which", ""))
    back = redirect(url_for("tasks.detail", task_id=task.id))
    if status is None or task.job_func is None:
        flash(_("다시 보낼 대상을 고르세요 (failed 또는 unknown)."), "danger")
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
        flash(_("작업 #%(id)s의 다시 보내기를 시작하지 못했습니다.", id=task.id), "danger")
        return back
    except QueueFull as full:
        flash(_("작업 #%(id)s의 받는 사람 %(count)s명에게 다시 보내기를 접수했습니다 "
                "(작업 #%(new_id)s). %(queue_full)s", id=task.id,
                count=full.task.recipient_count, new_id=full.task.id, queue_full=QUEUE_FULL)
              + _skipped(task.id, status), "warning")
        return redirect(url_for("tasks.detail", task_id=full.task.id))
    flash(_("작업 #%(id)s의 받는 사람 %(count)s명에게 다시 보냅니다 (작업 #%(new_id)s).",
            id=task.id, count=new.recipient_count, new_id=new.id)
          + _skipped(task.id, status), "success")
    return redirect(url_for("tasks.detail", task_id=new.id))


def _skipped(task_id: int, status: str) -> str:
    """What a resend of the refused said about those whose message could not be made."""
    count = not_built_count(task_id) if status == REFUSED else 0
    return (" " + _("메일을 만들지 못한 %(count)s명은 같은 템플릿으로는 다시 만들 수 없어 "
                    "뺐습니다. 템플릿을 고친 뒤 보내기 화면에서 보내세요.", count=count)
            if count else "")
