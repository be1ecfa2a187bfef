"""Point 1: no forged sessions. The app refuses to start without a key of its own; a
cookie signed offline with the old default key is nobody; keys can be rotated."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app import create_app
from app.devstack import dev_secret_key
from app.security import InsecureConfig
from tests.support import ROOT
from tests.support.attacks import OLD_DEFAULT, forged_cookie
from tests.support.flows import AuthActions


@pytest.mark.parametrize("key", [None, "", OLD_DEFAULT, "short"])
def test_refuses_to_start_without_a_key_of_its_own(app_config: dict[str, Any],
                                                   key: str | None) -> None:
    with pytest.raises(InsecureConfig, match="SECRET_KEY"):
        create_app({**app_config, "TESTING": False, "SECRET_KEY": key})


def test_the_refusal_is_a_clear_startup_error(tmp_path: Any) -> None:
    env = {**os.environ, "SECRET_KEY": OLD_DEFAULT,
           "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
    result = subprocess.run([sys.executable, "-c", "import run"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "InsecureConfig: SECRET_KEY is unset, too short or a known default" in result.stderr


def test_a_cookie_signed_with_the_old_default_is_nobody(app: Flask, client: FlaskClient,
                                                        auth: AuthActions) -> None:
    auth.create()
    for user_id in ("1", "1:0"):
        client.set_cookie("session", forged_cookie(app, OLD_DEFAULT, {"_user_id": user_id}))
        assert client.get("/send_mail").status_code == 302


def test_a_rotated_key_keeps_sessions_then_can_be_dropped(app_config: dict[str, Any],
                                                         auth: AuthActions,
                                                         make_app: Any) -> None:
    old = "the-key-we-used-before-rotation"
    cookie = forged_cookie(Flask("x"), old, {"_user_id": "1:0", "_fresh": True})
    auth.create()
    rotated = make_app({**app_config, "SECRET_KEY_FALLBACKS": [old]}).test_client()
    rotated.set_cookie("session", cookie)
    assert rotated.get("/send_mail").status_code == 200
    dropped = make_app(app_config).test_client()
    dropped.set_cookie("session", cookie)
    assert dropped.get("/send_mail").status_code == 302


def test_the_dev_stack_makes_one_private_key(tmp_path: Any) -> None:
    key = dev_secret_key(str(tmp_path))
    assert len(key) == 64 and key == dev_secret_key(str(tmp_path))
    mode = stat.S_IMODE(os.stat(tmp_path / "secret_key").st_mode)
    assert mode == 0o600
