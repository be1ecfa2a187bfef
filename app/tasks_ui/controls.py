"""The controls of a task's alert (small POST forms, or the page's script asking for
JSON): cancel, cancel a reservation, reschedule, send now, pause and resume. A control
answers at once: done (200), asked and not done yet (202: the job stops between two
messages), or refused (409; for a task that has already ended, information: 200 with
``ok`` false and ``ended`` true). A cancel of
a send under way, posted by a browser page without ``confirm=1``, first answers a page that
asks (the page's script asks in the alert itself and sends ``confirm=1``)."""

from __future__ import annotations

from flask import render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from app.extensions import db
from app.filters import local_text
from app.models import Task
from app.models.task import CANCELED, FINISHED, RESERVED, RUNNING
from app.tasks.service import QUEUE_FULL, QueueFull, TaskService
from app.tasks_ui import bp
from app.utils.datetime_converter import parse_local_datetime
from app.views import control_answer, remember_zone

Answer = Response | tuple[dict[str, object], int] | tuple[str, int]


def _answer(ok: bool, message: str, state: str | None = None,
            pending: bool = False) -> Answer:
    """A control's outcome; without JSON, back to the send page, where the controls are."""
    return control_answer(ok, message, url_for("mail_ui.send_mail"), state, pending)


def _owned(task_id: int) -> Task:
    return Task.owned_or_404(task_id, current_user.username)


def _wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


def _refused(task: Task, message: str) -> Answer:
    """A refusal. For a task that has already ended the page's script hears it as
    information (it is over: nothing to do), not as an error."""
    db.session.refresh(task)
    if task.status in (FINISHED, CANCELED) and _wants_json():
        return {"ok": False, "ended": True, "state": task.status, "category": "info",
                "message": message}, 200
    return _answer(False, message)


def _must_ask(task: Task) -> bool:
    """A cancel that cannot be undone (the send is under way), posted by a page in a
    browser (a navigation: no script asked first) without ``confirm=1``. Programs and
    the page's script, which asks in the alert, are answered at once."""
    return (task.status == RUNNING and request.form.get("confirm") != "1"
            and not _wants_json() and request.headers.get("Sec-Fetch-Mode") == "navigate")


def _cancel(task_id: int, reservation: bool) -> Answer:
    task = _owned(task_id)
    if _must_ask(task):
        return render_template("tasks_ui/confirm.html", task=task,
                               action=request.path), 200
    service = TaskService(current_user.username)
    cancel = service.cancel_reserve if reservation else service.cancel_task
    canceled = cancel(task.id)
    if canceled is None:
        return _refused(task, refused_message(task))
    if canceled.status == RUNNING:  # asked: it stops between two messages
        return _answer(True, _("Task#%(id)s %(name)s의 취소를 요청했습니다. 보내던 메시지를 "
                               "마치는 대로 멈춥니다.", id=task.id, name=task.name),
                       "canceling", pending=True)
    message = (_("예약 Task#%(id)s %(name)s가 취소되었습니다.", id=task.id, name=task.name)
               if reservation else
               _("Task#%(id)s %(name)s가 취소되었습니다.", id=task.id, name=task.name))
    if canceled.started_at is not None:
        message += " " + _("(%(total)s명 중 %(delivered)s명에게 전송됨)",
                           total=canceled.recipient_count,
                           delivered=canceled.delivered_count)
    return _answer(True, message, "canceled")


@bp.post("/tasks/<id:task_id>/cancel")
def cancel_task(task_id: int) -> Answer:
    """Cancel a queued or running send of the signed-in user."""
    return _cancel(task_id, reservation=False)


@bp.post("/tasks/<id:task_id>/cancel_reserve")
def cancel_reserve(task_id: int) -> Answer:
    """Cancel a reservation of the signed-in user (one that started is stopped)."""
    return _cancel(task_id, reservation=True)


def refused_message(task: Task) -> str:
    """SPEC's refusal for a task that had already ended."""
    return _("Task#%(id)s %(name)s가 이미 완료된 상태라 취소에 실패했습니다.", id=task.id,
             name=task.name)


@bp.post("/tasks/<id:task_id>/reschedule")
def reschedule(task_id: int) -> Answer:
    """Move a reservation of the signed-in user to another time."""
    task = _owned(task_id)
    zone_name = remember_zone(request.form.get("timezone"))
    try:
        when = parse_local_datetime(request.form.get("scheduled_time", ""), zone_name)
        moved = None
        if task.status == RESERVED:
            moved = TaskService(current_user.username).reschedule(task.id, when)
    except ValueError as exc:
        return _answer(False, str(exc))
    if moved is None:
        return _answer(False, _("Task#%(id)s %(name)s는 이미 예약 상태가 아니라 시각을 "
                                "바꿀 수 없습니다.", id=task.id, name=task.name))
    return _answer(True, _("예약 Task#%(id)s %(name)s의 전송 시각을 %(time)s(으)로 바꾸었습니다.",
                           id=task.id, name=task.name, time=local_text(when, zone_name)))


@bp.post("/tasks/<id:task_id>/send_now")
def send_now(task_id: int) -> Answer:
    """Send a reservation of the signed-in user right away."""
    task = _owned(task_id)
    queued = None
    try:
        if task.status == RESERVED:
            queued = TaskService(current_user.username).send_now(task.id)
    except ValueError as exc:  # over the quota: it stays reserved
        return _answer(False, str(exc))
    if queued is None:
        return _refused(task, _("Task#%(id)s %(name)s는 이미 예약 상태가 아닙니다.",
                                id=task.id, name=task.name))
    return _answer(True, _("예약 Task#%(id)s %(name)s를 지금 보냅니다.", id=task.id,
                           name=task.name))


@bp.post("/tasks/<id:task_id>/pause")
def pause(task_id: int) -> Answer:
    """Pause a queued or running send of the signed-in user."""
    task = _owned(task_id)
    paused = TaskService(current_user.username).pause_task(task.id)
    if paused is None:
        return _refused(task, _("Task#%(id)s %(name)s는 전송 대기 중이거나 전송 중일 때만 "
                                "일시 중지할 수 있습니다.", id=task.id, name=task.name))
    if paused.status == RUNNING:  # asked: it stops between two messages
        return _answer(True, _("Task#%(id)s %(name)s의 일시 중지를 요청했습니다. 보내던 "
                               "메시지를 마치는 대로 멈춥니다.", id=task.id, name=task.name),
                       "pausing", pending=True)
    return _answer(True, _("Task#%(id)s %(name)s를 일시 중지하였습니다 "
                           "(%(total)s명 중 %(delivered)s명에게 전송됨).", id=task.id,
                           name=task.name, total=paused.recipient_count,
                           delivered=paused.delivered_count), "paused")


@bp.post("/tasks/<id:task_id>/resume")
def resume(task_id: int) -> Answer:
    """Resume a paused send of the signed-in user: the recipients not yet served."""
    task = _owned(task_id)
    try:
        resumed = TaskService(current_user.username).resume_task(task.id)
    except ValueError as exc:  # over the quota: it stays paused
        return _answer(False, str(exc))
    except QueueFull:
        return _answer(True, _("Task#%(id)s %(name)s의 전송을 다시 시작합니다.", id=task.id,
                               name=task.name) + f" {QUEUE_FULL}", "queued")
    if resumed is None:
        return _refused(task, _("Task#%(id)s %(name)s는 일시 중지 상태가 아닙니다.",
                                id=task.id, name=task.name))
    return _answer(True, _("Task#%(id)s %(name)s의 전송을 다시 시작합니다.", id=task.id,
                           name=task.name))
