"""The relay's side of trust: TLS that verifies the relay's certificate against
MAIL_SERVER (system CAs or MAIL_TLS_CA_FILE), and the rule that a password goes only over
TLS or to this machine."""

from __future__ import annotations

import functools
import ipaddress
import ssl
from typing import Any

from flask_babel import gettext as _

from app.tasks.decorators import TransientError


class RecipientRefused(Exception):
    """The server refused this recipient for good (a 5xx answer)."""


class RelayCertificateError(TransientError):
    """The relay's certificate could not be verified: dropped before a password or a message
    goes. Retried as an unreachable relay is: a retry sends nothing more, and a certificate
    renewed, a CA file installed or an interception ended mends it without the user."""

    def __init__(self, server: str, reason: str) -> None:
        super().__init__(_("SMTP 서버 %(server)s의 인증서를 확인할 수 없어 연결을 끊었습니다"
                           "(%(reason)s). 비밀번호와 메일은 보내지 않았습니다. 다른 서버가 "
                           "끼어들었거나 MAIL_SERVER·MAIL_TLS_CA_FILE이 인증서와 맞지 않습니다.",
                           server=server, reason=reason.rstrip(".")))


class PlainLoginRefused(RecipientRefused):
    """A login over an unencrypted connection to a relay that is not this machine: the
    password is never sent. Permanent: a setting to fix, not worth a retry."""

    def __init__(self, server: str) -> None:
        super().__init__(_("암호화되지 않은 연결로는 SMTP 서버 %(server)s에 로그인하지 않습니다"
                           "(비밀번호를 보내지 않았습니다). MAIL_USE_TLS나 MAIL_USE_SSL을 켜세요.",
                           server=server))


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and addresses in 127.0.0.0/8 or ``::1``: this machine."""
    name = host.strip().strip("[]").rstrip(".").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def login_allowed(encrypted: bool, server: str) -> bool:
    """Whether a password may go over this connection: encrypted, or to this machine."""
    return encrypted or is_loopback(server)


def tls_context(config: Any) -> ssl.SSLContext | None:
    """The verifying TLS context of the relay connection (system CAs, or MAIL_TLS_CA_FILE;
    the certificate must name MAIL_SERVER); None when neither TLS setting is on."""
    if not (config.get("MAIL_USE_SSL") or config.get("MAIL_USE_TLS")):
        return None
    cafile = config.get("MAIL_TLS_CA_FILE") or None
    try:
        return _verifying_context(cafile)
    except OSError as exc:  # ssl.SSLError too: a file that is not PEM certificates
        raise RuntimeError(_("MAIL_TLS_CA_FILE %(file)s을(를) 읽을 수 없습니다: %(error)s",
                             file=cafile, error=exc)) from exc


@functools.lru_cache(maxsize=4)  # loading the CAs took 30 ms: once per process, not per send
def _verifying_context(cafile: str | None) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=cafile)
