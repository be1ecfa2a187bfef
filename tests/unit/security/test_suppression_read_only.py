"""Issue 17, point 6: a sender could delete a recipient's own unsubscribe and mail them
again. An ``unsubscribe`` row is now read-only to the sender: no delete button, a Korean
refusal for a crafted POST, and the row stays (also when the sender listed the address by
hand first); the sender's own ``manual`` rows still go."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient

from app.extensions import db
from app.mail.unsubscribe import make_token
from app.models import Suppression
from tests.support.flows import csrf_token


def rows(app: Flask) -> dict[str, tuple[int, str]]:
    with app.app_context():
        return {row.address: (row.id, row.source)
                for row in db.session.scalars(db.select(Suppression))}


def test_the_sender_cannot_remove_a_recipients_unsubscribe(app: Flask,
                                                           signed_in: FlaskClient) -> None:
    with app.app_context():
        token = make_token("alice", "reader@example.com")
    assert app.test_client().post(f"/unsubscribe/{token}").status_code == 200  # the recipient
    with app.app_context():
        Suppression.add("alice", ["typo@example.com"], "manual")
    listed = rows(app)
    unsubscribed, manual = listed["reader@example.com"][0], listed["typo@example.com"][0]

    html = signed_in.get("/suppressions").get_data(as_text=True)
    row = re.search(rf'<tr id="suppression-{unsubscribed}".*?</tr>', html, re.S)
    assert row and "/delete" not in row.group(0) and "수신자의 선택" in row.group(0)
    assert "수신자만 되돌릴 수 있습니다" in row.group(0)
    assert f"/suppressions/{manual}/delete" in html

    token = csrf_token(signed_in, "/suppressions")
    refused = signed_in.post(f"/suppressions/{unsubscribed}/delete",
                             data={"csrf_token": token}, follow_redirects=True)
    assert "수신자가 직접 수신을 거부한 주소라 목록에서 뺄 수 없습니다" in refused.get_data(
        as_text=True)
    assert signed_in.post(f"/suppressions/{manual}/delete",
                          data={"csrf_token": token}).status_code == 302
    assert rows(app) == {"reader@example.com": (unsubscribed, "unsubscribe")}
    with app.app_context():  # nor by the model's own door
        assert Suppression.remove("alice", "reader@example.com") is False
    assert "reader@example.com" in rows(app)


def test_a_manual_row_first_does_not_undo_the_recipients_unsubscribe(
        app: Flask, signed_in: FlaskClient) -> None:
    with app.app_context():  # the sender lists the address first, to delete it later
        Suppression.add("alice", ["reader@example.com"], "manual")
        token = make_token("alice", "reader@example.com")
    assert app.test_client().post(f"/unsubscribe/{token}").status_code == 200
    entry, source = rows(app)["reader@example.com"]
    assert source == "unsubscribe"
    signed_in.post(f"/suppressions/{entry}/delete",
                   data={"csrf_token": csrf_token(signed_in, "/suppressions")})
    assert rows(app) == {"reader@example.com": (entry, "unsubscribe")}
