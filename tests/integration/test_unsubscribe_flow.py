"""Mail that mailbox providers accept (issue 13), end to end with a real ``python
worker.py`` and the recording sink: every message carries one-click unsubscribe headers,
POSTing its link as a provider does (no cookie) suppresses the address, later sends and
reservations made earlier skip it, and a DKIM-signed message verifies."""

from __future__ import annotations

import math
import re
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import dkim
import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.extensions import db
from app.models import Suppression
from tests.support.dkim_keys import DOMAIN, SELECTOR, published
from tests.support.flows import ended, flashes, post_send, tasks, wait_for_task
from tests.support.flows import outcomes as outcomes_in

EVERYONE = ["kim@example.com", "lee@example.com", "park@example.com"]


@pytest.fixture
def app_config(app_config: dict[str, Any], smtp_sink: Any) -> dict[str, Any]:
    app_config.update(RESERVATION_MIN_LEAD_SECONDS=3,
                      PUBLIC_BASE_URL="https://mail.example.com")
    return app_config


def link_of(received: Any) -> str:
    """The https link in a message's List-Unsubscribe header."""
    header = str(received.message["List-Unsubscribe"])
    found = re.search(r"<(https://[^>]+)>", header)
    assert found, header
    return found.group(1)


def outcomes(client: FlaskClient, task_id: int) -> dict[str, str]:
    return outcomes_in(client.get(f"/tasks/{task_id}").get_data(as_text=True))


def suppressed(app: Flask) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(db.select(Suppression.address)))


def test_one_click_unsubscribe_then_the_next_send_skips(app: Flask, signed_in: FlaskClient,
                                                       smtp_sink: Any,
                                                       start_worker: Any) -> None:
    start_worker()
    post_send(signed_in, ",".join(EVERYONE))
    first = wait_for_task(app, tasks(app)[0].id, ended, what="the first send")
    assert first.delivered_count == 3
    lee = next(m for m in smtp_sink.handler.messages if m.rcpt_tos == ["lee@example.com"])
    assert lee.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = link_of(lee)
    assert link.startswith("https://mail.example.com/unsubscribe/")
    assert link in lee.message.get_body(("plain",)).get_content()  # the built-in's footer

    provider = app.test_client()  # a mailbox provider: no session, no CSRF token
    path = link.removeprefix("https://mail.example.com")
    forged = path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB")
    assert provider.post(forged, data={"List-Unsubscribe": "One-Click"}).status_code == 404
    assert suppressed(app) == []
    answer = provider.post(path, data={"List-Unsubscribe": "One-Click"})
    assert answer.status_code == 200
    assert suppressed(app) == ["lee@example.com"]

    post_send(signed_in, ",".join(EVERYONE))
    assert ("info", "받는 사람 중 1명은 수신 거부 목록에 있어 보내지 않습니다 (보낼 때 다시 "
            "확인합니다).") in flashes(signed_in)
    second = wait_for_task(app, tasks(app)[-1].id, ended, what="the second send")
    mailed = [m.rcpt_tos[0] for m in smtp_sink.handler.messages]
    assert mailed.count("lee@example.com") == 1 and len(mailed) == 5
    assert (second.status, second.failed, second.delivered_count, second.failed_count) == \
        ("finished", False, 2, 0)
    assert outcomes(signed_in, second.id) == {"kim@example.com": "delivered",
                                              "lee@example.com": "suppressed",
                                              "park@example.com": "delivered"}


def test_reservation_made_before_the_unsubscribe_skips_when_it_fires(
        app: Flask, signed_in: FlaskClient, smtp_sink: Any, start_worker: Any) -> None:
    when = datetime.fromtimestamp(math.ceil(time.time()) + 4, UTC)
    local = when.astimezone(ZoneInfo("Asia/Seoul")).strftime("%Y-%m-%dT%H:%M:%S")
    post_send(signed_in, ",".join(EVERYONE), is_scheduled="y", scheduled_time=local)
    [row] = tasks(app)
    assert row.status == "reserved"
    with app.app_context():
        Suppression.add("alice", ["park@example.com"], "unsubscribe")
    start_worker()
    done = wait_for_task(app, row.id, ended, what="the reservation")
    assert sorted(m.rcpt_tos[0] for m in smtp_sink.handler.messages) == EVERYONE[:2]
    assert done.delivered_count == 2
    assert outcomes(signed_in, row.id)["park@example.com"] == "suppressed"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_signed_mail_verifies(app_config: dict[str, Any], key_path: Path, app: Flask,
                              signed_in: FlaskClient, smtp_sink: Any,
                              start_worker: Any) -> None:
    app.config.update(MAIL_DKIM_SELECTOR=SELECTOR, MAIL_DKIM_DOMAIN=DOMAIN,
                      MAIL_DKIM_PRIVATE_KEY_PATH=str(key_path),
                      MAIL_DEFAULT_SENDER=f"Mailroom <news@{DOMAIN}>")
    start_worker()
    post_send(signed_in, "kim@example.com", template="notice")
    wait_for_task(app, tasks(app)[0].id, ended, what="the send")
    [received] = smtp_sink.handler.messages
    raw = received.raw
    assert b"DKIM-Signature:" in raw
    signature = raw.split(b"DKIM-Signature:", 1)[1].split(b"\r\n\r\n", 1)[0]
    assert b"list-unsubscribe" in signature.lower()
    lookup = published(key_path.read_bytes())
    assert dkim.verify(raw, dnsfunc=lookup)
    assert not dkim.verify(raw.replace(b"Mailroom", b"Mai1room", 1), dnsfunc=lookup)
