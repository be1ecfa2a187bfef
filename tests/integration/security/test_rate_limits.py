"""Point 2: no brute force, no flood of sends. Flask-Limiter counts in the test's real
Redis: logins per address, failed ones per (name, address) and per name, sends per user;
over a limit a Korean 429 page. And the password rule of ``users create`` /
``users set-password``."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.extensions import db
from app.models import Task
from tests.support import free_port
from tests.support.attacks import attempt
from tests.support.flows import PASSWORD, AuthActions, csrf_token, post_send


def test_guessing_one_name_is_stopped_even_from_many_addresses(
        app: Flask, auth: AuthActions, client: FlaskClient) -> None:
    # Each address fails once only: the per-account ceiling (lowered here) stops them.
    app.config["RATELIMIT_LOGIN_ACCOUNT"] = "5 per hour"
    auth.create()
    answers = [attempt(client, "alice", f"guess-{i}", f"10.0.0.{i}").status_code
               for i in range(8)]
    assert answers[:5] == [200] * 5 and answers[5:] == [429] * 3
    # Even the right one, for now, from a browser that never signed in to alice (the
    # owner's own browser still passes: tests/security/test_login_lockout.py).
    blocked = attempt(client, "alice", PASSWORD, "10.0.1.1")
    assert blocked.status_code == 429
    page = blocked.get_data(as_text=True)
    assert "요청이 너무 많습니다" in page and "Traceback" not in page
    with client.session_transaction() as session:
        assert "_user_id" not in session


def test_one_address_guessing_many_names_is_stopped(auth: AuthActions,
                                                    client: FlaskClient) -> None:
    codes = [attempt(client, f"user{i}", "whatever-it-is", "10.9.9.9").status_code
             for i in range(22)]
    assert codes[:20] == [200] * 20 and codes[20:] == [429, 429]
    assert attempt(client, "user1", "whatever-it-is", "10.9.9.10").status_code == 200


def test_sends_are_limited_per_user(app_config: dict[str, Any], app: Flask,
                                    signed_in: FlaskClient) -> None:
    app.config["RATELIMIT_SEND"] = "2 per minute"
    assert [post_send(signed_in, f"r{i}@example.com").status_code for i in range(3)] == \
        [302, 302, 429]
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Task)) == 2


def test_a_redis_outage_does_not_lock_anyone_out(app_config: dict[str, Any],
                                                 auth: AuthActions, make_app: Any) -> None:
    auth.create()
    away = make_app({**app_config, "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"})
    client = away.test_client()
    token = csrf_token(client)
    response = client.post("/auth/login", data={"username": "alice", "password": PASSWORD,
                                                "csrf_token": token})
    assert response.status_code == 302


@pytest.mark.parametrize("password,reason", [
    ("short-pw", "12자 이상"),
    ("password1234", "흔한 비밀번호"),
    ("correct horse battery staple", "흔한 비밀번호"),
    ("111111111111", "순서"),
    ("bob-the-builder-42", "아이디"),
])
def test_weak_passwords_are_refused(runner: Any, app: Flask, password: str,
                                    reason: str) -> None:
    result = runner.invoke(args=["users", "create", "bob", "--password", password])
    assert result.exit_code != 0 and reason in result.output
    with app.app_context():
        assert db.session.scalar(db.text("select count(*) from users")) == 0
