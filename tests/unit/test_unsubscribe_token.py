"""Unsubscribe tokens: a round trip, and nothing read from a tampered or foreign one."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from itsdangerous import URLSafeSerializer

from app.mail.unsubscribe import SALT, list_headers, make_token, read_token, unsubscribe_url

KEY = "unsubscribe-test-secret-key"


def bare_app(**config: object) -> Flask:
    """Just what the tokens read (no database, no Redis): a worker's app context."""
    app = Flask(__name__)
    app.config.update(SECRET_KEY=KEY, SECRET_KEY_FALLBACKS=[],
                      PUBLIC_BASE_URL="https://mail.example.com/", MAIL_UNSUBSCRIBE_MAILTO="")
    app.config.update(config)
    return app


@pytest.fixture
def context() -> Iterator[Flask]:
    app = bare_app()
    with app.app_context():
        yield app


def test_round_trip_lower_cases_the_address(context: Flask) -> None:
    token = make_token("alice", " Bob@Example.COM ")
    assert read_token(token) == ("alice", "bob@example.com")
    assert "@" not in token and "/" not in token  # one URL path segment


@pytest.mark.parametrize("mangle", [
    lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # the signature
    lambda t: "WyJtYWxsb3J5IiwiYm9iQGV4YW1wbGUuY29tIl0." + t.split(".")[1],  # other payload
    lambda t: t + "x",
    lambda t: "",
    lambda t: "not-a-token",
    lambda t: "한글.토큰",
])
def test_tampered_token_reads_as_none(context: Flask, mangle: object) -> None:
    assert read_token(mangle(make_token("alice", "bob@example.com"))) is None  # type: ignore


def test_token_of_another_key_or_salt_reads_as_none(context: Flask) -> None:
    foreign = URLSafeSerializer("someone-elses-secret-key", salt=SALT).dumps(["alice", "b@x.io"])
    assert read_token(foreign) is None
    other_salt = URLSafeSerializer(KEY, salt="something-else").dumps(["alice", "b@x.io"])
    assert read_token(other_salt) is None


def test_signed_but_wrong_shape_reads_as_none(context: Flask) -> None:
    for value in (["alice"], ["alice", 3], "alice", ["", "b@x.io"], ["a", "b", "c"]):
        assert read_token(URLSafeSerializer(KEY, salt=SALT).dumps(value)) is None


def test_links_in_sent_mail_survive_a_key_rotation() -> None:
    with bare_app().app_context():
        old = make_token("alice", "bob@example.com")
    with bare_app(SECRET_KEY="a-brand-new-secret-key", SECRET_KEY_FALLBACKS=[KEY]).app_context():
        assert read_token(old) == ("alice", "bob@example.com")
    with bare_app(SECRET_KEY="a-brand-new-secret-key").app_context():
        assert read_token(old) is None


def test_url_and_headers(context: Flask) -> None:
    url = unsubscribe_url("alice", "bob@example.com")
    assert url.startswith("https://mail.example.com/unsubscribe/")
    assert read_token(url.rsplit("/", 1)[1]) == ("alice", "bob@example.com")
    headers = dict(list_headers("alice", "bob@example.com"))
    assert headers["List-Unsubscribe"] == f"<{url}>"
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_mailto_when_configured() -> None:
    with bare_app(MAIL_UNSUBSCRIBE_MAILTO="unsubscribe@example.com").app_context():
        value = dict(list_headers("alice", "bob@example.com"))["List-Unsubscribe"]
    https, mailto = value.split(", ")
    assert https.startswith("<https://mail.example.com/unsubscribe/")
    assert mailto.startswith("<mailto:unsubscribe@example.com?subject=unsubscribe%20")
