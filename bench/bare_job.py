"""The baseline's job for bare RQ: send one message over a fresh smtplib connection."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage


def send_one(port: int, recipient: str) -> None:
    """What a one-recipient Mailroom task does, minus Mailroom."""
    message = EmailMessage()
    message["Subject"] = "Mailroom에 오신 것을 환영합니다"
    message["From"] = "Mailroom <mailroom@localhost>"
    message["To"] = recipient
    message.set_content("안녕하세요. 이 메일은 bench 님이 보냈습니다.")
    message.add_alternative("<p>안녕하세요.</p>", subtype="html")
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
        smtp.send_message(message, to_addrs=[recipient])
