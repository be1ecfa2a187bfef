"""List and show the captured mails saved under ``OUTBOX_DIR``: only those of the signed-in
user's own tasks, told by the Message-ID the sender gives (``<mailroom.{task_id}.…@…>``)."""

from __future__ import annotations

import os
import re
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

from flask import Response, abort, current_app, make_response, render_template
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup, escape

from app.converters import MAX_ID, bounded_int
from app.extensions import db
from app.filters import iso_local, to_short_local
from app.i18n import N_
from app.models import Task
from app.outbox import bp
from app.security import MAIL_HTML_POLICY

SHOWN = 200
# app.mail.sender.message_id; a mail without it (not ours) belongs to no one here.
_MESSAGE_ID = re.compile(r"<mailroom\.([0-9]{1,19})\.[0-9a-f]+@[^<>\s]+>")
# A web address in a text part (up to whitespace or an angle bracket; a closing
# punctuation mark after it is the sentence's, not the address's).
_URL = re.compile(r"https?://[^\s<>\"']+?(?=[.,;:!?)\]]*(?:\s|$))")
NO_HTML = N_("이 메일에는 HTML 부분이 없습니다.")


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
    shown = [(name, mail, sent_at(mail)) for name, mail in mails[:SHOWN]]
    return render_template("outbox/index.html", mails=shown, total=len(mails))


def _own_mail(name: str) -> EmailMessage:
    """The captured mail file ``name``, if one of the user's own tasks sent it; else 404."""
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
    return mail


def sent_at(mail: EmailMessage) -> datetime | None:
    """The mail's Date header as an aware time; None when it has none or it cannot be read."""
    header = mail["Date"]
    moment = getattr(header, "datetime", None)
    return moment if moment is not None and moment.tzinfo is not None else None


def linked(text: str) -> Markup:
    """``text`` escaped, with each web address in it a link (opened in a new tab, with no
    referrer: the unsubscribe link of a captured mail works from here)."""
    def link(match: re.Match[str]) -> str:
        url = match.group(0)
        return f'<a href="{url}" rel="noopener noreferrer" target="_blank">{url}</a>'

    return Markup(_URL.sub(link, str(escape(text))))


def _part(mail: EmailMessage, kind: str) -> str:
    body = mail.get_body(preferencelist=(kind,))
    return body.get_content() if body is not None else ""


@bp.get("/<name>")
def show(name: str) -> str:
    """One captured mail of the user's own tasks: its headers, the text part with its links,
    and the HTML part in a sandboxed frame (``show_html``)."""
    mail = _own_mail(name)
    moment = sent_at(mail)
    return render_template("outbox/show.html", name=name, mail=mail,
                           text=linked(_part(mail, "plain")),
                           has_html=mail.get_body(preferencelist=("html",)) is not None,
                           sent=to_short_local(moment, seconds=True) if moment else "",
                           sent_iso=iso_local(moment) if moment else "")


@bp.get("/<name>/html")
def show_html(name: str) -> Response:
    """The mail's HTML part as a document of its own, for the frame on its page, under the
    mail's sandbox policy (``MAIL_HTML_POLICY``: no script, no network, opaque origin)."""
    html = _part(_own_mail(name), "html") or f"<p>{escape(_(NO_HTML))}</p>"
    response = make_response(html)
    response.mimetype = "text/html"
    response.headers["Content-Security-Policy"] = MAIL_HTML_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-store"
    return response
