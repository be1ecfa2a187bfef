"""What a send form asks for, checked whole before anything is queued: the template the
user picked, the recipients (addresses, or CSV with fields, pasted or uploaded), and that
every field the template uses is there. The send and its preview read the same plan."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app, request
from werkzeug.datastructures import FileStorage

from app.mail.recipients import RecipientList, read_recipients
from app.mail.render import EXAMPLE_UNSUBSCRIBE_URL, fields_used, recipient_context
from app.mail_ui.forms import SendMailForm
from app.models import MailTemplate
from app.tasks.service import Mailing

UPLOAD_ENCODINGS = ("utf-8-sig", "cp949")  # what spreadsheets here save CSV as


@dataclass
class SendPlan:
    template: MailTemplate
    recipients: RecipientList

    @property
    def addresses(self) -> list[str]:
        return self.recipients.addresses

    def mailing(self) -> Mailing:
        """The send as TaskService takes it."""
        return Mailing(self.template.snapshot(), self.addresses, self.recipients.fields)

    def context(self, index: int, sender_name: str) -> dict[str, Any]:
        """The variables recipient ``index`` renders with (as the worker gives them)."""
        fields = self.recipients.fields[index] if self.recipients.fields else None
        return recipient_context(self.addresses[index], fields, sender_name,
                                 EXAMPLE_UNSUBSCRIBE_URL)


def _uploaded(upload: FileStorage | None) -> str | None:
    """The text of an uploaded ``.csv``; None when no file came."""
    if upload is None or not upload.filename:
        return None
    if not upload.filename.lower().endswith((".csv", ".txt")):
        raise ValueError("받는 사람 파일은 .csv 파일이어야 합니다.")
    data = upload.read()
    for encoding in UPLOAD_ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ValueError("CSV 파일을 읽을 수 없습니다. UTF-8로 저장해 주세요.")


def recipient_text(form: SendMailForm) -> str:
    """The recipients as typed, or as the uploaded file holds them (not both)."""
    typed = (form.recipient.data or "").strip()
    uploaded = _uploaded(request.files.get("recipient_file"))
    if uploaded is None:
        return typed
    if typed:
        raise ValueError("받는 사람은 입력란과 CSV 파일 중 한 곳에만 넣으세요.")
    return uploaded


def plan_send(form: SendMailForm, username: str) -> SendPlan:
    """The checked plan; ValueError (a message for the user, naming the line) if not."""
    recipients = read_recipients(recipient_text(form), current_app.config["MAIL_MAX_RECIPIENTS"])
    name = form.template_name.data or ""
    template = MailTemplate.named(name, username)
    if template is None:
        raise ValueError(f"알 수 없는 템플릿입니다: {name[:50]}")
    recipients.check_fields(fields_used(template.snapshot()))
    return SendPlan(template, recipients)
