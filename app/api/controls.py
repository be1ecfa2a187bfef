"""``POST /api/v1/sends/<id>/cancel|pause|resume|send_now``: the task pages' controls, by
the same TaskService calls. Done: 200 with the task; asked and not done yet (a running
send stops between two messages): 202; not possible in the task's state: 409."""

from __future__ import annotations

from collections.abc import Callable

from flask_babel import gettext as _
from flask_login import current_user

from app.api import bp
from app.api.openapi import doc
from app.api.present import task_json
from app.api.problems import Problem
from app.api.sends import Answer, _owned
from app.models import Task
from app.models.task import RESERVED, RUNNING
from app.tasks.quota import QuotaExceeded
from app.tasks.service import QueueFull, TaskService

CONTROL_PROBLEMS = (401, 404, 409, 429)


def _control(task_id: int, act: Callable[[TaskService, int], Task | None],
             refusal: str) -> Answer:
    """Run a control on the caller's send; its task, or a 409 saying why not."""
    task = _owned(task_id)
    try:
        done = act(TaskService(current_user.username), task.id)
    except QuotaExceeded as exc:
        raise Problem("quota-exceeded", str(exc)) from None
    except QueueFull as exc:  # resumed; queued as soon as Redis takes it
        return task_json(exc.task), 202
    if done is None:
        raise Problem("conflict", _("작업 #%(id)s: %(reason)s", id=task.id, reason=refusal),
                      status_now=task.status)
    return task_json(done), 202 if done.status == RUNNING else 200


@bp.post("/sends/<id:task_id>/cancel")
@doc("post", "Cancel a waiting, reserved, paused or running send", None,
     {200: "Task", 202: "Task"}, problems=CONTROL_PROBLEMS)
def cancel_send(task_id: int) -> Answer:
    """Cancel the send (a running one stops between two messages: 202)."""
    return _control(task_id, lambda s, i: s.cancel_task(i), _("이미 끝나 취소할 수 없습니다."))


@bp.post("/sends/<id:task_id>/pause")
@doc("post", "Pause a queued or running send", None, {200: "Task", 202: "Task"},
     problems=CONTROL_PROBLEMS)
def pause_send(task_id: int) -> Answer:
    """Pause the send (a running one stops between two messages: 202)."""
    return _control(task_id, lambda s, i: s.pause_task(i),
                    _("전송 대기 중이거나 전송 중일 때만 일시 중지할 수 있습니다."))


@bp.post("/sends/<id:task_id>/resume")
@doc("post", "Resume a paused send", None, {200: "Task", 202: "Task"},
     problems=CONTROL_PROBLEMS)
def resume_send(task_id: int) -> Answer:
    """Resume a paused send for the recipients not yet served."""
    return _control(task_id, lambda s, i: s.resume_task(i), _("일시 중지 상태가 아닙니다."))


def _send_now(service: TaskService, task_id: int) -> Task | None:
    task = _owned(task_id)
    return service.send_now(task_id) if task.status == RESERVED else None


@bp.post("/sends/<id:task_id>/send_now")
@doc("post", "Send a reservation now", None, {200: "Task"}, problems=CONTROL_PROBLEMS)
def send_now_send(task_id: int) -> Answer:
    """Send a reserved send at once (charged to the quota now)."""
    return _control(task_id, _send_now, _("예약 상태가 아닙니다."))
