"""Send-page views: the form, and what it posts."""

from __future__ import annotations

from typing import Any

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from app.extensions import limiter
from app.filters import local_text
from app.mail.jobs import send_mail as send_mail_job
from app.mail.recipients import display
from app.mail.render import render_mail, sender_name
from app.mail_ui import bp
from app.mail_ui.forms import SendMailForm
from app.mail_ui.plan import plan_send
from app.models import MailTemplate, Suppression, Task
from app.models.task import IN_PROGRESS, RESERVED, RUNNING
from app.security import per_user
from app.tasks.service import QUEUE_FULL, EnqueueError, QueueFull, TaskService
from app.utils.datetime_converter import parse_local_datetime, zone


def _form() -> SendMailForm:
    form = SendMailForm()
    form.template_name.choices = [(t.name, t.title)
                                  for t in MailTemplate.visible_to(current_user.username)]
    if request.method == "GET" and request.args.get("template"):
        form.template_name.data = request.args["template"]  # "send with this template"
    if not form.timezone.data:
        form.timezone.data = current_app.config["APP_TIMEZONE"]
    return form


# The id the page's alert <template> carries; the script swaps in a real task id.
PLACEHOLDER_ID = 987654321


def _placeholder_task() -> Task:
    return Task(id=PLACEHOLDER_ID, name="send_mail", description="", status="queued",
                progress=0, delivered_count=0, recipient_count=0, failed=False)


def _back() -> Response:
    return redirect(url_for("mail_ui.send_mail"))


@bp.get("/send_mail")
def send_mail() -> str:
    """The send form and the user's live tasks."""
    username = current_user.username
    return render_template(
        "mail_ui/send_mail.html",
        form=_form(),
        in_progress=Task.of_user(username, IN_PROGRESS),
        reserved=Task.of_user(username, (RESERVED,)),
        placeholder_task=_placeholder_task(),
    )


def _zone_name(raw: str | None) -> str:
    """The browser's zone when it is a real IANA name, else APP_TIMEZONE; remembered."""
    name = zone(raw, current_app.config["APP_TIMEZONE"]).key
    session["timezone"] = name
    return name


def _send_limit() -> str:
    return current_app.config["RATELIMIT_SEND"]


@bp.post("/send_mail")
@limiter.limit(_send_limit, key_func=per_user)
def send_mail_post() -> Response:
    """Send now or reserve: check the whole plan, then hand the job to TaskService."""
    form = _form()
    template_name = (form.template_name.data or "")[:64]
    shown = (form.recipient.data or "").strip()[:200]
    try:
        plan = plan_send(form, current_user.username)
        shown = display(plan.addresses)
        zone_name = _zone_name(form.timezone.data)
        count = len(plan.addresses)
        job = (send_mail_job, template_name, current_user.username)
        # RQ's default 180 s would kill a long batch on a slow server part way.
        options = {"recipients": plan.addresses, "fields": plan.recipients.fields,
                   "template": plan.template.snapshot(), "timeout": 300 + 5 * count,
                   "description": f"[{template_name}] 템플릿 메일을 {count}명에게 전송"}
        if form.is_scheduled.data:
            when = parse_local_datetime(form.scheduled_time.data or "", zone_name)
            TaskService(current_user.username).reserve_task(when, *job, **options)
            message = (f"[{shown}]에게 [{template_name}] 템플릿 메일 전송을 "
                       f"예약({local_text(when, zone_name)})하였습니다.")
        else:
            TaskService(current_user.username).enqueue_task(*job, **options)
            message = f"[{shown}]에게 [{template_name}] 템플릿 메일을 전송하였습니다."
    except ValueError as exc:
        flash(str(exc), "danger")
    except EnqueueError:
        flash(f"[{shown}]에게 [{template_name}] 템플릿 메일 전송을 실패하였습니다.", "danger")
    except QueueFull:
        flash(f"[{shown}]에게 [{template_name}] 템플릿 메일 전송을 접수했습니다. {QUEUE_FULL}",
              "warning")
    else:
        flash(message, "success")
        if skipped := Suppression.among(current_user.username, plan.addresses):
            flash(f"받는 사람 중 {skipped}명은 수신 거부 목록에 있어 보내지 않습니다 "
                  "(보낼 때 다시 확인합니다).", "info")
    return _back()


def _preview_limit() -> str:
    return current_app.config["RATELIMIT_PREVIEW"]


@bp.post("/send_mail/preview")
@limiter.limit(_preview_limit, key_func=per_user)
def preview() -> tuple[dict[str, Any], int]:
    """The mail recipient ``index`` would get, rendered as the worker will; queues nothing."""
    form = _form()
    try:
        plan = plan_send(form, current_user.username)
        count = len(plan.addresses)
        index = min(max(int(request.form.get("index") or 0), 0), count - 1)
        mail = render_mail(plan.template.snapshot(),
                           plan.context(index, sender_name(current_user.username)))
    except ValueError as exc:
        return {"error": str(exc)}, 400
    return {"subject": mail.subject, "text": mail.text, "html": mail.html or "",
            "recipient": plan.addresses[index], "index": index, "count": count}, 200


def _answer(ok: bool, message: str, state: str | None = None,
            pending: bool = False) -> Response | tuple[dict[str, object], int]:
    """The outcome of a task control: JSON for the page's script (200 done, 202 asked and
    not done yet, 409 refused), else flash and go back."""
    category = "info" if pending else "success" if ok else "danger"
    if request.accept_mimetypes.best == "application/json":
        body: dict[str, object] = {"ok": ok, "message": message, "category": category}
        if state:
            body["state"] = state
        if pending:
            body["pending"] = True
        return body, 202 if pending else 200 if ok else 409
    flash(message, category)
    return _back()


def _owned(task_id: int) -> Task:
    return Task.owned_or_404(task_id, current_user.username)


def _cancel(task_id: int, reservation: bool) -> Response | tuple[dict[str, object], int]:
    task = _owned(task_id)
    service = TaskService(current_user.username)
    cancel = service.cancel_reserve if reservation else service.cancel_task
    canceled = cancel(task.id)
    if canceled is None:
        return _answer(False, refused_message(task))
    if canceled.status == RUNNING:  # asked: it stops between two messages
        return _answer(True, f"Task#{task.id} {task.name}의 취소를 요청했습니다. 보내던 메시지를 "
                             "마치는 대로 멈춥니다.", "canceling", pending=True)
    message = f"{'예약 ' if reservation else ''}Task#{task.id} {task.name}가 취소되었습니다."
    if canceled.started_at is not None:
        message += (f" ({canceled.recipient_count}명 중 {canceled.delivered_count}명에게 "
                    "전송됨)")
    return _answer(True, message, "canceled")


@bp.post("/tasks/<id:task_id>/cancel")
def cancel_task(task_id: int) -> Response | tuple[dict[str, object], int]:
    """Cancel a queued or running send of the signed-in user."""
    return _cancel(task_id, reservation=False)


@bp.post("/tasks/<id:task_id>/cancel_reserve")
def cancel_reserve(task_id: int) -> Response | tuple[dict[str, object], int]:
    """Cancel a reservation of the signed-in user (one that started is stopped)."""
    return _cancel(task_id, reservation=True)


def refused_message(task: Task) -> str:
    """SPEC's refusal for a task that had already ended."""
    return f"Task#{task.id} {task.name}가 이미 완료된 상태라 취소에 실패했습니다."


@bp.post("/tasks/<id:task_id>/reschedule")
def reschedule(task_id: int) -> Response | tuple[dict[str, object], int]:
    """Move a reservation of the signed-in user to another time."""
    task = _owned(task_id)
    zone_name = _zone_name(request.form.get("timezone"))
    try:
        when = parse_local_datetime(request.form.get("scheduled_time", ""), zone_name)
        moved = None
        if task.status == RESERVED:
            moved = TaskService(current_user.username).reschedule(task.id, when)
    except ValueError as exc:
        return _answer(False, str(exc))
    if moved is None:
        return _answer(False, f"Task#{task.id} {task.name}는 이미 예약 상태가 아니라 시각을 "
                              "바꿀 수 없습니다.")
    return _answer(True, f"예약 Task#{task.id} {task.name}의 전송 시각을 "
                         f"{local_text(when, zone_name)}(으)로 바꾸었습니다.")


@bp.post("/tasks/<id:task_id>/send_now")
def send_now(task_id: int) -> Response | tuple[dict[str, object], int]:
    """Send a reservation of the signed-in user right away."""
    task = _owned(task_id)
    queued = None
    try:
        if task.status == RESERVED:
            queued = TaskService(current_user.username).send_now(task.id)
    except ValueError as exc:  # over the quota: it stays reserved
        return _answer(False, str(exc))
    if queued is None:
        return _answer(False, f"Task#{task.id} {task.name}는 이미 예약 상태가 아닙니다.")
    return _answer(True, f"예약 Task#{task.id} {task.name}를 지금 보냅니다.")


@bp.post("/tasks/<id:task_id>/pause")
def pause(task_id: int) -> Response | tuple[dict[str, object], int]:
    """Pause a queued or running send of the signed-in user."""
    task = _owned(task_id)
    paused = TaskService(current_user.username).pause_task(task.id)
    if paused is None:
        return _answer(False, f"Task#{task.id} {task.name}는 전송 대기 중이거나 전송 중일 때만 "
                              "일시 중지할 수 있습니다.")
    if paused.status == RUNNING:  # asked: it stops between two messages
        return _answer(True, f"Task#{task.id} {task.name}의 일시 중지를 요청했습니다. 보내던 "
                             "메시지를 마치는 대로 멈춥니다.", "pausing", pending=True)
    return _answer(True, f"Task#{task.id} {task.name}를 일시 중지하였습니다 "
                         f"({paused.recipient_count}명 중 {paused.delivered_count}명에게 전송됨).",
                   "paused")


@bp.post("/tasks/<id:task_id>/resume")
def resume(task_id: int) -> Response | tuple[dict[str, object], int]:
    """Resume a paused send of the signed-in user: the recipients not yet served."""
    task = _owned(task_id)
    try:
        resumed = TaskService(current_user.username).resume_task(task.id)
    except ValueError as exc:  # over the quota: it stays paused
        return _answer(False, str(exc))
    except QueueFull:
        return _answer(True, f"Task#{task.id} {task.name}의 전송을 다시 시작합니다. {QUEUE_FULL}",
                       "queued")
    if resumed is None:
        return _answer(False, f"Task#{task.id} {task.name}는 일시 중지 상태가 아닙니다.")
    return _answer(True, f"Task#{task.id} {task.name}의 전송을 다시 시작합니다.")
