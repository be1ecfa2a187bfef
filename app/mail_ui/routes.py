"""Send-page views: the form, and what it posts."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial
from typing import Any

from flask import (
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import escape
from werkzeug.wrappers import Response

from app.extensions import db, limiter
from app.filters import local_text
from app.i18n import current_language
from app.mail.render import RenderedMail, render_mail, sender_name
from app.mail_ui import bp
from app.mail_ui.draft import LAST_TEMPLATE, aria_attrs, keep, take
from app.mail_ui.forms import SendMailForm
from app.mail_ui.plan import SendPlan, plan_send, plan_when
from app.models import MailingList, MailTemplate, Suppression, Task
from app.models.task import CANCELED, FINISHED, IN_PROGRESS, RESERVED
from app.models.types import utcnow
from app.security import MAIL_HTML_POLICY, per_user
from app.tasks.service import QUEUE_FULL, EnqueueError, QueueFull, TaskService

JUST_SENT = "send_just_sent"  # the task of the last send: its alert is shown and focused


def _form() -> SendMailForm:
    form = SendMailForm()
    form.template_name.choices = [(t.name, t.title)
                                  for t in MailTemplate.visible_to(current_user.username)]
    form.list_id.choices = [("", NO_LIST)] + [
        (str(m.id), m.name) for m in MailingList.of_owner(current_user.username)]
    if request.method == "GET":
        # "send with this template", else the template of the last send
        chosen = request.args.get("template") or session.get(LAST_TEMPLATE)
        if chosen:
            form.template_name.data = chosen
        form.list_id.data = request.args.get("list_id", "")  # "send to this list"
    if not form.timezone.data:
        form.timezone.data = current_app.config["APP_TIMEZONE"]
    return form


NO_LIST = _l("목록 없이 (위에 입력한 받는 사람에게)")
# The id the page's alert <template> carries; the script swaps in a real task id.
PLACEHOLDER_ID = 987654321
RECENT_HOURS = 24  # ended sends listed under 최근 when the page loads
RECENT_COUNT = 5


def _placeholder_task() -> Task:
    return Task(id=PLACEHOLDER_ID, name="send_mail", description="", status="queued",
                progress=0, delivered_count=0, recipient_count=0, failed=False)


def _back() -> Response:
    return redirect(url_for("mail_ui.send_mail"))


def _recent(username: str, leave_out: int | None) -> list[Task]:
    """The user's sends that ended lately, newest first."""
    since = utcnow() - timedelta(hours=RECENT_HOURS)
    query = (db.select(Task)
             .where(Task.username == username, Task.status.in_((FINISHED, CANCELED)),
                    Task.finished_at >= since, Task.id != (leave_out or 0))
             .order_by(Task.finished_at.desc(), Task.id.desc()).limit(RECENT_COUNT))
    return list(db.session.scalars(query))


def _live(username: str) -> tuple[list[Task], int | None]:
    """The unfinished sends, with the one just sent among them even if it has ended (the
    page shows it, then moves it to 최근); and that one's id."""
    tasks = Task.of_user(username, IN_PROGRESS)
    sent = session.pop(JUST_SENT, None)
    if not isinstance(sent, int):
        return tasks, None
    if not any(task.id == sent for task in tasks):
        task = db.session.get(Task, sent)
        if task is None or task.username != username:
            return tasks, None
        if task.status != RESERVED:  # a reservation's alert is in its own list
            tasks.append(task)
    return tasks, sent


@bp.get("/send_mail")
def send_mail() -> str:
    """The send form (as a refused send left it), and the user's live and recent tasks."""
    username = current_user.username
    form = _form()
    draft = take()
    if draft is not None:
        draft.fill(form)
    in_progress, just_sent = _live(username)
    errors = draft.errors() if draft else {}
    return render_template(
        "mail_ui/send_mail.html",
        form=form,
        draft=draft,
        errors=errors,
        field_attrs=partial(aria_attrs, errors),
        in_progress=in_progress,
        just_sent=just_sent,
        recent=_recent(username, just_sent),
        reserved=Task.of_user(username, (RESERVED,)),
        placeholder_task=_placeholder_task(),
    )


def _send_limit() -> str:
    return current_app.config["RATELIMIT_SEND"]


def _said(when: datetime | None, zone_name: str, shown: str, template_name: str) -> str:
    """SPEC's success words."""
    if when is not None:
        return _("[%(shown)s]에게 [%(template_name)s] 템플릿 메일 전송을 예약(%(time)s)하였습니다.",
                 shown=shown, template_name=template_name, time=local_text(when, zone_name))
    return _("[%(shown)s]에게 [%(template_name)s] 템플릿 메일을 전송하였습니다.",
             shown=shown, template_name=template_name)


@bp.post("/send_mail")
@limiter.limit(_send_limit, key_func=per_user)
def send_mail_post() -> Response:
    """Send now or reserve: check the whole plan, then hand the job to TaskService. A
    refusal keeps the form as it was for the page it redirects to."""
    form = _form()
    template_name = (form.template_name.data or "")[:64]
    shown = (form.recipient.data or "").strip()[:200]
    try:
        plan = plan_send(form, current_user.username)
        shown = plan.shown()
        when, zone_name = plan_when(form, current_user.username)
        task = TaskService(current_user.username).send(plan.mailing(), when)
    except ValueError as exc:
        flash(str(exc), "danger")
        keep(form, getattr(exc, "field", None), str(exc))
        return _back()
    except EnqueueError:
        flash(_("[%(shown)s]에게 [%(template_name)s] 템플릿 메일 전송을 실패하였습니다.",
                shown=shown, template_name=template_name), "danger")
        keep(form, None, "")
        return _back()
    except QueueFull as exc:
        flash(_("[%(shown)s]에게 [%(template_name)s] 템플릿 메일 전송을 접수했습니다. "
                "%(queue_full)s",
                shown=shown, template_name=template_name, queue_full=QUEUE_FULL), "warning")
        task = exc.task
    else:
        flash(_said(when, zone_name, shown, template_name), "success")
        if plan.addresses and (skipped := Suppression.among(current_user.username,
                                                            plan.addresses)):
            flash(_("받는 사람 중 %(count)d명은 수신 거부 목록에 있어 보내지 않습니다 "
                    "(보낼 때 다시 확인합니다).", count=skipped), "info")
    session[LAST_TEMPLATE] = template_name
    if task is not None:
        session[JUST_SENT] = task.id
    return _back()


def _preview_limit() -> str:
    return current_app.config["RATELIMIT_PREVIEW"]


# The JSON answer and the frame's HTML draw on one count: RATELIMIT_PREVIEW bounds renders.
_preview_limited = limiter.shared_limit(_preview_limit, scope="preview", key_func=per_user)

NO_HTML = _l("이 템플릿에는 HTML 본문이 없습니다(텍스트만 보냅니다).")


def _index(count: int) -> int:
    """The recipient asked for (``index``, in the query or the form), within 0..count-1."""
    try:
        index = int(request.values.get("index") or 0)
    except ValueError:
        raise ValueError(_("미리 볼 받는 사람의 번호(index)가 올바르지 않습니다.")) from None
    return min(max(index, 0), count - 1)


def _rendered() -> tuple[SendPlan, int, RenderedMail]:
    """The plan, the recipient ``index`` asked for (clamped) and the mail that recipient
    would get, rendered as the worker will; ValueError (a message for the user) if not."""
    plan = plan_send(_form(), current_user.username)
    index = _index(plan.count)
    mail = render_mail(plan.template.snapshot(),
                       plan.context(index, sender_name(current_user.username)))
    return plan, index, mail


@bp.post("/send_mail/preview")
@_preview_limited
def preview() -> tuple[dict[str, Any], int]:
    """The mail recipient ``index`` would get, rendered as the worker will; queues nothing."""
    try:
        plan, index, mail = _rendered()
    except ValueError as exc:
        return {"error": str(exc)}, 400
    return {"subject": mail.subject, "text": mail.text, "html": mail.html or "",
            "recipient": plan.recipient(index)[0], "index": index,
            "count": plan.count}, 200


def _note(message: str) -> str:
    """A line of text as a document of its own (for the frame, when there is no mail)."""
    return (f'<!doctype html><html lang="{current_language()}"><meta charset="utf-8">'
            f"<title>{escape(_('미리보기'))}</title><p>{escape(message)}</p></html>")


@bp.post("/send_mail/preview.html")
@_preview_limited
def preview_html() -> Response:
    """The same mail's HTML (the send form's fields, ``index`` in the query or the form) as
    a document of its own for the preview frame, under ``MAIL_HTML_POLICY``."""
    try:
        _, _, mail = _rendered()
    except ValueError as exc:
        html, status = _note(str(exc)), 400
    else:
        html, status = mail.html or _note(str(NO_HTML)), 200
    response = make_response(html, status)
    response.mimetype = "text/html"
    response.headers["Content-Security-Policy"] = MAIL_HTML_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-store"
    return response
