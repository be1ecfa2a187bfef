"""One SMTP connection for a whole batch, with failures sorted by what they mean for the
recipient: refused for good (5xx), not sent and worth retrying (4xx, a connection lost
before the message went), or in doubt (the connection lost while or after the message went:
the server may have kept it). TLS to the relay (STARTTLS or implicit) verifies its certificate
against MAIL_SERVER, and a password goes only over TLS or to this machine."""

from __future__ import annotations

import base64
import functools
import hashlib
import re
import smtplib
import socket
import ssl
import weakref
from collections.abc import Callable, Iterable
from email.header import Header
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.policy import Compat32
from email.utils import formataddr, formatdate, parseaddr
from types import TracebackType
from typing import Any

from flask_babel import gettext as _

from app.mail.dkim import DkimSigner
from app.mail.relay import (
    PlainLoginRefused,
    RecipientRefused,
    RelayCertificateError,
    login_allowed,
    tls_context,
)
from app.mail.render import RenderedMail
from app.tasks.decorators import TransientError


class _WirePolicy(Compat32):
    """compat32 with CRLF line ends, writing a short one-line ASCII header as it is: the
    ``Header`` class that compat32 folds every header with was a third of the time a
    message took to serialise (docs/BENCHMARKS.md). Anything else is folded as before."""

    def _fold(self, name: str, value: Any, sanitize: bool) -> str:
        if (isinstance(value, str) and value.isascii() and len(name) + len(value) < 76
                and "\r" not in value and "\n" not in value):
            return f"{name}: {value}{self.linesep}"
        return super()._fold(name, value, sanitize)


WIRE_POLICY = _WirePolicy(linesep="\r\n")
ENVELOPE_ATTR = "mailroom_envelope_from"  # a message's own MAIL FROM (build_message)
_open: weakref.WeakSet[SmtpConnection] = weakref.WeakSet()  # open here, for ``abort_all``


class ConnectionLost(TransientError):
    """The connection broke before the message went: nothing was sent, try again."""


class OutcomeUnknown(Exception):
    """The connection broke after the message's data began: it may have been delivered."""


def message_id(task_id: int, recipient: str, sender: str) -> str:
    """A Message-ID stable for one task and recipient, so a resend is recognisable."""
    digest = hashlib.sha256(recipient.lower().encode()).hexdigest()[:16]
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    return f"<mailroom.{task_id}.{digest}@{domain}>"


def _header(value: str) -> str:
    """One line (a template's CR or LF must not start a header of its own), RFC 2047-encoded
    when it is not ASCII."""
    line = " ".join(value.splitlines())
    return line if line.isascii() else _encoded(line)


@functools.lru_cache(maxsize=256)  # a send repeats its subject: encode it once
def _encoded(line: str) -> str:
    return Header(line, "utf-8").encode()


def build_message(mail: RenderedMail, sender: str, recipient: str, msg_id: str,
                  headers: Iterable[tuple[str, str]] = (), envelope: str | None = None
                  ) -> Message:
    """A multipart/alternative message (text, then HTML) for one recipient; text alone when
    the template has no HTML part; ``envelope``, its own MAIL FROM (VERP) for From's.

    Built with the ``email.mime`` classes: a third of the cost of ``EmailMessage`` with
    ``set_content``, which showed up as most of the time per message (docs/BENCHMARKS.md).
    """
    if not recipient.isascii():
        raise ValueError(_("주소가 ASCII가 아닙니다: %(address)s", address=recipient))
    if mail.html:
        message: Message = MIMEMultipart("alternative")
        message.attach(_text_part(mail.text, "plain"))
        message.attach(_text_part(mail.html, "html"))
    else:
        message = _text_part(mail.text, "plain")
        message["MIME-Version"] = "1.0"
    message["Subject"] = _header(mail.subject)
    message["From"] = _from_header(sender)
    message["To"] = recipient
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = msg_id
    for name, value in headers:  # List-Unsubscribe and its one-click partner
        message[name] = _header(value)
    if envelope:  # not a header: the receiving server writes Return-Path from MAIL FROM
        setattr(message, ENVELOPE_ATTR, envelope)
    return message


def envelope_of(message: Message, sender: str) -> str:
    """The MAIL FROM of ``message``: its own (VERP), else the address in ``sender``."""
    return getattr(message, ENVELOPE_ATTR, None) or parseaddr(sender)[1] or sender


def _text_part(body: str, subtype: str) -> Message:
    """A UTF-8 text part in base64, as ``MIMEText(body, subtype, "utf-8")`` makes it but
    without its charset bookkeeping (half the time a message took to build)."""
    part = Message()
    part["Content-Type"] = f'text/{subtype}; charset="utf-8"'
    part["Content-Transfer-Encoding"] = "base64"
    part.set_payload(base64.encodebytes(body.encode("utf-8")).decode("ascii"))
    return part


@functools.lru_cache(maxsize=64)
def _from_header(sender: str) -> str:
    return formataddr(parseaddr(sender))  # a non-ASCII name is encoded


def _classify(code: int, text: Any) -> Exception:
    detail = text.decode(errors="replace") if isinstance(text, bytes) else str(text)
    kind = TransientError if 400 <= code < 500 else RecipientRefused
    return kind(f"SMTP {code} {detail}")


def _wire_bytes(message: Message, signer: DkimSigner | None = None) -> bytes:
    """The message as DATA carries it: CRLF line ends, DKIM-signed when configured (the
    signature covers the message itself, so it is made before the dots are doubled),
    leading dots doubled, the final dot."""
    data = message.as_bytes(policy=WIRE_POLICY)
    if signer is not None:
        data = signer.sign(data)
    data = re.sub(rb"(?m)^\.", b"..", data)
    if not data.endswith(b"\r\n"):
        data += b"\r\n"
    return data + b".\r\n"


class SmtpConnection:
    """One SMTP connection to the relay: ``with SmtpConnection(config) as smtp:
    smtp.send(message, sender, recipient)``; after a lost one (``connection`` None),
    ``connect()`` again before the next message."""

    def __init__(self, config: Any) -> None:
        self.config = config
        self.connection: smtplib.SMTP | None = None
        self.signer = DkimSigner.from_config(config)
        self.tls = tls_context(config)
        # A password that would go in clear fails the send here, before any recipient.
        if config["MAIL_USERNAME"] and not login_allowed(self.tls is not None,
                                                         config["MAIL_SERVER"]):
            raise PlainLoginRefused(config["MAIL_SERVER"])

    def __enter__(self) -> SmtpConnection:
        self.connect()
        return self

    def connect(self) -> None:
        """Open the connection (TLS, verified, and login as configured); TransientError if
        not (RelayCertificateError: the relay's certificate could not be verified)."""
        config = self.config
        try:
            self.connection = self._client()
            # Known before it opens: a stop can cut a relay that never says hello.
            _open.add(self)
            self.connection.connect(config["MAIL_SERVER"], config["MAIL_PORT"])
            self.connection.sock.settimeout(config["MAIL_TIMEOUT_SECONDS"])
            if config["MAIL_USE_TLS"] and not config.get("MAIL_USE_SSL"):
                self.connection.starttls(context=self.tls)
            if config["MAIL_USERNAME"]:
                self._login()
        except ssl.SSLCertVerificationError as exc:
            self.close()
            server = f"{config['MAIL_SERVER']}:{config['MAIL_PORT']}"
            raise RelayCertificateError(server, exc.verify_message or str(exc)) from exc
        except (OSError, smtplib.SMTPException) as exc:
            self.close()
            raise TransientError(_("SMTP 서버에 연결할 수 없습니다: %(error)s", error=exc)) from exc

    def _client(self) -> smtplib.SMTP:
        """A client not yet connected, whose connect and greeting may take at most
        MAIL_CONNECT_TIMEOUT_SECONDS (each later read: MAIL_TIMEOUT_SECONDS)."""
        config = self.config
        timeout = float(config.get("MAIL_CONNECT_TIMEOUT_SECONDS") or 10)
        client = (smtplib.SMTP_SSL(timeout=timeout, context=self.tls)
                  if config.get("MAIL_USE_SSL") else smtplib.SMTP(timeout=timeout))
        client._host = config["MAIL_SERVER"]  # what TLS checks the certificate against
        return client

    def _login(self) -> None:
        """Log in, only over an encrypted connection or to this machine."""
        assert self.connection is not None
        encrypted = isinstance(self.connection.sock, ssl.SSLSocket)
        if not login_allowed(encrypted, self.config["MAIL_SERVER"]):
            self.close()
            raise PlainLoginRefused(self.config["MAIL_SERVER"])
        self.connection.login(self.config["MAIL_USERNAME"], self.config["MAIL_PASSWORD"] or "")

    def _expect(self, answer: tuple[int, bytes], *codes: int) -> None:
        code, text = answer
        if code not in codes:
            if code != -1:
                self._reset()
            raise _classify(code, text)

    def _reset(self) -> None:
        try:
            assert self.connection is not None
            self.connection.rset()
        except (OSError, smtplib.SMTPException):
            self.close()

    def send(self, message: Message, sender: str, recipient: str,
             before_data: Callable[[], None] | None = None) -> None:
        """Send one message to one recipient; ``before_data()`` runs once the relay asked for
        the data, just before it goes (what raises there drops the connection: nothing of
        the message went).

        Raises RecipientRefused (5xx), TransientError (4xx or ConnectionLost: not sent), or
        OutcomeUnknown (the connection broke once the data had begun).
        """
        connection = self.connection
        if connection is None:
            raise ConnectionLost(_("SMTP 연결이 없습니다."))
        data = _wire_bytes(message, self.signer)
        try:
            connection.ehlo_or_helo_if_needed()
            self._expect(connection.mail(envelope_of(message, sender)), 250)
            self._expect(connection.rcpt(recipient), 250, 251)
            connection.putcmd("data")
            self._expect(connection.getreply(), 354)
        except (OSError, smtplib.SMTPServerDisconnected) as exc:
            self.close()
            raise ConnectionLost(_("SMTP 연결 오류: %(error)s", error=exc)) from exc
        if before_data is not None:
            try:
                before_data()
            except BaseException:
                self.close()  # the relay waits for data that will not come: let it go
                raise
        try:
            connection.send(data)
            answer = connection.getreply()
        except (OSError, smtplib.SMTPServerDisconnected) as exc:
            self.close()
            raise OutcomeUnknown(_("메시지를 보내는 중 연결이 끊겨 전달 여부를 알 수 없습니다: "
                                   "%(error)s", error=exc)) from exc
        if answer[0] == -1:  # smtplib's way of saying the reply never came
            self.close()
            raise OutcomeUnknown(_("메시지를 보낸 뒤 서버의 응답이 없어 전달 여부를 알 수 "
                                   "없습니다."))
        self._expect(answer, 250)

    def close(self) -> None:
        """Close the connection without a word (it may be broken)."""
        _open.discard(self)
        if self.connection is not None:
            try:
                self.connection.close()
            finally:
                self.connection = None

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self.connection is not None:
            try:
                self.connection.quit()
            except (OSError, smtplib.SMTPException):
                pass
            self.close()


def abort_all() -> int:
    """Cut every SMTP connection of this process at once (from any thread): a job run in
    the worker's own process has no work horse to kill, so a stop-job command ends its
    sends this way. A message on the wire at that moment ends ``unknown``. How many."""
    cut = 0
    for batch in list(_open):
        sock = getattr(batch.connection, "sock", None)
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
                cut += 1
            except OSError:
                pass
    return cut
