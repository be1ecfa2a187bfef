"""Sign-in, sign-out, the login guard and CSRF."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from tests.support.flows import AuthActions, csrf_token

BAD_LOGIN = "아이디 또는 비밀번호가 올바르지 않습니다."


def test_login_page_renders(client: FlaskClient) -> None:
    response = client.get("/auth/login")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'name="username"' in html and 'name="password"' in html
    assert "<script>" not in html  # no inline scripts: CSP-ready


def test_login_then_send_page(auth: AuthActions, client: FlaskClient) -> None:
    auth.create()
    response = auth.login()
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/send_mail")
    page = client.get("/send_mail")
    assert page.status_code == 200
    assert 'name="recipient"' in page.get_data(as_text=True)


@pytest.mark.parametrize("username,password", [("alice", "wrong"), ("nobody", "correct horse")])
def test_bad_login_same_flash_no_session(auth: AuthActions, client: FlaskClient,
                                         username: str, password: str) -> None:
    auth.create()
    response = auth.login(username, password)
    assert response.status_code == 200
    assert BAD_LOGIN in response.get_data(as_text=True)
    with client.session_transaction() as session:
        assert "_user_id" not in session
    assert client.get("/send_mail").status_code == 302


def test_post_without_csrf_is_400(auth: AuthActions, client: FlaskClient) -> None:
    auth.create()
    response = client.post("/auth/login", data={"username": "alice", "password": "correct horse"})
    assert response.status_code == 400


@pytest.mark.parametrize("path", ["/send_mail", "/tasks", "/notifications"])
def test_pages_need_login(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 302
    assert "/auth/login" in response.headers["Location"]


def test_logout_is_post_only(signed_in: FlaskClient, auth: AuthActions) -> None:
    assert signed_in.get("/auth/logout").status_code == 405
    assert signed_in.get("/send_mail").status_code == 200
    response = auth.logout()
    assert response.status_code == 302
    assert signed_in.get("/send_mail").status_code == 302


def test_next_must_be_local(auth: AuthActions, client: FlaskClient) -> None:
    auth.create()
    token = csrf_token(client)
    response = client.post("/auth/login?next=https://evil.example/", data={
        "username": "alice", "password": "correct horse", "csrf_token": token})
    assert response.headers["Location"].endswith("/send_mail")


def test_pages_carry_a_strict_content_security_policy(client: FlaskClient) -> None:
    response = client.get("/auth/login")
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self';" in policy and "unsafe-inline" not in policy.split("style-src")[0]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
