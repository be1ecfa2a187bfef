"""List and show the captured mails saved under ``OUTBOX_DIR``."""

from __future__ import annotations

import os
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

from flask import abort, current_app, render_template

from app.outbox import bp


def _outbox_dir() -> str:
    directory = current_app.config.get("OUTBOX_DIR")
    if not directory:
        abort(404)
    return directory


def _read(path: str) -> EmailMessage:
    with open(path, "rb") as handle:
        return BytesParser(policy=policy.default).parse(handle)


@bp.get("/")
def index() -> str:
    """The captured mails, newest first."""
    directory = _outbox_dir()
    names = sorted((n for n in os.listdir(directory) if n.endswith(".eml")), reverse=True)
    mails = [(name, _read(os.path.join(directory, name))) for name in names[:200]]
    return render_template("outbox/index.html", mails=mails, total=len(names))


@bp.get("/<name>")
def show(name: str) -> str:
    """One captured mail, its text part shown as text."""
    directory = _outbox_dir()
    if os.path.basename(name) != name or not name.endswith(".eml"):
        abort(404)
    path = os.path.join(directory, name)
    if not os.path.isfile(path):
        abort(404)
    mail = _read(path)
    body = mail.get_body(preferencelist=("plain", "html"))
    return render_template("outbox/show.html", name=name, mail=mail,
                           text=body.get_content() if body else "")
