"""The bounce handler on the database (SQLite, and PostgreSQL when configured): what a hard
bounce, soft ones, a complaint and the same message twice do to the delivery, its task,
the suppression list and the owner's saved lists; VERP tokens that are forged or foreign."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.bounces.handle import NotYet, handle_message
from app.bounces.verp import envelope_sender, make_token, read_token
from app.extensions import db
from app.models import Bounce, Delivery, MailingList, Member, Suppression, Task
from app.models.types import utcnow
from tests.support.bounces import postfix_dsn
from tests.support.flows import account, csrf_token

FIXTURES = Path(__file__).parent.parent / "fixtures" / "bounces"
ADDRESS = "gone@example.org"


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    app_config.update(MAIL_BOUNCE_ADDRESS="bounces@bounce.example.com", BOUNCE_SOFT_LIMIT=3)
    return app_config


def sent(app: Flask, address: str = ADDRESS, status: str = "delivered") -> tuple[int, int]:
    """A finished task of alice's with one delivery to ``address``: (task id, delivery id)."""
    account(app)
    with app.app_context():
        task = Task(name="send_mail", description="d", username="alice", status="finished",
                    recipient_count=1, delivered_count=1 if status == "delivered" else 0)
        db.session.add(task)
        db.session.flush()
        row = Delivery(task_id=task.id, recipient=address, status=status,
                       updated_at=utcnow() - timedelta(hours=1))
        db.session.add(row)
        db.session.commit()
        return task.id, row.id


def dsn(app: Flask, ids: tuple[int, int], status: str = "5.1.1", reply: str = "550 5.1.1 "
        "User unknown", address: str = ADDRESS) -> tuple[bytes, str]:
    verp = envelope_sender(app.config, *ids)
    return postfix_dsn(verp, address, status, reply, f"<x{ids[1]}@example.com>"), verp


def suppression(app: Flask, address: str = ADDRESS) -> Suppression | None:
    with app.app_context():
        return db.session.scalar(db.select(Suppression).filter_by(address=address))


def test_tokens_are_signed_and_read_back(app: Flask) -> None:
    token = make_token(app.config, 12, 3456)
    assert read_token(app.config, token) == (12, 3456)
    assert read_token(app.config, token.upper()) == (12, 3456)  # a server folded its case
    forged = token[:-1] + ("a" if token[-1] != "a" else "b")
    assert read_token(app.config, forged) is None
    assert read_token(app.config, "c-2o1-" + token.split("-")[2]) is None  # another delivery
    assert read_token({**app.config, "SECRET_KEY": "another-key-entirely"}, token) is None
    rotated = {**app.config, "SECRET_KEY": "the-new-key-after-rotation",
               "SECRET_KEY_FALLBACKS": [app.config["SECRET_KEY"]]}
    assert read_token(rotated, token) == (12, 3456)
    address = envelope_sender(app.config, 12, 3456)
    assert address == f"bounces+{token}@bounce.example.com" and len(address.split("@")[0]) < 64


def test_a_hard_bounce_marks_the_delivery_and_suppresses_at_once(app: Flask) -> None:
    ids = sent(app)
    with app.app_context():
        db.session.add(MailingList(id=7, owner="alice", name="news", columns=[]))
        db.session.add(Member(list_id=7, address=ADDRESS, key=ADDRESS))
        db.session.commit()
        before = db.session.get(Delivery, ids[1]).updated_at
        raw, verp = dsn(app, ids)
        outcome = handle_message(raw, "smtp", [verp])
        assert outcome.matched == 1
        row = db.session.get(Delivery, ids[1])
        assert row.status == "bounced" and "User unknown" in row.error
        assert row.updated_at == before  # when it was delivered: kept
        task = db.session.get(Task, ids[0])
        assert (task.delivered_count, task.bounced_count) == (0, 1)
        assert db.session.scalar(db.select(Member.status)) == "bounced"
        bounce = db.session.scalar(db.select(Bounce))
        assert (bounce.kind, bounce.effect, bounce.owner) == ("hard", "suppressed", "alice")
        assert "matched by verp" in bounce.conclusion
    entry = suppression(app)
    assert entry is not None and entry.source == "bounce" and entry.sender_may_remove


def test_soft_bounces_suppress_only_at_the_third_within_30_days(app: Flask) -> None:
    with app.app_context():  # one from 31 days ago does not count
        db.session.add(Bounce(owner="alice", address=ADDRESS, kind="soft", via="smtp",
                              conclusion="old", effect="bounced", raw="", digest="old",
                              received_at=utcnow() - timedelta(days=31)))
        db.session.commit()
    for n in (1, 2, 3):
        ids = sent(app)
        with app.app_context():
            raw, verp = dsn(app, ids, "4.2.2", "452 4.2.2 Mailbox full")
            handle_message(raw, "smtp", [verp])
            assert db.session.get(Delivery, ids[1]).status == "bounced"
        assert (suppression(app) is None) == (n < 3), n
    with app.app_context():
        kinds = list(db.session.scalars(db.select(Bounce.effect).where(Bounce.digest != "old")
                                        .order_by(Bounce.id)))
    assert kinds == ["bounced", "bounced", "suppressed"]


def test_the_same_message_twice_is_acted_on_once(app: Flask) -> None:
    ids = sent(app)
    with app.app_context():
        raw, verp = dsn(app, ids, "4.2.2", "452 4.2.2 Mailbox full")
        handle_message(raw, "imap", [verp])
        handle_message(raw, "imap", [verp])
        assert db.session.scalar(db.select(db.func.count()).select_from(Bounce)) == 1
        assert db.session.get(Task, ids[0]).bounced_count == 1


def test_a_complaint_is_the_recipients_choice(app: Flask) -> None:
    ids = sent(app, "annoyed@example.net")
    raw = (FIXTURES / "arf_complaint.eml").read_bytes()
    with app.app_context():
        verp = envelope_sender(app.config, *ids)
        raw = raw.replace(b"bounces+1-8-abcdefghijklmnop@mail.example.com", verp.encode())
        assert handle_message(raw, "imap").matched == 1
        assert db.session.get(Delivery, ids[1]).status == "delivered"  # it did arrive
    entry = suppression(app, "annoyed@example.net")
    assert entry is not None and entry.source == "complaint" and not entry.sender_may_remove


def test_a_forged_token_falls_back_to_the_message_id_or_matches_nothing(app: Flask) -> None:
    ids = sent(app)
    with app.app_context():
        raw, verp = dsn(app, ids)
        forged = verp.replace(verp.split("-")[-1].split("@")[0], "a" * 16)
        raw = raw.replace(verp.encode(), forged.encode())
        db.session.execute(db.update(Delivery).values(recipient="other@example.org"))
        db.session.commit()
        assert handle_message(raw, "imap", [forged]).matched == 0
        assert db.session.scalar(db.select(Bounce.effect)) == "ignored"
    assert suppression(app) is None


def test_a_bounce_that_overtakes_its_delivery_waits(app: Flask) -> None:
    ids = sent(app, status="sending")
    with app.app_context():
        raw, verp = dsn(app, ids)
        with pytest.raises(NotYet):
            handle_message(raw, "smtp", [verp])
        assert db.session.scalar(db.select(db.func.count()).select_from(Bounce)) == 0


def test_the_sender_lifts_a_bounce_suppression(app: Flask, signed_in: FlaskClient) -> None:
    ids = sent(app)
    with app.app_context():
        db.session.add(MailingList(id=7, owner="alice", name="news", columns=[]))
        db.session.add(Member(list_id=7, address=ADDRESS, key=ADDRESS))
        db.session.commit()
        handle_message(*dsn(app, ids)[:1], "smtp", [envelope_sender(app.config, *ids)])
        assert db.session.scalar(db.select(Member.status)) == "bounced"
    entry = suppression(app)
    assert entry is not None and "반송" in signed_in.get("/suppressions").get_data(as_text=True)
    signed_in.post(f"/suppressions/{entry.id}/delete",
                   data={"csrf_token": csrf_token(signed_in, "/suppressions")})
    assert suppression(app) is None
    with app.app_context():
        assert db.session.scalar(db.select(Member.status)) == "active"


def test_a_bounce_is_one_webhook_event(app: Flask, signed_in: FlaskClient) -> None:
    from app.models import WebhookDelivery

    app.config["WEBHOOK_ALLOW_PRIVATE"] = True
    signed_in.post("/settings/webhooks", data={
        "url": "http://127.0.0.1:9/hook", "events": ["recipient.bounced"],
        "csrf_token": csrf_token(signed_in, "/settings/webhooks")})
    ids = sent(app)
    raw, verp = dsn(app, ids)
    with app.app_context():
        for _ in range(2):  # the same message again is not acted on, nor told twice
            handle_message(raw, "smtp", [verp])
        rows = list(db.session.scalars(db.select(WebhookDelivery)))
    assert [(r.event, r.payload["data"]) for r in rows] == [
        ("recipient.bounced", {"email": ADDRESS, "task_id": ids[0], "kind": "hard",
                               "diagnostic": "550 5.1.1 User unknown"})]
