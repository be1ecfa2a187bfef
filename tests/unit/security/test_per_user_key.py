"""Issue 17, point 6: the per-user limits (sends, previews, template saves) were keyed by
``id:session_version``, so signing out and in again started a fresh count. The key is the
account id alone now."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from tests.support.flows import AuthActions, post_send


def test_signing_in_again_does_not_reset_the_send_limit(app: Flask, signed_in: FlaskClient,
                                                        auth: AuthActions) -> None:
    app.config["RATELIMIT_SEND"] = "2 per minute"
    assert [post_send(signed_in, f"r{i}@example.com").status_code for i in range(2)] == \
        [302, 302]
    for _ in range(2):  # each sign-in is a new session version
        auth.logout()
        assert auth.login().status_code == 302
        assert post_send(signed_in, "again@example.com").status_code == 429
