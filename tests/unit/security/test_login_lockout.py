"""Issue 17, point 4: 30 wrong guesses an hour from anywhere kept the real owner at 429
with the right password. Now only failures count, per (account, address) pair, plus a
per-account ceiling that a browser which signed in to the account before still passes."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from tests.support.attacks import attempt
from tests.support.flows import PASSWORD, AuthActions

HOME, GUESSER = "192.0.2.10", "10.0.0.9"


def test_thirty_guesses_from_elsewhere_do_not_lock_the_owner_out(
        app: Flask, client: FlaskClient, auth: AuthActions) -> None:
    auth.create()
    assert attempt(client, "alice", PASSWORD, HOME).status_code == 302  # her browser, once
    auth.logout()
    guesser = app.test_client()
    codes = [attempt(guesser, "alice", f"guess-{i}", GUESSER).status_code for i in range(31)]
    assert codes[:5] == [200] * 5 and set(codes[5:]) == {429}  # the guesser is held
    held = attempt(guesser, "alice", PASSWORD, GUESSER)  # even with the right password
    assert held.status_code == 429 and "요청이 너무 많습니다" in held.get_data(as_text=True)
    assert attempt(client, "alice", PASSWORD, HOME).status_code == 302
    # The defaults also let her in from a browser she never used, at another address.
    assert attempt(app.test_client(), "alice", PASSWORD, "198.51.100.7").status_code == 302


def test_a_guesser_on_many_addresses_meets_the_ceiling_but_the_owner_passes(
        app: Flask, client: FlaskClient, auth: AuthActions) -> None:
    app.config["RATELIMIT_LOGIN_ACCOUNT"] = "30 per hour"  # 100 by default: a shorter test
    auth.create()
    assert attempt(client, "alice", PASSWORD, HOME).status_code == 302
    auth.logout()
    botnet = app.test_client()
    codes = [attempt(botnet, "alice", f"guess-{i}", f"10.0.2.{i}").status_code
             for i in range(35)]
    assert codes[:30] == [200] * 30 and codes[30:] == [429] * 5
    # A browser that never signed in to alice waits out the ceiling, right password or not...
    assert attempt(app.test_client(), "alice", PASSWORD, "10.0.3.1").status_code == 429
    # ...hers does not, and a forged "known" cookie is nobody's.
    assert attempt(client, "alice", PASSWORD, HOME).status_code == 302
    forger = app.test_client()
    forger.set_cookie("mailroom_known", "WzFd.forged", path="/auth/login")
    assert attempt(forger, "alice", "guess-x", "10.0.3.2").status_code == 429


def test_failures_are_counted_per_pair_and_successes_never(app: Flask,
                                                           auth: AuthActions) -> None:
    auth.create()
    # Seven sign-ins from one address, each in a fresh browser: none counts.
    assert [attempt(app.test_client(), "alice", PASSWORD, HOME).status_code
            for _ in range(7)] == [302] * 7
    # Five failures at that address: the pair (alice, HOME) is held for new browsers...
    stranger = app.test_client()
    assert [attempt(stranger, "alice", "wrong-password", HOME).status_code
            for _ in range(6)] == [200] * 5 + [429]
    assert attempt(app.test_client(), "alice", PASSWORD, HOME).status_code == 429
    # ...not for another address, nor another account at the same address.
    assert attempt(app.test_client(), "alice", PASSWORD, "192.0.2.11").status_code == 302
    auth.create("bob")
    assert attempt(app.test_client(), "bob", PASSWORD, HOME).status_code == 302


def test_a_known_browser_behind_the_same_address_counts_apart(
        app: Flask, client: FlaskClient, auth: AuthActions) -> None:
    auth.create()
    assert attempt(client, "alice", PASSWORD, HOME).status_code == 302
    auth.logout()
    neighbour = app.test_client()  # same NAT, same address, no cookie of alice's
    assert [attempt(neighbour, "alice", "wrong-password", HOME).status_code
            for _ in range(6)] == [200] * 5 + [429]
    assert attempt(client, "alice", PASSWORD, HOME).status_code == 302
