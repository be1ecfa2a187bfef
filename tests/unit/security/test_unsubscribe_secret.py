"""Issue 17, point 2: unsubscribe links named the login name in clear and were signed with
the session key. Now: their own secret (UNSUBSCRIBE_SECRET), an opaque account id, tokens
forged with the session key or one of its fallbacks are 404; a link of the old format in
mail already sent still works under the current session key only."""

from __future__ import annotations

import base64
import os
import stat
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from itsdangerous import URLSafeSerializer

from app import create_app
from app.devstack import dev_secret_key
from app.extensions import db
from app.mail.unsubscribe import LEGACY_SALT, SALT, make_token
from app.models import Suppression
from app.security import InsecureConfig
from tests.support.flows import AuthActions

FALLBACK = "the-session-key-before-the-last-rotation"


def listed(app: Flask) -> dict[str, str]:
    with app.app_context():
        return {row.address: row.source for row in db.session.scalars(db.select(Suppression))}


def test_the_token_carries_no_login_name(app: Flask, auth: AuthActions) -> None:
    auth.create("alice.kim")
    with app.app_context():
        token = make_token("alice.kim", "bob@example.com")
    payload = token.split(".")[0]
    decoded = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode()
    assert decoded == '[1,"bob@example.com"]'
    assert "alice" not in decoded


@pytest.mark.parametrize("key,salt,owner", [
    ("SECRET_KEY", SALT, 1),  # the new payload, signed with the session key
    ("fallback", SALT, 1),
    ("fallback", LEGACY_SALT, "alice"),  # the old payload: never under a fallback
])
def test_a_token_forged_with_a_session_key_is_404(app_config: dict[str, Any], make_app: Any,
                                                  auth: AuthActions, key: str, salt: str,
                                                  owner: Any) -> None:
    app = make_app({**app_config, "SECRET_KEY_FALLBACKS": [FALLBACK]})
    auth.create()
    signing = app.config["SECRET_KEY"] if key == "SECRET_KEY" else FALLBACK
    forged = URLSafeSerializer(signing, salt=salt).dumps([owner, "victim@example.com"])
    client = app.test_client()
    assert client.get(f"/unsubscribe/{forged}").status_code == 404
    assert client.post(f"/unsubscribe/{forged}").status_code == 404
    assert listed(app) == {}


def test_a_legacy_link_signed_with_the_current_key_still_works(app: Flask, client: FlaskClient,
                                                               auth: AuthActions) -> None:
    auth.create()
    legacy = URLSafeSerializer(app.config["SECRET_KEY"], salt=LEGACY_SALT).dumps(
        ["alice", "reader@example.com"])  # a link in mail sent before this release
    assert client.get(f"/unsubscribe/{legacy}").status_code == 200
    assert client.post(f"/unsubscribe/{legacy}").status_code == 200
    assert listed(app) == {"reader@example.com": "unsubscribe"}


def test_a_rotated_unsubscribe_secret_keeps_links_working(app_config: dict[str, Any],
                                                          app: Flask, make_app: Any,
                                                          auth: AuthActions) -> None:
    auth.create()
    with app.app_context():
        token = make_token("alice", "reader@example.com")
    old = app_config["UNSUBSCRIBE_SECRET"]
    rotated = make_app({**app_config, "UNSUBSCRIBE_SECRET": "a-new-unsubscribe-secret-0123",
                        "UNSUBSCRIBE_SECRET_FALLBACKS": [old]})
    assert rotated.test_client().post(f"/unsubscribe/{token}").status_code == 200
    dropped = make_app({**app_config, "UNSUBSCRIBE_SECRET": "a-new-unsubscribe-secret-0123"})
    assert dropped.test_client().get(f"/unsubscribe/{token}").status_code == 404


@pytest.mark.parametrize("overrides", [
    {"UNSUBSCRIBE_SECRET": None},
    {"UNSUBSCRIBE_SECRET": "dev-only-change-me"},
    {"UNSUBSCRIBE_SECRET": "short-secret"},
    {"UNSUBSCRIBE_SECRET": "test-secret-key-not-for-production"},  # == SECRET_KEY
    {"UNSUBSCRIBE_SECRET_FALLBACKS": ["changeme"]},
    {"UNSUBSCRIBE_SECRET_FALLBACKS": ["test-secret-key-not-for-production"]},
])
def test_refuses_to_start_without_a_secret_of_its_own(app_config: dict[str, Any],
                                                      overrides: dict[str, Any]) -> None:
    with pytest.raises(InsecureConfig, match="UNSUBSCRIBE_SECRET"):
        create_app({**app_config, "TESTING": False, **overrides})


def test_the_dev_stack_makes_its_own_unsubscribe_secret(tmp_path: Any) -> None:
    secret = dev_secret_key(str(tmp_path), "unsubscribe_secret")
    assert len(secret) == 64 and secret == dev_secret_key(str(tmp_path), "unsubscribe_secret")
    assert secret != dev_secret_key(str(tmp_path))
    assert stat.S_IMODE(os.stat(tmp_path / "unsubscribe_secret").st_mode) == 0o600
