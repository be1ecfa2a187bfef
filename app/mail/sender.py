"""One SMTP connection for a whole batch, with failures sorted into per-recipient
(permanent, 5xx) and whole-batch (transient: 4xx, unreachable)."""

from __future__ import annotations

import hashlib
import smtplib
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from types import TracebackType
from typing import Any

from app.mail.catalog import RenderedMail
from app.tasks.decorators import TransientError


class RecipientRefused(Exception):
    """The server refused this recipient for good (a 5xx answer)."""


def message_id(task_id: int, recipient: str, sender: str) -> str:
    """A Message-ID stable for one task and recipient, so a resend is recognisable."""
    digest = hashlib.sha256(recipient.lower().encode()).hexdigest()[:16]
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    return f"<mailroom.{task_id}.{digest}@{domain}>"


def build_message(mail: RenderedMail, sender: str, recipient: str, msg_id: str) -> EmailMessage:
    """A multipart/alternative message (text, then HTML) for one recipient."""
    message = EmailMessage()
    message["Subject"] = mail.subject
    message["From"] = sender
    local, _, domain = recipient.rpartition("@")
    message["To"] = Address(addr_spec=f"{local}@{domain}")
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = msg_id
    message.set_content(mail.text)
    message.add_alternative(mail.html, subtype="html")
    return message


def _classify(code: int, text: Any) -> Exception:
    detail = text.decode(errors="replace") if isinstance(text, bytes) else str(text)
    if 400 <= code < 500:
        return TransientError(f"SMTP {code} {detail}")
    return RecipientRefused(f"SMTP {code} {detail}")


class SmtpBatch:
    """``with SmtpBatch(config) as smtp: smtp.send(message, recipient)``."""

    def __init__(self, config: Any) -> None:
        self.config = config
        self.connection: smtplib.SMTP | None = None

    def __enter__(self) -> SmtpBatch:
        config = self.config
        try:
            self.connection = smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"],
                                           timeout=config["MAIL_TIMEOUT_SECONDS"])
            if config["MAIL_USE_TLS"]:
                self.connection.starttls()
            if config["MAIL_USERNAME"]:
                self.connection.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"] or "")
        except (OSError, smtplib.SMTPException) as exc:
            raise TransientError(f"SMTP 서버에 연결할 수 없습니다: {exc}") from exc
        return self

    def send(self, message: EmailMessage, recipient: str) -> None:
        """Send to one recipient; RecipientRefused or TransientError on failure."""
        assert self.connection is not None
        try:
            self.connection.send_message(message, to_addrs=[recipient])
        except smtplib.SMTPRecipientsRefused as exc:
            # smtplib has already sent RSET: the connection is ready for the next one.
            code, text = exc.recipients.get(recipient, (550, b"refused"))
            raise _classify(code, text) from exc
        except smtplib.SMTPResponseException as exc:
            raise _classify(exc.smtp_code, exc.smtp_error) from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise TransientError(f"SMTP 연결 오류: {exc}") from exc

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self.connection is not None:
            try:
                self.connection.quit()
            except (OSError, smtplib.SMTPException):
                self.connection.close()
