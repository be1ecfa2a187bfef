"""What a send form asks for, checked whole before anything is queued: the template the
user picked, the recipients (addresses, or CSV with fields, pasted or uploaded), and that
every field the template uses is there, and when to send. The send and its preview read the
same plan. Each refusal names the field it concerns (``FieldError.field``), so the page can
show it there."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app, request
from flask_babel import gettext as _
from werkzeug.datastructures import FileStorage

from app.converters import MAX_ID, bounded_int
from app.extensions import db
from app.i18n import N_
from app.mail.recipients import RecipientList, decode_upload, display, read_recipients
from app.mail.render import EXAMPLE_UNSUBSCRIBE_URL, fields_used, recipient_context
from app.mail_ui.forms import SendMailForm
from app.models import MailingList, MailTemplate
from app.models.audience import sendable, sendable_count
from app.tasks.service import Mailing, TaskService
from app.utils.datetime_converter import parse_local_datetime
from app.views import remember_zone

# Plain strings (tests compare them): marked by N_, translated where raised.
TIME_WITHOUT_RESERVATION = N_("지금 보내기를 골랐는데 전송 시각이 있습니다. 그 시각에 보내려면 "
                               "'예약'을 고르고, 지금 보내려면 시각을 지우세요.")
RESERVATION_WITHOUT_TIME = N_("시간 형식이 올바르지 않습니다. 예약하려면 전송 시각을 입력하세요.")


class FieldError(ValueError):
    """A refusal (the message for the user) that concerns one field of the send form."""

    def __init__(self, field: str | None, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass
class SendPlan:
    """The checked send: the template, and the recipients as typed or a saved list."""

    template: MailTemplate
    recipients: RecipientList
    audience: MailingList | None = None
    count: int = 0

    @property
    def addresses(self) -> list[str]:
        return self.recipients.addresses

    def shown(self) -> str:
        """Who it goes to, short, for the messages."""
        if self.audience is not None:
            count = format(self.count, ",")
            return _("목록 '%(name)s'(%(count)s명)", name=self.audience.name, count=count)
        return display(self.addresses)

    def mailing(self) -> Mailing:
        """The send as TaskService takes it."""
        if self.audience is not None:
            return Mailing.to_list(self.template.snapshot(), self.audience, self.count)
        return Mailing(self.template.snapshot(), self.addresses, self.recipients.fields)

    def recipient(self, index: int) -> tuple[str, dict[str, str] | None]:
        """Recipient ``index`` (a list's: its ``index``-th member a send would mail now)."""
        if self.audience is None:
            fields = self.recipients.fields[index] if self.recipients.fields else None
            return self.addresses[index], fields
        member = db.session.scalar(sendable(self.audience.id, self.audience.owner)
                                   .offset(index).limit(1))
        if member is None:
            raise ValueError(_("목록에 미리 볼 받는 사람이 없습니다."))
        blank = dict.fromkeys(self.audience.columns or [], "")
        return member.address, {**blank, **(member.fields or {})}

    def context(self, index: int, sender_name: str) -> dict[str, Any]:
        """The variables recipient ``index`` renders with (as the worker gives them)."""
        address, fields = self.recipient(index)
        return recipient_context(address, fields, sender_name, EXAMPLE_UNSUBSCRIBE_URL)


def _uploaded(upload: FileStorage | None) -> str | None:
    """The text of an uploaded ``.csv``; None when no file came."""
    if upload is None or not upload.filename:
        return None
    if not upload.filename.lower().endswith((".csv", ".txt")):
        raise ValueError(_("받는 사람 파일은 .csv 파일이어야 합니다."))
    return decode_upload(upload.read())[0]


def recipient_text(form: SendMailForm) -> tuple[str, str]:
    """The recipients as typed, or as the uploaded file holds them (not both); and which
    field they came from."""
    typed = (form.recipient.data or "").strip()
    try:
        uploaded = _uploaded(request.files.get("recipient_file"))
    except ValueError as exc:
        raise FieldError("recipient_file", str(exc)) from None
    if uploaded is None:
        return typed, "recipient"
    if typed:
        raise FieldError("recipient_file",
                         _("받는 사람은 입력란과 CSV 파일 중 한 곳에만 넣으세요."))
    return uploaded, "recipient_file"


def template_named(name: str, username: str) -> MailTemplate:
    """The template ``username`` sees by ``name``; FieldError on ``template_name`` if none
    (the send form and the API read it the same way)."""
    template = MailTemplate.named(name, username)
    if template is None:
        raise FieldError("template_name", _("알 수 없는 템플릿입니다: %(name)s", name=name[:50]))
    return template


def _template(form: SendMailForm, username: str) -> MailTemplate:
    return template_named(form.template_name.data or "", username)


def plan_send(form: SendMailForm, username: str) -> SendPlan:
    """The checked plan; FieldError (a message for the user, naming the line) if not."""
    if form.list_id.data:
        return plan_list_send(form, username)
    text, source = recipient_text(form)
    try:
        recipients = read_recipients(text, current_app.config["MAIL_MAX_RECIPIENTS"])
    except ValueError as exc:
        raise FieldError(source, str(exc)) from None
    template = _template(form, username)
    try:
        recipients.check_fields(fields_used(template.snapshot()))
    except ValueError as exc:
        raise FieldError(source, str(exc)) from None
    return SendPlan(template, recipients, count=len(recipients.addresses))


def plan_list_send(form: SendMailForm, username: str) -> SendPlan:
    """A send to one of the user's lists: alone (no typed recipients), with every field
    the template uses among the list's columns, and someone to mail."""
    audience = owned_list(form.list_id.data or "", username)
    if recipient_text(form)[0]:
        raise FieldError("list_id",
                         _("목록에 보낼 때는 받는 사람 입력란과 CSV 파일을 비워 두세요."))
    return list_plan(audience, _template(form, username))


def owned_list(list_id: str, username: str) -> MailingList:
    """The user's list ``list_id``; FieldError on ``list_id`` if it is not one of theirs."""
    audience = db.session.scalar(db.select(MailingList).filter_by(
        id=bounded_int(list_id, MAX_ID) or 0, owner=username))
    if audience is None:
        raise FieldError("list_id", _("고른 목록을 찾을 수 없습니다."))
    return audience


def list_plan(audience: MailingList, template: MailTemplate) -> SendPlan:
    """A send of ``template`` to ``audience``: every field the template uses among the
    list's columns, and someone to mail (the form and the API check the same)."""
    missing = sorted(set(fields_used(template.snapshot())) - set(audience.columns or []))
    if missing:
        raise FieldError("list_id", _("템플릿이 쓰는 필드(%(fields)s)가 목록 '%(name)s'에 "
                                       "없습니다.", fields=", ".join(missing), name=audience.name))
    count = sendable_count(audience)
    if count == 0:
        raise FieldError("list_id", _("목록 '%(name)s'에 보낼 수 있는 받는 사람이 "
                                     "없습니다(비었거나 모두 수신 거부·반송).", name=audience.name))
    return SendPlan(template, RecipientList(addresses=[]), audience, count)


def plan_when(form: SendMailForm, username: str) -> tuple[datetime | None, str]:
    """When to send (None: now) and the user's zone. Never a guess: a time with 지금 보내기,
    or 예약 without a time, is a FieldError on the time, as is a time outside the window."""
    text = (form.scheduled_time.data or "").strip()
    zone_name = remember_zone(form.timezone.data)
    if not form.is_scheduled.data:
        if text:
            raise FieldError("scheduled_time", _(TIME_WITHOUT_RESERVATION))
        return None, zone_name
    if not text:
        raise FieldError("scheduled_time", _(RESERVATION_WITHOUT_TIME))
    try:
        when = parse_local_datetime(text, zone_name)
        TaskService(username).check_time(when)
    except ValueError as exc:
        raise FieldError("scheduled_time", str(exc)) from None
    return when, zone_name
