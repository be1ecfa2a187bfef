"""Issue 17, point 5: Mailroom verifies the relay it talks to. An impostor relay (aiosmtpd
with STARTTLS or implicit TLS and AUTH, a self-signed certificate for another name) gets
neither the password nor a message, and the send fails saying why; the real relay (its
certificate in MAIL_TLS_CA_FILE, naming MAIL_SERVER) gets both. A login never goes over a
plain connection unless the relay is this machine."""

from __future__ import annotations

import base64
import shutil
import ssl
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult
from flask import Flask

from app import config
from app.cli import create_user
from app.extensions import db
from app.mail.relay import (
    PlainLoginRefused,
    RelayCertificateError,
    is_loopback,
    login_allowed,
)
from app.mail.sender import SmtpConnection
from app.models import Delivery
from app.tasks.decorators import TransientError
from app.tasks.service import Mailing, TaskService
from tests.support import free_port, skip_or_fail
from tests.support.flows import ended, wait_for_task
from tests.support.sink import RecordingHandler

USER, PASSWORD = "mailroom", "relay-password-7f3a9c"
SENDER = "Mailroom <mailroom@example.com>"


# -- certificates and relays ---------------------------------------------------------------

@dataclass
class Cert:
    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        """What the relay presents."""
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.key)
        return context


def make_cert(directory: Path, name: str, san: str) -> Cert:
    """A self-signed certificate made with the openssl CLI."""
    cert = Cert(directory / f"{name}.pem", directory / f"{name}.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
                    "-subj", f"/CN={name}", "-addext", f"subjectAltName={san}",
                    "-keyout", str(cert.key), "-out", str(cert.cert)],
                   check=True, capture_output=True, timeout=60)
    return cert


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Cert]:
    """``impostor``: for impostor.example; ``relay``: for localhost and 127.0.0.1."""
    if shutil.which("openssl") is None:
        skip_or_fail("the TLS tests make their certificates with the openssl CLI")
    directory = tmp_path_factory.mktemp("certs")
    return {"impostor": make_cert(directory, "impostor.example", "DNS:impostor.example"),
            "relay": make_cert(directory, "localhost", "DNS:localhost,IP:127.0.0.1")}


@dataclass
class Wire:
    """Everything clients sent a relay (decrypted after TLS), and every AUTH it was asked."""

    chunks: list[bytes] = field(default_factory=list)
    auths: list[tuple[str, Any, bool]] = field(default_factory=list)  # mechanism, data, TLS

    def saw_password(self) -> bool:
        """The password in any form a client could send it (clear, base64, AUTH PLAIN)."""
        data = b"".join(self.chunks)
        forms = [PASSWORD.encode(), base64.b64encode(PASSWORD.encode()),
                 base64.b64encode(f"\0{USER}\0{PASSWORD}".encode())]
        return any(form in data for form in forms)

    def authenticator(self, server: Any, session: Any, envelope: Any, mechanism: str,
                      auth_data: Any) -> AuthResult:
        """Record every attempt; accept the right password (an impostor would take any)."""
        encrypted = server.transport.get_extra_info("ssl_object") is not None
        self.auths.append((mechanism, auth_data, encrypted))
        ok = (getattr(auth_data, "login", None), getattr(auth_data, "password", None)) == (
            USER.encode(), PASSWORD.encode())
        return AuthResult(success=ok)


class WiretapSMTP(SMTP):
    """aiosmtpd's server, keeping every byte a client sends."""

    def __init__(self, handler: Any, wire: Wire, **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self.wire = wire

    def data_received(self, data: bytes) -> None:
        self.wire.chunks.append(bytes(data))
        super().data_received(data)


class WiretapController(Controller):
    """A Controller whose servers are wiretapped."""

    def __init__(self, handler: Any, wire: Wire, **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self.wire = wire

    def factory(self) -> SMTP:
        return WiretapSMTP(self.handler, self.wire, **self.SMTP_kwargs)


@dataclass
class Relay:
    port: int
    handler: RecordingHandler
    wire: Wire


@pytest.fixture
def start_relay() -> Iterator[Any]:
    """Start relays on 127.0.0.1: ``mode`` is ``starttls`` (STARTTLS required), ``ssl``
    (implicit TLS) or ``plain``; all offer AUTH (over plain connections too)."""
    started: list[Controller] = []

    def start(mode: str, cert: Cert | None = None) -> Relay:
        handler, wire = RecordingHandler(), Wire()
        options: dict[str, Any] = {"authenticator": wire.authenticator,
                                   "auth_require_tls": False}
        if mode == "starttls":
            assert cert is not None
            options.update(tls_context=cert.server_context(), require_starttls=True)
        if mode == "ssl":
            assert cert is not None
            options["ssl_context"] = cert.server_context()
        controller = WiretapController(handler, wire, hostname="127.0.0.1", port=free_port(),
                                       **options)
        controller.start()
        started.append(controller)
        wire.chunks.clear()  # the controller's own readiness probe
        return Relay(controller.port, handler, wire)

    yield start
    for controller in started:
        controller.stop()


def mail_config(tmp_path: Path, relay: Relay | None = None, **settings: Any) -> dict[str, Any]:
    """The app's mail settings (defaults from app.config) for ``relay``, with a login."""
    values = config.load({}, str(tmp_path))
    values.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=relay.port if relay else 1,
                  MAIL_USERNAME=USER, MAIL_PASSWORD=PASSWORD, MAIL_TIMEOUT_SECONDS=10)
    values.update(settings)
    return values


def send_one(settings: dict[str, Any], recipient: str = "kim@example.org") -> None:
    """Connect, send one message, quit: as a send's connection does."""
    message = EmailMessage()
    message["Subject"], message["From"], message["To"] = "Hello", SENDER, recipient
    message.set_content("A test message.")
    with SmtpConnection(settings) as smtp:
        smtp.send(message, SENDER, recipient)


# -- an impostor gets nothing ----------------------------------------------------------------

@pytest.mark.parametrize("mode,trusted,reason", [
    ("starttls", False, "signed certificate"),  # self-signed: nobody vouches for it
    ("starttls", True, "mismatch"),             # a trusted certificate for another name
    ("ssl", False, "signed certificate"),
])
def test_an_impostor_relay_never_gets_the_password(certs: dict[str, Cert], start_relay: Any,
                                                   tmp_path: Path, mode: str, trusted: bool,
                                                   reason: str) -> None:
    relay = start_relay(mode, certs["impostor"])
    settings = mail_config(tmp_path, relay, MAIL_USE_TLS=mode == "starttls",
                           MAIL_USE_SSL=mode == "ssl",
                           MAIL_TLS_CA_FILE=str(certs["impostor"].cert) if trusted else None)
    with pytest.raises(RelayCertificateError) as refused:
        send_one(settings)
    message = str(refused.value)
    assert "인증서를 확인할 수 없어" in message and reason in message
    assert f"127.0.0.1:{relay.port}" in message and "비밀번호와 메일은 보내지 않았습니다" in message
    assert isinstance(refused.value, TransientError)  # see RelayCertificateError: a retry
    assert relay.wire.auths == [] and not relay.wire.saw_password()
    assert relay.handler.count() == 0


# -- the real relay gets the mail --------------------------------------------------------------

@pytest.mark.parametrize("mode,server", [("starttls", "127.0.0.1"), ("starttls", "localhost"),
                                         ("ssl", "127.0.0.1")])
def test_the_relay_whose_certificate_names_it_gets_login_and_mail(
        certs: dict[str, Cert], start_relay: Any, tmp_path: Path, mode: str,
        server: str) -> None:
    relay = start_relay(mode, certs["relay"])
    send_one(mail_config(tmp_path, relay, MAIL_SERVER=server, MAIL_USE_TLS=mode == "starttls",
                         MAIL_USE_SSL=mode == "ssl", MAIL_TLS_CA_FILE=str(certs["relay"].cert)))
    assert relay.handler.recipients() == ["kim@example.org"]
    assert [(mechanism, tls) for mechanism, _, tls in relay.wire.auths] == [("PLAIN", True)]


def test_an_unreadable_ca_file_is_a_clear_setting_error(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="MAIL_TLS_CA_FILE"):
        SmtpConnection(mail_config(tmp_path, MAIL_USE_TLS=True,
                              MAIL_TLS_CA_FILE=str(tmp_path / "missing.pem")))


# -- no login in clear, except to this machine ------------------------------------------------

@pytest.mark.parametrize("server,allowed", [
    ("127.0.0.1", True), ("127.8.9.10", True), ("::1", True), ("[::1]", True),
    ("localhost", True), ("LOCALHOST.", True), ("relay.example.com", False),
    ("192.0.2.10", False), ("10.0.0.1", False), ("::ffff:8.8.8.8", False),
    ("localhost.example.com", False), ("", False),
])
def test_a_plain_login_goes_only_to_this_machine(server: str, allowed: bool) -> None:
    assert is_loopback(server) is allowed
    assert login_allowed(False, server) is allowed
    assert login_allowed(True, server) is True


def test_a_plain_login_to_a_remote_relay_is_refused_before_connecting(tmp_path: Path) -> None:
    settings = mail_config(tmp_path, MAIL_SERVER="relay.example.com", MAIL_PORT=587)
    with pytest.raises(PlainLoginRefused, match="암호화되지 않은 연결로는") as refused:
        SmtpConnection(settings)
    assert "비밀번호를 보내지 않았습니다" in str(refused.value)
    assert not isinstance(refused.value, TransientError)  # permanent: a setting to fix
    SmtpConnection({**settings, "MAIL_USERNAME": None})  # no login: plain is the operator's call
    SmtpConnection({**settings, "MAIL_USE_TLS": True})


def test_a_plain_login_to_a_loopback_relay_is_allowed(start_relay: Any,
                                                      tmp_path: Path) -> None:
    relay = start_relay("plain")
    send_one(mail_config(tmp_path, relay))
    assert relay.handler.recipients() == ["kim@example.org"]
    assert [(mechanism, tls) for mechanism, _, tls in relay.wire.auths] == [("PLAIN", False)]
    assert relay.wire.saw_password()  # the wiretap that saw nothing above does see one


# -- the job path, on a real worker -----------------------------------------------------------

@pytest.fixture
def impostor(certs: dict[str, Cert], start_relay: Any) -> Relay:
    return start_relay("starttls", certs["impostor"])


@pytest.fixture
def app_config(app_config: dict[str, Any], impostor: Relay) -> dict[str, Any]:
    app_config.update(MAIL_PORT=impostor.port, MAIL_USE_TLS=True, MAIL_USERNAME=USER,
                      MAIL_PASSWORD=PASSWORD, TASK_RETRY_INTERVALS="1")
    return app_config


def send_task(app: Flask) -> int:
    """A send of two recipients, by ``alice``."""
    with app.app_context():
        create_user("alice", "correct horse battery")
        return TaskService("alice").send(Mailing.named(
            "welcome", "alice", ["kim@example.org", "lee@example.org"])).id


def test_a_send_through_an_impostor_fails_with_the_reason(app: Flask, impostor: Relay,
                                                          start_worker: Any) -> None:
    task_id = send_task(app)
    start_worker()
    done = wait_for_task(app, task_id, ended, what="the send to give up")
    assert (done.status, done.failed, done.delivered_count) == ("finished", True, 0)
    assert "인증서를 확인할 수 없어" in (done.log or "")
    assert done.attempts == 2  # retried once (TASK_RETRY_INTERVALS), then given up
    with app.app_context():
        rows = db.session.scalars(db.select(Delivery).filter_by(task_id=task_id)).all()
        # Not sent: when the retries ran out each was settled with the reason, and is
        # offered for a resend (``which=failed``) once the relay is fixed.
        assert {row.status for row in rows} == {"refused"}
        assert all("보내지 못했습니다" in (row.error or "") and "인증서를 확인할 수 없어"
                   in (row.error or "") for row in rows)
    assert impostor.wire.auths == [] and not impostor.wire.saw_password()
    assert impostor.handler.count() == 0


def test_a_send_that_would_log_in_in_clear_fails_at_once(app: Flask, impostor: Relay,
                                                         start_worker: Any) -> None:
    app.config.update(MAIL_SERVER="relay.example.com", MAIL_USE_TLS=False)
    task_id = send_task(app)
    start_worker()
    done = wait_for_task(app, task_id, ended, what="the send to fail")
    assert (done.status, done.failed, done.attempts) == ("finished", True, 1)  # no retry
    assert "PlainLoginRefused" in (done.log or "")
    assert "비밀번호를 보내지 않았습니다" in (done.log or "")
    assert impostor.wire.chunks == []
