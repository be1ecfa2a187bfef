"""Point 8: the session cookie is SameSite=Lax, HttpOnly and Secure (outside the dev stack
and the tests, which speak plain http); signed-in pages and /notifications are never
cached; HSTS when the operator asks for it."""

from __future__ import annotations

from typing import Any

from app.config import load


def test_cookie_flags_by_default(app_config: dict[str, Any], make_app: Any) -> None:
    assert load({}, "/x")["SESSION_COOKIE_SECURE"] is True
    settings = {k: v for k, v in app_config.items() if k != "SESSION_COOKIE_SECURE"}
    client = make_app(settings).test_client()
    cookie = client.get("/auth/login").headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_signed_in_pages_are_not_cached(signed_in: Any, client: Any) -> None:
    for path in ("/send_mail", "/tasks", "/notifications?since=0"):
        assert signed_in.get(path).headers.get("Cache-Control") == "no-store", path


def test_hsts_only_when_configured(app_config: dict[str, Any], make_app: Any) -> None:
    plain = make_app(app_config).test_client().get("/auth/login")
    assert "Strict-Transport-Security" not in plain.headers
    strict = make_app({**app_config, "HSTS_SECONDS": 31536000}).test_client()
    assert strict.get("/auth/login").headers["Strict-Transport-Security"] == (
        "max-age=31536000; includeSubDomains")
