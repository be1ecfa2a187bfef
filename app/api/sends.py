"""``/api/v1/sends``: make a send (idempotent with ``Idempotency-Key``), list and read the
caller's sends and their recipients, and the controls of the task pages — all through
TaskService, as the send form and the task pages do, under the same quotas and ownership."""

from __future__ import annotations

from typing import Any

from flask import current_app, json, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from app.api import bp
from app.api.auth import per_token, token
from app.api.idempotency import check_key, idempotent
from app.api.openapi import doc
from app.api.payload import invalid, plan, send_at
from app.api.present import recipient_json, task_json
from app.api.problems import Problem
from app.extensions import db, limiter
from app.models import Task
from app.tasks.quota import QuotaExceeded
from app.tasks.service import EnqueueError, QueueFull, TaskService
from app.tasks_ui.detail import searched
from app.tasks_ui.routes import filtered
from app.utils.datetime_converter import zone
from app.views import window

SEND = "send_mail"  # the tasks the API shows: sends (a list's import is not one)
PER_PAGE, MAX_PER_PAGE = 20, 100
Answer = tuple[dict[str, Any], int]


def _send_limit() -> str:
    return current_app.config["RATELIMIT_SEND"]


def _body() -> dict[str, Any]:
    if not request.is_json:
        raise Problem("unsupported-media-type", _("Content-Type: application/json 본문이 "
                                                  "필요합니다."))
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise invalid(_("본문은 JSON 객체여야 합니다."))
    return body


def _make(body: dict[str, Any]) -> Answer:
    """The send of ``body`` for the caller: the task and 201, or a problem."""
    username = current_user.username
    when = send_at(body.get("send_at"))
    checked = plan(body, username)
    try:
        task = TaskService(username).send(checked.mailing(), when)
    except QuotaExceeded as exc:
        raise Problem("quota-exceeded", str(exc)) from None
    except ValueError as exc:  # a time outside the reservation window
        raise invalid(str(exc), "send_at") from None
    except EnqueueError as exc:
        raise Problem("queue-unavailable", _("작업을 만들었지만 대기열에 넣지 못해 실패로 "
                                             "끝났습니다."), task=exc.task.id) from None
    except QueueFull as exc:  # waits: the reconciler hands it over when Redis takes it
        task = exc.task
    return task_json(task), 201


@bp.post("/sends")
@limiter.limit(_send_limit, key_func=per_token, override_defaults=False)
@doc("post", "Send now or reserve", "SendRequest", {201: "Task", 200: "Task"},
     problems=(401, 409, 415, 422, 429, 503),
     headers=("Idempotency-Key",))
def create_send() -> Response | Answer | tuple[dict[str, Any], int, dict[str, str]]:
    """Make a send; with ``Idempotency-Key`` a retry gets the first answer."""
    body = _body()
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return _make(body)
    answer, status, replayed = idempotent(token().id, check_key(key), body,
                                          lambda: _make(body))
    headers = {"Idempotent-Replayed": "true" if replayed else "false"}
    if status >= 400:  # the first answer was a problem that left a task: the same again
        return Response(json.dumps(answer), status, headers,
                        mimetype="application/problem+json")
    return answer, status, headers


def _page_size() -> int:
    raw = request.args.get("per_page", str(PER_PAGE))
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PER_PAGE:
        raise invalid(_("per_page는 1에서 %(max)s 사이여야 합니다.", max=MAX_PER_PAGE),
                      "per_page")
    return int(raw)


def _next(page: Any, endpoint: str, **values: Any) -> str | None:
    if not page.has_next:
        return None
    args = {k: v for k, v in request.args.items() if k != "page"}
    return url_for(endpoint, **values, **args, page=page.page + 1, _external=True)


@bp.get("/sends")
@doc("get", "The caller's sends, newest first, filtered as the history page", None,
     {200: "TaskPage"}, problems=(401, 404, 422, 429),
     query=("page", "per_page", "status", "from", "to", "q", "tz"))
def list_sends() -> Answer:
    """The caller's sends, paged and filtered (``status``, ``from``, ``to``, ``q``)."""
    query = (db.select(Task).where(Task.username == current_user.username, Task.name == SEND)
             .order_by(Task.created_at.desc(), Task.id.desc()))
    tz = zone(request.args.get("tz"), current_app.config["APP_TIMEZONE"]).key
    query, errors = filtered(query, request.args, tz)
    if errors:
        raise invalid(" ".join(errors))
    page = window(query, _page_size())
    return {"items": [task_json(task) for task in page.items], "page": page.page,
            "next": _next(page, "api.list_sends")}, 200


def _owned(task_id: int) -> Task:
    """The caller's send ``task_id``; anyone else's (or none) is a 404."""
    task = db.session.scalar(db.select(Task).filter_by(
        id=task_id, username=current_user.username, name=SEND))
    if task is None:
        raise Problem("not-found", _("보내기 %(id)s을(를) 찾을 수 없습니다.", id=task_id))
    return task


@bp.get("/sends/<id:task_id>")
@doc("get", "One send", None, {200: "Task"}, problems=(401, 404, 429))
def get_send(task_id: int) -> Answer:
    """One send of the caller."""
    return task_json(_owned(task_id)), 200


@bp.get("/sends/<id:task_id>/recipients")
@doc("get", "A send's recipients and their outcomes, in order", None,
     {200: "RecipientPage"}, problems=(401, 404, 422, 429),
     query=("page", "per_page", "q", "outcome"))
def send_recipients(task_id: int) -> Answer:
    """A page of the send's recipients with each one's outcome."""
    task = _owned(task_id)
    query, _, errors = searched(task.id, request.args)
    if errors:
        raise invalid(" ".join(errors), "outcome")
    page = window(query, _page_size())
    return {"items": [recipient_json(row) for row in page.items], "page": page.page,
            "next": _next(page, "api.send_recipients", task_id=task.id)}, 200


from app.api import controls  # noqa: E402,F401  (the control routes)
