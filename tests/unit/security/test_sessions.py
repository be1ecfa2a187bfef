"""Point 7: sessions can be revoked. Logout and a new password end every copy of the
session; a copied cookie stops working; sign-in starts a new session (new CSRF token);
the session's lifetime is short."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from app.extensions import db
from app.models import Task
from tests.support.flows import AuthActions, csrf_token, post_send


def session_cookie(client: FlaskClient) -> str:
    cookie = client.get_cookie("session")
    assert cookie is not None
    return cookie.value


def test_a_cookie_copied_before_logout_is_dead_after_it(app: Flask, client: FlaskClient,
                                                        auth: AuthActions) -> None:
    auth.create()
    auth.login()
    stolen = session_cookie(client)
    thief = app.test_client()
    thief.set_cookie("session", stolen)
    assert thief.get("/send_mail", headers={"User-Agent": "other"}).status_code == 200
    token = csrf_token(thief, "/send_mail")

    auth.logout()
    assert thief.get("/send_mail").status_code == 302
    response = thief.post("/send_mail", data={"recipient": "a@example.com",
                                              "template_name": "welcome",
                                              "csrf_token": token})
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Task)) == 0


def test_a_new_password_ends_every_session(app: Flask, client: FlaskClient,
                                           auth: AuthActions, runner: Any) -> None:
    auth.create()
    auth.login()
    assert client.get("/send_mail").status_code == 200
    result = runner.invoke(args=["users", "set-password", "alice", "--password",
                                 "a brand new passphrase"])
    assert result.exit_code == 0, result.output
    assert client.get("/send_mail").status_code == 302
    assert auth.login("alice", "a brand new passphrase").status_code == 302


def test_signing_in_starts_a_new_session(client: FlaskClient, auth: AuthActions) -> None:
    auth.create()
    before = csrf_token(client)
    auth.login()
    after = csrf_token(client, "/send_mail")
    assert before != after
    cookie = client.get_cookie("session")
    assert cookie is not None and cookie.expires is not None  # not a 31-day default


def test_the_lifetime_is_short(app: Flask, signed_in: FlaskClient) -> None:
    assert app.permanent_session_lifetime.total_seconds() == 12 * 3600
    post_send(signed_in, "a@example.com")  # still signed in for normal use
    assert signed_in.get("/send_mail").status_code == 200
