"""Issue 17, point 2: a public key kept as a fallback forged sessions. A known or short key
in SECRET_KEY_FALLBACKS refuses to start (tests too); a cookie forged offline with the old
public default signs in nobody once the key is gone; ``users end-sessions --all`` ends
every session, so a copied cookie dies too."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app import create_app
from app.security import InsecureConfig
from tests.support.attacks import OLD_DEFAULT, forged_cookie
from tests.support.flows import AuthActions


@pytest.mark.parametrize("testing", [False, True])
@pytest.mark.parametrize("fallback", [OLD_DEFAULT, "changeme", "fifteen-chars!!", ""])
def test_a_known_or_short_fallback_refuses_to_start(app_config: dict[str, Any], testing: bool,
                                                    fallback: str) -> None:
    with pytest.raises(InsecureConfig, match="SECRET_KEY_FALLBACKS"):
        create_app({**app_config, "TESTING": testing,
                    "SECRET_KEY_FALLBACKS": ["a-long-key-of-our-own-1234", fallback]})


def test_a_cookie_forged_with_the_old_default_is_nobody_once_it_is_gone(
        app_config: dict[str, Any], auth: AuthActions, make_app: Any) -> None:
    auth.create()
    cookie = forged_cookie(Flask("attacker"), OLD_DEFAULT, {"_user_id": "1:0", "_fresh": True})
    # The rotation README gives: a new key, the public one not kept as a fallback.
    rotated = make_app({**app_config, "TESTING": False,
                        "SECRET_KEY": "a-brand-new-key-nobody-has-seen"}).test_client()
    rotated.set_cookie("session", cookie)
    assert rotated.get("/send_mail").status_code == 302
    with pytest.raises(InsecureConfig):  # and listing it is refused outright
        make_app({**app_config, "SECRET_KEY_FALLBACKS": [OLD_DEFAULT]})


def test_end_sessions_all_kills_a_copied_cookie(app: Flask, client: FlaskClient,
                                                auth: AuthActions, runner: Any) -> None:
    auth.create()
    auth.create("bob")
    auth.login()
    cookie = client.get_cookie("session")
    assert cookie is not None
    thief = app.test_client()
    thief.set_cookie("session", cookie.value)
    assert thief.get("/send_mail").status_code == 200

    result = runner.invoke(args=["users", "end-sessions", "--all"],
                           env={"MAILROOM_LANGUAGE": "en"})
    assert result.exit_code == 0, result.output
    assert "2 account(s)" in result.output
    assert thief.get("/send_mail").status_code == 302
    assert client.get("/send_mail").status_code == 302  # the owner signs in again
    assert auth.login().status_code == 302


def test_end_sessions_of_one_account(app: Flask, client: FlaskClient, auth: AuthActions,
                                     runner: Any) -> None:
    auth.create()
    auth.create("bob")
    auth.login("bob")
    bob = app.test_client()
    bob.set_cookie("session", client.get_cookie("session").value)  # type: ignore[union-attr]
    assert runner.invoke(args=["users", "end-sessions", "alice"]).exit_code == 0
    assert bob.get("/send_mail").status_code == 200  # only alice's sessions ended
    assert runner.invoke(args=["users", "end-sessions", "bob"]).exit_code == 0
    assert bob.get("/send_mail").status_code == 302
    for args in (["nobody"], [], ["bob", "--all"]):
        assert runner.invoke(args=["users", "end-sessions", *args]).exit_code != 0
