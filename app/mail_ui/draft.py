"""A refused send keeps what was typed. SPEC answers every send with a redirect and a flash,
so the form as posted (recipients, template, mode, time, the uploaded file's name) and the
field the refusal concerns wait for the next page, for a few minutes, in Redis — a cookie
is too small for 500 recipients. The session holds only the draft's random key. A draft is
read once; when Redis cannot keep it, the flash still says what was wrong."""

from __future__ import annotations

import json
import logging
import secrets
from dataclasses import asdict, dataclass
from typing import Any

from flask import request, session

from app.mail_ui.forms import SendMailForm
from app.queue import RedisError, queues

log = logging.getLogger(__name__)
DRAFT_SECONDS = 600
SESSION_KEY = "send_draft"
LAST_TEMPLATE = "send_template"  # the template of the last send, chosen again


@dataclass
class Draft:
    """The send form as it was posted, and the refusal."""

    recipient: str = ""
    list_id: str = ""
    template_name: str = ""
    is_scheduled: bool = False
    scheduled_time: str = ""
    file_name: str = ""
    field: str | None = None
    message: str = ""

    def errors(self) -> dict[str, str]:
        """The refusal by the field it concerns (none when it concerns no one field)."""
        return {self.field: self.message} if self.field else {}

    def fill(self, form: SendMailForm) -> None:
        """Put the values back into ``form``."""
        form.recipient.data = self.recipient
        form.list_id.data = self.list_id
        form.template_name.data = self.template_name
        form.is_scheduled.data = self.is_scheduled
        form.scheduled_time.data = self.scheduled_time


def _key(token: str) -> str:
    return f"mailroom:send-draft:{token}"


def keep(form: SendMailForm, field: str | None, message: str) -> None:
    """Keep the posted form and the refusal for the page the POST redirects to."""
    upload = request.files.get("recipient_file")
    draft = Draft(recipient=form.recipient.data or "", list_id=(form.list_id.data or "")[:12],
                  template_name=(form.template_name.data or "")[:64],
                  is_scheduled=bool(form.is_scheduled.data),
                  scheduled_time=(form.scheduled_time.data or "")[:40],
                  file_name=(upload.filename or "")[:200] if upload else "",
                  field=field, message=message)
    token = secrets.token_urlsafe(16)
    try:
        queues().connection.set(_key(token), json.dumps(asdict(draft)), ex=DRAFT_SECONDS)
    except (RedisError, OSError) as exc:
        log.warning("could not keep the send form: %s", exc)
        return
    session[SESSION_KEY] = token


def take() -> Draft | None:
    """The draft a refusal kept for this page, once; None if there is none."""
    token = session.pop(SESSION_KEY, None)
    if not isinstance(token, str):
        return None
    try:
        pipe = queues().connection.pipeline()
        raw, _ = pipe.get(_key(token)).delete(_key(token)).execute()
    except (RedisError, OSError) as exc:
        log.warning("could not read the kept send form: %s", exc)
        return None
    if not raw:
        return None
    try:
        data: dict[str, Any] = json.loads(raw)
        return Draft(**data)
    except (ValueError, TypeError):
        return None


def aria_attrs(errors: dict[str, str], name: str, hint: str = "") -> dict[str, Any]:
    """A field's attributes on the page: tied to its hint, and when refused marked invalid,
    tied to the message (``{name}-error``) and focused."""
    described = ([f"{name}-error"] if name in errors else []) + ([hint] if hint else [])
    attrs: dict[str, Any] = {}
    if described:
        attrs["aria-describedby"] = " ".join(described)
    if name in errors:
        attrs.update({"aria-invalid": "true", "autofocus": True})
    return attrs
