"""The bounce mailbox poller against an IMAP server on loopback (tests/support/imap.py):
a DSN it matches to a delivery is acted on and deleted; an auto-reply and a bounce of mail
that is not ours are moved aside, whole, for a person to read — never deleted; with no
folder to move them to they stay where they are. Over imaps too, and run by
``python worker.py`` as configured."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from app.bounces.mailbox import poll_once, read_url
from app.bounces.verp import envelope_sender
from app.extensions import db
from app.models import Delivery, Suppression, Task
from app.models.types import utcnow
from tests.support import wait_until
from tests.support.bounces import postfix_dsn
from tests.support.flows import account
from tests.support.imap import FakeImap, self_signed

AUTO_REPLY = (b"From: someone@example.net\r\nTo: bounces@bounce.example.com\r\n"
              b"Subject: Out of office\r\nAuto-Submitted: auto-replied\r\n\r\n"
              b"I am away until Monday.\r\n")


@pytest.fixture
def imap() -> Iterator[FakeImap]:
    with FakeImap("bounces", "imap-password") as server:
        yield server


@pytest.fixture
def app_config(app_config: dict[str, Any], imap: FakeImap) -> dict[str, Any]:
    app_config.update(MAIL_BOUNCE_ADDRESS="bounces@bounce.example.com",
                      BOUNCE_IMAP_URL=f"imap://bounces:imap-password@127.0.0.1:{imap.port}"
                                      "/INBOX", BOUNCE_IMAP_INTERVAL_SECONDS=0.5)
    return app_config


def delivered(app: Flask, address: str) -> tuple[int, int]:
    account(app)
    with app.app_context():
        task = Task(name="send_mail", description="d", username="alice", status="finished",
                    recipient_count=1, delivered_count=1)
        db.session.add(task)
        db.session.flush()
        row = Delivery(task_id=task.id, recipient=address, status="delivered",
                       updated_at=utcnow() - timedelta(minutes=5))
        db.session.add(row)
        db.session.commit()
        return task.id, row.id


def test_only_matched_messages_are_deleted(app: Flask, imap: FakeImap) -> None:
    ids = delivered(app, "gone@example.org")
    with app.app_context():
        verp = envelope_sender(app.config, *ids)
    ours = postfix_dsn(verp, "gone@example.org")
    foreign = postfix_dsn("bounces@other.example.net", "stranger@example.net")
    for raw in (ours, AUTO_REPLY, foreign):
        imap.boxes.add("INBOX", raw)
    assert poll_once(app) == {"matched": 1, "moved": 2, "left": 0}
    assert imap.boxes.raws("INBOX") == []
    assert imap.boxes.raws("Mailroom-unmatched") == [AUTO_REPLY, foreign]  # whole
    with app.app_context():
        assert db.session.get(Delivery, ids[1]).status == "bounced"
        assert db.session.scalar(db.select(Suppression.source)) == "bounce"


def test_without_a_folder_aside_unmatched_mail_stays_put(app: Flask, imap: FakeImap) -> None:
    app.config["BOUNCE_IMAP_FOLDER"] = ""
    imap.boxes.add("INBOX", AUTO_REPLY)
    assert poll_once(app) == {"matched": 0, "moved": 0, "left": 1}
    assert poll_once(app) == {"matched": 0, "moved": 0, "left": 1}  # read again, kept again
    assert imap.boxes.raws("INBOX") == [AUTO_REPLY]


def test_plain_imap_goes_to_this_machine_only() -> None:
    assert read_url("imaps://u:p%40ss@imap.example.com/Bounces").password == "p@ss"
    assert read_url("imaps://u:p@imap.example.com").port == 993
    with pytest.raises(ValueError):
        read_url("imap://u:p@imap.example.com/INBOX")


def test_over_imaps_with_the_servers_own_certificate(app: Flask, tmp_path: Path) -> None:
    cert = self_signed(tmp_path)
    with FakeImap("bounces", "imap-password", tls=cert) as secure:
        ids = delivered(app, "gone@example.org")
        verp = envelope_sender(app.config, *ids)
        secure.boxes.add("INBOX", postfix_dsn(verp, "gone@example.org"))
        app.config["BOUNCE_IMAP_URL"] = (f"imaps://bounces:imap-password@127.0.0.1:"
                                         f"{secure.port}/INBOX")
        with pytest.raises(OSError):  # not a certificate the system trusts
            poll_once(app)
        app.config["BOUNCE_IMAP_CA_FILE"] = str(cert[0])
        assert poll_once(app)["matched"] == 1
        assert secure.boxes.raws("INBOX") == []


def test_worker_py_runs_the_poller(app: Flask, imap: FakeImap, start_worker: Any) -> None:
    ids = delivered(app, "gone@example.org")
    with app.app_context():
        verp = envelope_sender(app.config, *ids)
    imap.boxes.add("INBOX", postfix_dsn(verp, "gone@example.org"))
    imap.boxes.add("INBOX", AUTO_REPLY)
    start_worker()
    wait_until(lambda: imap.boxes.raws("INBOX") == [], 30, "the poller to read the mailbox")
    assert imap.boxes.raws("Mailroom-unmatched") == [AUTO_REPLY]
    with app.app_context():
        assert db.session.get(Delivery, ids[1]).status == "bounced"
