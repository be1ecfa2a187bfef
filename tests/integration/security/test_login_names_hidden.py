"""Issue 17, point 4's other half: a login name is half of a credential, and mail showed it
to every recipient — in ``{{ sender_name }}`` and in the unsubscribe link. Now mail is signed
with the account's display name (else the default sender's name) and the link carries an
opaque id: a recipient learns no login name (a real worker, the recording sink)."""

from __future__ import annotations

import base64
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.cli import create_user
from tests.support.flows import PASSWORD, AuthActions, ended, post_send, tasks, wait_for_task

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def app_config(app_config: dict[str, Any], smtp_sink: Any) -> dict[str, Any]:
    app_config.update(MAIL_DEFAULT_SENDER="우리 동네 도서관 <library@example.com>")
    return app_config


def decoded_tokens(text: str) -> str:
    """Every unsubscribe token in ``text``, its payload base64-decoded."""
    found = []
    for token in re.findall(r"/unsubscribe/([A-Za-z0-9_.\-]+)", text):
        payload = token.split(".")[0]
        found.append(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode())
    return " ".join(found)


def test_mail_never_shows_the_login_name(app: Flask, signed_in: FlaskClient, smtp_sink: Any,
                                         start_worker: Any, auth: AuthActions) -> None:
    with app.app_context():
        create_user("bob-login", PASSWORD, display_name="밥의 가게")
    start_worker()
    post_send(signed_in, "reader@example.com")
    auth.logout()
    auth.login("bob-login")
    post_send(signed_in, "customer@example.com")
    for row in tasks(app):
        wait_for_task(app, row.id, ended, what="the sends")
    mails = {m.rcpt_tos[0]: m.message for m in smtp_sink.handler.messages}
    alice = mails["reader@example.com"].get_body(("plain",)).get_content()
    bob = mails["customer@example.com"].get_body(("plain",)).get_content()
    assert "우리 동네 도서관 님이 보냈습니다" in alice and "alice" not in alice
    assert "밥의 가게 님이 보냈습니다" in bob and "bob-login" not in bob
    for mail in mails.values():
        everything = mail.as_string() + decoded_tokens(mail.as_string())
        assert "alice" not in everything and "bob-login" not in everything
