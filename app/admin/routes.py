"""The operator view: queues, workers, the scheduler, and the jobs that need a decision."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from app.admin import bp, rqview
from app.extensions import db
from app.models import Task, User
from app.models.types import utcnow
from app.queue import queues
from app.tasks.quota import WINDOW


@bp.get("/")
def index() -> str:
    """Queues with depth, live workers, the scheduler's holder, scheduled, failed and
    abandoned jobs."""
    return render_template("admin/index.html", **rqview.overview(queues()),
                           accounts=_accounts())


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
        flash(f"작업 {job_id}을(를) 다시 대기열에 넣었습니다.", "success")
    else:
        flash(f"작업 {job_id}은(는) 다시 넣을 수 없습니다.", "danger")
    return redirect(url_for("admin.index"))


@bp.post("/jobs/<id:job_id>/delete")
def delete(job_id: int) -> Response | str:
    """Delete a job from Redis (its unfinished Task ends failed) once confirmed: without
    ``confirm=1`` the answer is a page asking first (works without JavaScript)."""
    if request.form.get("confirm") != "1":
        task = db.session.get(Task, job_id)
        return render_template("admin/confirm_delete.html", job_id=job_id, task=task)
    rqview.delete(queues(), str(job_id))
    flash(f"작업 {job_id}을(를) 지웠습니다.", "success")
    return redirect(url_for("admin.index"))
