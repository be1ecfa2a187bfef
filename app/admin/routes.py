"""The operator view: queues, workers, the scheduler, and the jobs that need a decision."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from app.admin import bp, rqview
from app.extensions import db
from app.models import Task, User
from app.models.types import utcnow
from app.queue import queues
from app.tasks.quota import WINDOW

# Why a job is listed for a decision (rqview's ``kind``), in words.
JOB_KINDS = {
    "scheduled": _l("예약됨"),
    "failed": _l("실패"),
    "abandoned": _l("버려짐"),
}
# What RQ says a worker is doing (``WorkerStatus``), in words.
WORKER_STATES = {
    "started": _l("시작됨"),
    "suspended": _l("멈춤"),
    "busy": _l("일하는 중"),
    "idle": _l("쉬는 중"),
}


def _word(words: dict[str, object], key: object) -> str:
    """The words for ``key`` (RQ's enum or its value; an unknown one as it is)."""
    value = str(getattr(key, "value", key) or "")
    return str(words.get(value, value))


def job_kind(kind: str) -> str:
    """Why a job is listed, in words."""
    return _word(JOB_KINDS, kind)


def worker_state(state: object) -> str:
    """What a worker is doing, in words."""
    return _word(WORKER_STATES, state)


@bp.get("/")
def index() -> str:
    """Queues with depth, live workers, the scheduler's holder, scheduled, failed and
    abandoned jobs."""
    return render_template("admin/index.html", **rqview.overview(queues()),
                           accounts=_accounts(),
                           job_kind=job_kind, worker_state=worker_state)


def _accounts() -> list[dict[str, object]]:
    """Each account with its daily recipient limit and what it used in the last 24 hours."""
    default = int(current_app.config["QUOTA_RECIPIENTS_PER_DAY"])
    since = utcnow() - WINDOW
    used = dict(db.session.execute(
        db.select(Task.username, db.func.sum(Task.charged))
        .where(Task.charged_at > since).group_by(Task.username)).all())
    return [{"name": u.username, "admin": u.is_admin, "own": u.recipients_per_day is not None,
             "limit": u.recipients_per_day if u.recipients_per_day is not None else default,
             "used": int(used.get(u.username) or 0)}
            for u in db.session.scalars(db.select(User).order_by(User.username))]


@bp.post("/jobs/<id:job_id>/requeue")
def requeue(job_id: int) -> Response:
    """Run a failed or abandoned task again for its recipients still pending."""
    if rqview.requeue(queues(), str(job_id)):
        flash(_("작업 %(id)s을(를) 다시 대기열에 넣었습니다.", id=job_id), "success")
    else:
        flash(_("작업 %(id)s은(는) 다시 넣을 수 없습니다.", id=job_id), "danger")
    return redirect(url_for("admin.index"))


@bp.post("/jobs/<id:job_id>/delete")
def delete(job_id: int) -> Response | str:
    """Delete a job from Redis (its unfinished Task ends failed) once confirmed: without
    ``confirm=1`` the answer is a page asking first (works without JavaScript)."""
    if request.form.get("confirm") != "1":
        task = db.session.get(Task, job_id)
        return render_template("admin/confirm_delete.html", job_id=job_id, task=task)
    rqview.delete(queues(), str(job_id))
    flash(_("작업 %(id)s을(를) 지웠습니다.", id=job_id), "success")
    return redirect(url_for("admin.index"))
