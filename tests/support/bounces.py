"""Bounces for the tests: a DSN written as Postfix writes one (multipart/report with a
notification, a message/delivery-status part and the returned headers), a sink that accepts
some addresses and a moment later mails such a DSN to the message's envelope sender (as a
relay does when the next hop refuses), and the deliveries the handler tests act on."""

from __future__ import annotations

import smtplib
import socket
import threading
import time
from dataclasses import dataclass, field
from email.utils import formatdate, make_msgid
from typing import Any

from tests.support.sink import RecordingHandler

HOST = "mx1.relay.test"


def listening(port: int, host: str = "127.0.0.1") -> bool:
    """True once something accepts connections on ``port`` (the bounce receiver)."""
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def postfix_dsn(verp: str, recipient: str, status: str = "5.1.1",
                reply: str = "550 5.1.1 User unknown in virtual mailbox table",
                message_id: str = "<original@example.com>", action: str = "failed") -> bytes:
    """A DSN to ``verp`` for ``recipient`` in Postfix's layout (RFC 3464)."""
    queue_id = make_msgid().strip("<>").split("@")[0].replace(".", "")[:14]
    boundary = f"{queue_id}.{int(time.time())}/{HOST}"
    text = (f"From: MAILER-DAEMON@{HOST} (Mail Delivery System)\r\n"
            f"To: {verp}\r\nSubject: Undelivered Mail Returned to Sender\r\n"
            f"Date: {formatdate()}\r\nMessage-Id: {make_msgid(domain=HOST)}\r\n"
            "Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n"
            "Content-Type: multipart/report; report-type=delivery-status;\r\n"
            f"\tboundary=\"{boundary}\"\r\n\r\nThis is a MIME-encapsulated message.\r\n\r\n"
            f"--{boundary}\r\nContent-Description: Notification\r\n"
            "Content-Type: text/plain; charset=us-ascii\r\n\r\n"
            f"This is the mail system at host {HOST}.\r\n\r\n"
            "I'm sorry to have to inform you that your message could not\r\n"
            "be delivered to one or more recipients. It's attached below.\r\n\r\n"
            f"<{recipient}>: host mx.example.org[192.0.2.25] said: {reply} (in reply\r\n"
            "    to RCPT TO command)\r\n\r\n"
            f"--{boundary}\r\nContent-Description: Delivery report\r\n"
            "Content-Type: message/delivery-status\r\n\r\n"
            f"Reporting-MTA: dns; {HOST}\r\nX-Postfix-Queue-ID: {queue_id}\r\n"
            f"X-Postfix-Sender: rfc822; {verp}\r\nArrival-Date: {formatdate()}\r\n\r\n"
            f"Final-Recipient: rfc822; {recipient}\r\nOriginal-Recipient: rfc822;{recipient}\r\n"
            f"Action: {action}\r\nStatus: {status}\r\nRemote-MTA: dns; mx.example.org\r\n"
            f"Diagnostic-Code: smtp; {reply}\r\n\r\n"
            f"--{boundary}\r\nContent-Description: Undelivered Message Headers\r\n"
            "Content-Type: text/rfc822-headers\r\n\r\n"
            f"Return-Path: <{verp}>\r\nTo: {recipient}\r\nSubject: Welcome\r\n"
            f"Message-ID: {message_id}\r\n\r\n--{boundary}--\r\n")
    return text.encode()


@dataclass
class BouncingHandler(RecordingHandler):
    """Accepts every mail (recorded as RecordingHandler does); for a recipient in
    ``bounce``, ``after`` seconds later sends a Postfix DSN with that (status, reply) to
    the message's envelope sender at ``receiver`` (host, port)."""

    bounce: dict[str, tuple[str, str]] = field(default_factory=dict)
    receiver: tuple[str, int] = ("127.0.0.1", 0)
    after: float = 0.3
    sent: list[str] = field(default_factory=list)  # the DSNs' recipients, once sent
    errors: list[str] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        answer = await super().handle_DATA(server, session, envelope)
        for rcpt in envelope.rcpt_tos:
            if answer.startswith("250") and rcpt.lower() in self.bounce:
                threading.Timer(self.after, self._send_dsn,
                                (envelope.mail_from, rcpt.lower())).start()
        return answer

    def _send_dsn(self, verp: str, recipient: str) -> None:
        status, reply = self.bounce[recipient]
        message_id = "<unknown@example.com>"
        with self.lock:
            for received in self.messages:
                if recipient in (r.lower() for r in received.rcpt_tos):
                    message_id = str(received.message["Message-ID"])
        try:
            with smtplib.SMTP(*self.receiver, timeout=10) as smtp:
                smtp.sendmail("", [verp], postfix_dsn(verp, recipient, status, reply,
                                                      message_id))
            with self.lock:
                self.sent.append(recipient)
        except (OSError, smtplib.SMTPException) as exc:
            with self.lock:
                self.errors.append(f"{recipient}: {exc}")
