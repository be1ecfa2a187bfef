"""Bounces end to end with real parts: a real ``python worker.py`` runs the SMTP bounce
receiver beside its worker; the sink accepts every address and, a moment later, mails a
Postfix DSN for one of them to that message's VERP envelope sender; the task's page then
shows the address ``bounced`` with the server's diagnostic, the suppression list has it
(source ``bounce``), and the next send skips it (``suppressed``), as does a resend of
an earlier send's failed recipients. Soft bounces put an address on the list only at the
third within 30 days."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.devstack import start_smtp_sink
from app.extensions import db
from app.models import Bounce, Suppression
from tests.support import free_port, wait_until
from tests.support.bounces import BouncingHandler, listening
from tests.support.flows import csrf_token, ended, post_send, tasks, wait_for_task
from tests.support.flows import outcomes as outcomes_in

GONE = "gone@example.org"
REPLY = "550 5.1.1 <gone@example.org>: Recipient address rejected: User unknown"
FULL = "full@example.org"  # bounces softly: its mailbox is full


@pytest.fixture
def bounce_port() -> int:
    return free_port()


@pytest.fixture
def smtp_sink(bounce_port: int) -> Iterator[Any]:
    """The sink of this module: it bounces GONE to the receiver on ``bounce_port``."""
    handler = BouncingHandler(bounce={GONE: ("5.1.1", REPLY),
                                      FULL: ("4.2.2", "452 4.2.2 Mailbox full")},
                              receiver=("127.0.0.1", bounce_port))
    controller = start_smtp_sink(handler)
    controller.handler = handler
    yield controller
    controller.stop()


@pytest.fixture
def app_config(app_config: dict[str, Any], smtp_sink: Any, bounce_port: int) -> dict[str, Any]:
    app_config.update(MAIL_BOUNCE_ADDRESS="bounces@bounce.example.com",
                      BOUNCE_SMTP_HOST="127.0.0.1", BOUNCE_SMTP_PORT=bounce_port)
    return app_config


def page_outcomes(client: FlaskClient, task_id: int) -> dict[str, str]:
    return outcomes_in(client.get(f"/tasks/{task_id}").get_data(as_text=True))


def test_a_dsn_marks_the_recipient_bounced_and_the_next_send_skips_it(
        app: Flask, signed_in: FlaskClient, smtp_sink: Any, start_worker: Any,
        bounce_port: int) -> None:
    start_worker()
    wait_until(lambda: listening(bounce_port), 20, "the bounce receiver to listen")
    smtp_sink.handler.refuse = {GONE}  # an earlier send: refused then (550 at RCPT)
    post_send(signed_in, GONE)
    earlier = wait_for_task(app, tasks(app)[0].id, ended, what="the earlier send")
    assert earlier.failed_count == 1
    smtp_sink.handler.refuse = set()
    post_send(signed_in, f"ok@example.com,{GONE}")
    first = wait_for_task(app, tasks(app)[-1].id, ended, what="the first send")
    assert first.delivered_count + first.bounced_count == 2
    # Each message went with its own VERP envelope sender; From stayed the sender.
    envelopes = {m.rcpt_tos[0]: m.envelope_from for m in smtp_sink.handler.messages}
    assert all(e.startswith("bounces+") and e.endswith("@bounce.example.com")
               for e in envelopes.values())
    assert envelopes["ok@example.com"] != envelopes[GONE]
    assert all("bounces+" not in str(m.message["From"]) for m in smtp_sink.handler.messages)

    wait_until(lambda: page_outcomes(signed_in, first.id).get(GONE) == "bounced", 30,
               "the DSN to mark the recipient bounced")
    html = signed_in.get(f"/tasks/{first.id}").get_data(as_text=True)
    assert page_outcomes(signed_in, first.id)["ok@example.com"] == "delivered"
    assert "User unknown" in html  # the server's diagnostic, as the reason
    assert smtp_sink.handler.errors == []
    with app.app_context():
        entry = db.session.scalar(db.select(Suppression).filter_by(address=GONE))
        assert entry is not None and entry.source == "bounce"
        bounce = db.session.scalar(db.select(Bounce).filter_by(address=GONE))
        assert bounce.kind == "hard" and bounce.via == "smtp" and "multipart/report" in bounce.raw
    assert GONE in signed_in.get("/bounces").get_data(as_text=True)
    assert 'id="task-bounced">1<' in html  # the task's counts include the bounce
    assert "반송 1" in signed_in.get("/tasks").get_data(as_text=True)  # and the history's
    assert page_outcomes(signed_in, first.id) == {GONE: "bounced", "ok@example.com":
                                                  "delivered"}
    searched = signed_in.get(f"/tasks/{first.id}?outcome=bounced").get_data(as_text=True)
    assert outcomes_in(searched) == {GONE: "bounced"}

    post_send(signed_in, f"ok@example.com,{GONE}")
    second = wait_for_task(app, tasks(app)[-1].id, ended, what="the second send")
    assert page_outcomes(signed_in, second.id) == {"ok@example.com": "delivered",
                                                   GONE: "suppressed"}
    # A resend of the earlier send's failed recipients skips it too: suppressed since.
    signed_in.post(f"/tasks/{earlier.id}/resend", data={
        "which": "failed", "csrf_token": csrf_token(signed_in, f"/tasks/{earlier.id}")})
    resend = wait_for_task(app, tasks(app)[-1].id, ended, what="the resend")
    assert resend.resent_from == earlier.id
    assert page_outcomes(signed_in, resend.id) == {GONE: "suppressed"}
    assert smtp_sink.handler.recipients().count(GONE) == 1


def suppressed(app: Flask, address: str) -> bool:
    with app.app_context():
        return db.session.scalar(db.select(Suppression.id).filter_by(address=address)) \
            is not None


def test_soft_bounces_suppress_only_at_the_third(app: Flask, signed_in: FlaskClient,
                                                 smtp_sink: Any, start_worker: Any,
                                                 bounce_port: int) -> None:
    start_worker()
    wait_until(lambda: listening(bounce_port), 20, "the bounce receiver to listen")
    for n in (1, 2, 3):
        post_send(signed_in, FULL)
        task_id = wait_for_task(app, tasks(app)[-1].id, ended, what=f"send {n}").id
        wait_until(lambda t=task_id: page_outcomes(signed_in, t).get(FULL) == "bounced", 30,
                   f"soft bounce {n}")
        assert suppressed(app, FULL) == (n == 3), n
    post_send(signed_in, FULL)
    fourth = wait_for_task(app, tasks(app)[-1].id, ended, what="the fourth send")
    assert page_outcomes(signed_in, fourth.id) == {FULL: "suppressed"}
    assert smtp_sink.handler.recipients().count(FULL) == 3
