"""The baseline's job for bare RQ: send one message over a fresh smtplib connection."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage


def message(recipient: str) -> EmailMessage:
    """A message like a welcome mail (the baselines' message)."""
    mail = EmailMessage()
    mail["Subject"] = "Mailroom에 오신 것을 환영합니다"
    mail["From"] = "Mailroom <mailroom@localhost>"
    mail["To"] = recipient
    mail.set_content("안녕하세요. 이 메일은 bench 님이 보냈습니다.")
    mail.add_alternative("<p>안녕하세요.</p>", subtype="html")
    return mail


def send_one(port: int, recipient: str) -> None:
    """What a one-recipient Mailroom task does, minus Mailroom."""
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
        smtp.send_message(message(recipient), to_addrs=[recipient])
