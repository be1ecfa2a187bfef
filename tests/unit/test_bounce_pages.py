"""``/bounces``: the signed-in user's bounces only, each with what was concluded and the raw
message (escaped); an operator also sees those that matched nobody; nobody signed in is sent
to the login page."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from app.cli import create_user
from app.extensions import db
from app.models import Bounce
from tests.support.flows import PASSWORD, AuthActions


def keep(app: Flask, owner: str | None, address: str) -> None:
    with app.app_context():
        db.session.add(Bounce(owner=owner, address=address, kind="hard", via="smtp",
                              diagnostic="550 5.1.1 User unknown", effect="suppressed",
                              conclusion="dsn: x hard; matched by verp to task 1",
                              raw="Subject: <script>alert(1)</script>\n\nbody",
                              digest=address))
        db.session.commit()


def test_each_user_sees_only_their_own_bounces(app: Flask, client: FlaskClient,
                                               auth: AuthActions) -> None:
    assert client.get("/bounces").status_code == 302  # to the login page
    auth.create("alice")
    auth.create("bob")
    keep(app, "alice", "gone@example.org")
    keep(app, "bob", "bobs@example.org")
    auth.login("alice")
    html = client.get("/bounces").get_data(as_text=True)
    assert 'data-address="gone@example.org"' in html and "bobs@example.org" not in html
    assert "matched by verp" in html and "550 5.1.1 User unknown" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert" not in html
    assert client.get("/bounces?page=2").status_code == 404


def test_an_operator_also_sees_what_matched_nobody(app: Flask, client: FlaskClient,
                                                  auth: AuthActions) -> None:
    with app.app_context():
        create_user("root", PASSWORD, admin=True)
    auth.create("alice")
    keep(app, None, "stranger@example.net")
    auth.login("alice")
    assert "stranger@example.net" not in client.get("/bounces").get_data(as_text=True)
    auth.logout()
    auth.login("root")
    html = client.get("/bounces").get_data(as_text=True)
    assert 'data-address="stranger@example.net"' in html and "맞는 보내기 없음" in html
