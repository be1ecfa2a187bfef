"""Personal API tokens: made on /settings/tokens and shown once, kept as a digest with a
visible prefix, revocable; ``Authorization: Bearer`` is the only way into /api/v1 (a
session cookie is not), CSRF is exempt there and nowhere else."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from app.extensions import db
from app.models import ApiToken
from tests.support.api import bearer, make_token
from tests.support.flows import csrf_token

PROBLEM = "application/problem+json"


def test_token_shown_once_kept_hashed_prefix_visible(app: Flask, signed_in: FlaskClient
                                                       ) -> None:
    secret = make_token(signed_in, "orders")
    assert secret.startswith("mr_") and len(secret) > 40
    page = signed_in.get("/settings/tokens").get_data(as_text=True)
    assert secret not in page and "new-token" not in page  # once only
    assert secret[:10] in page and "orders" in page
    with app.app_context():
        row = db.session.scalar(db.select(ApiToken))
        assert row.token_hash != secret and secret not in row.token_hash
        assert len(row.token_hash) == 64 and row.prefix == secret[:10]


def test_bearer_token_signs_in_and_notes_last_use(app: Flask, signed_in: FlaskClient) -> None:
    secret = make_token(signed_in)
    fresh = app.test_client()  # no session cookie at all
    response = fresh.get("/api/v1/sends", headers=bearer(secret))
    assert response.status_code == 200 and response.json["items"] == []
    with app.app_context():
        assert db.session.scalar(db.select(ApiToken)).last_used_at is not None
    assert "Set-Cookie" not in response.headers  # a token call starts no session


def test_no_token_bad_token_or_session_cookie_is_401(signed_in: FlaskClient) -> None:
    for headers in ({}, bearer("mr_not-a-real-token"), {"Authorization": "Basic eDp5"}):
        response = signed_in.get("/api/v1/sends", headers=headers)
        assert response.status_code == 401  # the signed-in session does not count here
        assert response.mimetype == PROBLEM
        assert response.json["type"] == "urn:mailroom:problem:unauthorized"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_revoked_token_is_401_at_once(app: Flask, signed_in: FlaskClient) -> None:
    secret = make_token(signed_in)
    assert signed_in.get("/api/v1/sends", headers=bearer(secret)).status_code == 200
    with app.app_context():
        token_id = db.session.scalar(db.select(ApiToken.id))
    response = signed_in.post(f"/settings/tokens/{token_id}/revoke",
                              data={"csrf_token": csrf_token(signed_in, "/settings/tokens")})
    assert response.status_code == 302
    assert "폐기됨" in signed_in.get("/settings/tokens").get_data(as_text=True)
    response = signed_in.get("/api/v1/sends", headers=bearer(secret))
    assert response.status_code == 401 and response.mimetype == PROBLEM


def test_another_users_token_cannot_be_revoked(app: Flask, signed_in: FlaskClient,
                                               auth) -> None:
    make_token(signed_in)
    with app.app_context():
        token_id = db.session.scalar(db.select(ApiToken.id))
    auth.logout()
    auth.create("bob")
    auth.login("bob")
    response = signed_in.post(f"/settings/tokens/{token_id}/revoke",
                              data={"csrf_token": csrf_token(signed_in, "/settings/tokens")})
    assert response.status_code == 404


def test_csrf_exempt_on_the_api_only(signed_in: FlaskClient) -> None:
    secret = make_token(signed_in)
    api = signed_in.post("/api/v1/sends", json={"template": "welcome",
                                                "recipients": [{"email": "a@example.com"}]},
                         headers=bearer(secret))
    assert api.status_code == 201  # no CSRF token asked
    page = signed_in.post("/settings/tokens", data={"name": "x"})
    assert page.status_code == 400  # the settings form still needs its token


def test_token_name_is_required(signed_in: FlaskClient) -> None:
    response = signed_in.post("/settings/tokens", data={
        "name": " ", "csrf_token": csrf_token(signed_in, "/settings/tokens")})
    assert response.status_code == 422 and 'id="name-error"' in response.get_data(as_text=True)


def test_settings_need_sign_in(client: FlaskClient) -> None:
    assert client.get("/settings/tokens").status_code == 302
    assert client.get("/settings/webhooks").status_code == 302
