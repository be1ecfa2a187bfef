"""Point 8: the session cookie is SameSite=Lax, HttpOnly and Secure (outside the dev stack
and the tests, which speak plain http); signed-in pages and /notifications are never
cached; HSTS when the operator asks for it. The CSP allows no inline script or style
(issue 18), and the pages need none: no style attribute, no <style> block, no inline
script (tests/e2e/test_csp.py watches the same pages in Chromium)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from app.config import load
from app.extensions import db
from app.models import Task
from app.models.types import utcnow


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


# A style attribute or block, or a script that is not a file of ours (a JSON data block,
# which is never run, would pass).
INLINE = re.compile(r"<[^>]*\sstyle\s*=|<style[\s>]"
                    r"|<script(?![^>]*\s(?:src=|type=\"application/json))", re.IGNORECASE)


def test_the_policy_allows_nothing_inline(client: FlaskClient) -> None:
    response = client.get("/auth/login")
    policy = response.headers["Content-Security-Policy"]
    assert INLINE.search(response.get_data(as_text=True)) is None
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"


def test_pages_carry_no_inline_style_or_script(app: Flask, signed_in: FlaskClient) -> None:
    with app.app_context():
        running = Task(name="send_mail", description="running", username="alice",
                       status="running", progress=40, recipient_count=5, delivered_count=2)
        later = Task(name="send_mail", description="later", username="alice",
                     status="reserved", reserved_at=utcnow() + timedelta(minutes=5))
        db.session.add_all([running, later])
        db.session.commit()
        task_id = running.id
    for path in ("/send_mail", "/tasks", f"/tasks/{task_id}", "/templates",
                 "/templates/new", "/suppressions"):
        response = signed_in.get(path)
        assert response.status_code == 200, path
        found = INLINE.search(response.get_data(as_text=True))
        assert found is None, (path, found and found.group(0))
    send_page = signed_in.get("/send_mail").get_data(as_text=True)
    assert 'data-progress="40"' in send_page and "invisible" in send_page
