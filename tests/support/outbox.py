"""A mail as the dev stack's SMTP sink saves it under ``OUTBOX_DIR``, for the /outbox tests."""

from __future__ import annotations

from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

from flask import Flask

from app.extensions import db
from app.mail.sender import message_id
from app.models import Task

SENDER = "Mailroom <mailroom@localhost>"
TEXT = "수신 거부: https://mail.example/unsubscribe/abc?x=1&y=2.\n끝"


def captured(app: Flask, username: str, html: str | None = None,
             subject: str = "안녕하세요", text: str = TEXT) -> str:
    """A mail (``subject``, ``text``, ``html``) of a new finished task of ``username``,
    sent 2026-12-05 18:15:33 UTC, saved in ``OUTBOX_DIR``; its file name."""
    with app.app_context():
        task = Task(name="send_mail", description="sent", username=username, status="finished")
        db.session.add(task)
        db.session.commit()
        task_id = task.id
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = SENDER, "to@example.com", subject
    mail["Date"] = "Sat, 05 Dec 2026 18:15:33 +0000"
    mail["Message-ID"] = message_id(task_id, "to@example.com", SENDER)
    mail.set_content(text)
    if html is not None:
        mail.add_alternative(html, subtype="html")
    name = f"20261205-{task_id:04d}.eml"
    Path(app.config["OUTBOX_DIR"], name).write_bytes(mail.as_bytes(policy=SMTP))
    return name
