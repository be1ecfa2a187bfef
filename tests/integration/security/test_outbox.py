"""Issue 9, point 9: ``/outbox`` (the dev stack's captured mail) shows a user only the mails
of their own tasks: another user's mail is absent from the list and 404 on its page."""

from __future__ import annotations

import os
import smtplib
from collections.abc import Iterator
from email.message import EmailMessage
from email.policy import SMTP
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.devstack import SavingHandler, start_smtp_sink
from app.extensions import db
from app.mail.sender import message_id
from app.models import Task
from tests.support import wait_until
from tests.support.flows import AuthActions, post_send, tasks, wait_for_task

SENDER = "Mailroom <mailroom@localhost>"


@pytest.fixture
def outbox(tmp_path: Any) -> Iterator[Any]:
    """The dev stack's sink: every mail it accepts saved as a .eml file."""
    directory = tmp_path / "outbox"
    controller = start_smtp_sink(SavingHandler(str(directory)))
    controller.directory = str(directory)
    yield controller
    controller.stop()


@pytest.fixture
def app_config(app_config: dict[str, Any], outbox: Any) -> dict[str, Any]:
    app_config.update(OUTBOX_DIR=outbox.directory, MAIL_SERVER="127.0.0.1",
                      MAIL_PORT=outbox.port, MAIL_DEFAULT_SENDER=SENDER)
    return app_config


def new_task(app: Flask, username: str) -> int:
    with app.app_context():
        task = Task(name="send_mail", description="sent", username=username, status="finished")
        db.session.add(task)
        db.session.commit()
        return task.id


def capture(outbox: Any, subject: str, msg_id: str | None) -> str:
    """Send one mail through the sink over SMTP; the name of the file it saved."""
    before = set(os.listdir(outbox.directory))
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = SENDER, "to@example.com", subject
    message.set_content(f"body of {subject}")
    raw = message.as_bytes(policy=SMTP)
    if msg_id is not None:  # as given, byte for byte: the email package would mend it
        raw = f"Message-ID: {msg_id}\r\n".encode() + raw
    with smtplib.SMTP("127.0.0.1", outbox.port, timeout=10) as smtp:
        smtp.sendmail(SENDER, ["to@example.com"], raw)
    [name] = wait_until(lambda: set(os.listdir(outbox.directory)) - before, 10, "the .eml")
    return name


def mail_of(app: Flask, outbox: Any, username: str, subject: str) -> str:
    task_id = new_task(app, username)
    return capture(outbox, subject, message_id(task_id, "to@example.com", SENDER))


def test_each_user_sees_only_their_own_mails(app: Flask, auth: AuthActions,
                                             signed_in: FlaskClient, outbox: Any) -> None:
    auth.create("bob")
    alices = mail_of(app, outbox, "alice", "alice-subject")
    bobs = mail_of(app, outbox, "bob", "bob-subject")
    foreign = capture(outbox, "foreign-subject", "<1234@elsewhere.example>")
    anonymous = capture(outbox, "no-id-subject", None)

    page = signed_in.get("/outbox/").get_data(as_text=True)
    assert "alice-subject" in page and alices in page and "(1통)" in page
    for hidden in ("bob-subject", bobs, "foreign-subject", "no-id-subject"):
        assert hidden not in page
    assert signed_in.get(f"/outbox/{alices}").status_code == 200
    for name in (bobs, foreign, anonymous):
        assert signed_in.get(f"/outbox/{name}").status_code == 404

    auth.logout()
    assert auth.login("bob").status_code == 302
    page = signed_in.get("/outbox/").get_data(as_text=True)
    assert "bob-subject" in page and "alice-subject" not in page
    assert signed_in.get(f"/outbox/{bobs}").status_code == 200
    assert signed_in.get(f"/outbox/{alices}").status_code == 404


@pytest.mark.parametrize("msg_id", [
    "<mailroom.99999999999999999999999.0123abcd@localhost>",  # no such id can exist
    "<mailroom.9223372036854775813.0123abcd@localhost>",
    "<mailroom.1.0123abcd@localhost> <mailroom.2.0123abcd@localhost>",
    "<mailroom.1.0123abcd@localhost> trailing",
    "<mailroom.1.0123abcd@localhost>\r\nMessage-ID: <mailroom.1.0123abcd@localhost>",
    "<mailroom.x.0123abcd@localhost>",
])
def test_forged_or_odd_message_ids_belong_to_no_one(app: Flask, signed_in: FlaskClient,
                                                    outbox: Any, msg_id: str) -> None:
    new_task(app, "alice")  # alice owns task 1
    name = capture(outbox, "odd-subject", msg_id)
    response = signed_in.get("/outbox/")
    assert response.status_code == 200 and "odd-subject" not in response.get_data(as_text=True)
    assert signed_in.get(f"/outbox/{name}").status_code == 404


def test_a_mail_the_worker_sent_is_its_owners_alone(app: Flask, auth: AuthActions,
                                                    signed_in: FlaskClient, outbox: Any,
                                                    start_worker: Any) -> None:
    auth.create("bob")
    start_worker()
    post_send(signed_in, "reader@example.com", "notice")
    [row] = tasks(app)
    wait_for_task(app, row.id, lambda t: t.status == "finished", what="the send")
    [name] = wait_until(lambda: os.listdir(outbox.directory), 10, "the captured mail")

    page = signed_in.get("/outbox/").get_data(as_text=True)
    assert name in page and "reader@example.com" in page
    assert signed_in.get(f"/outbox/{name}").status_code == 200

    auth.logout()
    assert auth.login("bob").status_code == 302
    assert name not in signed_in.get("/outbox/").get_data(as_text=True)
    assert signed_in.get(f"/outbox/{name}").status_code == 404
