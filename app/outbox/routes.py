"""List and show the captured mails saved under ``OUTBOX_DIR``: only those of the signed-in
user's own tasks, told by the Message-ID the sender gives (``<mailroom.{task_id}.…@…>``)."""

from __future__ import annotations

import os
import re
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

from flask import abort, current_app, render_template
from flask_login import current_user

from app.converters import MAX_ID, bounded_int
from app.extensions import db
from app.models import Task
from app.outbox import bp

SHOWN = 200
# app.mail.sender.message_id; a mail without it (not ours) belongs to no one here.
_MESSAGE_ID = re.compile(r"<mailroom\.([0-9]{1,19})\.[0-9a-f]+@[^<>\s]+>")


def _outbox_dir() -> str:
    directory = current_app.config.get("OUTBOX_DIR")
    if not directory:
        abort(404)
    return directory


def _read(path: str, headers_only: bool = False) -> EmailMessage:
    with open(path, "rb") as handle:
        return BytesParser(policy=policy.default).parse(handle, headersonly=headers_only)


def task_id_of(mail: EmailMessage) -> int | None:
    """The id of the task that sent ``mail``, from its Message-ID; None when not ours."""
    values = mail.get_all("Message-ID") or []
    if len(values) != 1 or getattr(values[0], "defects", ()):
        return None  # none, several, or one the parser had to mend: not one of ours
    match = _MESSAGE_ID.fullmatch(str(values[0]).strip())
    return bounded_int(match.group(1), MAX_ID) if match else None


def _own_mails(directory: str) -> list[tuple[str, EmailMessage]]:
    """``(file name, headers)`` of the mails of the user's own tasks, newest first."""
    own = set(db.session.scalars(
        db.select(Task.id).where(Task.username == current_user.username)))
    names = sorted((n for n in os.listdir(directory) if n.endswith(".eml")), reverse=True)
    mails = []
    for name in names:
        headers = _read(os.path.join(directory, name), headers_only=True)
        if task_id_of(headers) in own:
            mails.append((name, headers))
    return mails


@bp.get("/")
def index() -> str:
    """The captured mails of the user's own tasks, newest first."""
    mails = _own_mails(_outbox_dir())
    return render_template("outbox/index.html", mails=mails[:SHOWN], total=len(mails))


@bp.get("/<name>")
def show(name: str) -> str:
    """One captured mail of the user's own tasks, its text part shown as text."""
    directory = _outbox_dir()
    if os.path.basename(name) != name or not name.endswith(".eml"):
        abort(404)
    path = os.path.join(directory, name)
    if not os.path.isfile(path):
        abort(404)
    mail = _read(path)
    task_id = task_id_of(mail)
    if task_id is None:
        abort(404)
    db.one_or_404(db.select(Task.id).filter_by(id=task_id, username=current_user.username))
    body = mail.get_body(preferencelist=("plain", "html"))
    return render_template("outbox/show.html", name=name, mail=mail,
                           text=body.get_content() if body else "")
