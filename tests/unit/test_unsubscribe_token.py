"""Unsubscribe tokens: a round trip, and nothing read from a tampered or foreign one."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from flask import Flask
from itsdangerous import URLSafeSerializer

from app.extensions import db
from app.mail.unsubscribe import SALT, make_token, read_token, unsubscribe_links
from app.models import User

KEY = "unsubscribe-test-secret-key"
SECRET = "unsubscribe-test-unsubscribe-secret"


@contextmanager
def bare_app(**config: object) -> Iterator[Flask]:
    """Just what the tokens read (an in-memory database with ``alice`` as user 1, no Redis):
    a worker's app context."""
    app = Flask(__name__)
    app.config.update(SECRET_KEY=KEY, SECRET_KEY_FALLBACKS=[], UNSUBSCRIBE_SECRET=SECRET,
                      UNSUBSCRIBE_SECRET_FALLBACKS=[], SQLALCHEMY_DATABASE_URI="sqlite://",
                      PUBLIC_BASE_URL="https://mail.example.com/", MAIL_UNSUBSCRIBE_MAILTO="")
    app.config.update(config)
    db.init_app(app)
    with app.app_context():
        db.create_all()
        db.session.add(User(id=1, username="alice", password_hash="x"))
        db.session.commit()
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def context() -> Iterator[Flask]:
    with bare_app() as app:
        yield app


def test_round_trip_lower_cases_the_address(context: Flask) -> None:
    token = make_token("alice", " Bob@Example.COM ")
    assert read_token(token) == ("alice", "bob@example.com")
    assert "@" not in token and "/" not in token  # one URL path segment


@pytest.mark.parametrize("mangle", [
    lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # the signature
    lambda t: "WzIsImJvYkBleGFtcGxlLmNvbSJd." + t.split(".")[1],  # other payload: [2, bob]
    lambda t: t + "x",
    lambda t: "",
    lambda t: "not-a-token",
    lambda t: "한글.토큰",
])
def test_tampered_token_reads_as_none(context: Flask, mangle: object) -> None:
    assert read_token(mangle(make_token("alice", "bob@example.com"))) is None  # type: ignore


def test_token_of_another_key_or_salt_reads_as_none(context: Flask) -> None:
    foreign = URLSafeSerializer("someone-elses-secret-key", salt=SALT).dumps([1, "b@x.io"])
    assert read_token(foreign) is None
    other_salt = URLSafeSerializer(SECRET, salt="something-else").dumps([1, "b@x.io"])
    assert read_token(other_salt) is None


def test_signed_but_wrong_shape_reads_as_none(context: Flask) -> None:
    for value in ([1], [1, 3], "alice", [0, "b@x.io"], [True, "b@x.io"], [1, ""],
                  [1, "b", "c"], ["alice", "b@x.io"], [2, "b@x.io"]):
        assert read_token(URLSafeSerializer(SECRET, salt=SALT).dumps(value)) is None


def test_links_in_sent_mail_survive_a_rotation_of_the_unsubscribe_secret() -> None:
    with bare_app():
        old = make_token("alice", "bob@example.com")
    with bare_app(UNSUBSCRIBE_SECRET="a-brand-new-unsubscribe-secret",
                  UNSUBSCRIBE_SECRET_FALLBACKS=[SECRET]):
        assert read_token(old) == ("alice", "bob@example.com")
    with bare_app(UNSUBSCRIBE_SECRET="a-brand-new-unsubscribe-secret"):
        assert read_token(old) is None


def test_a_new_session_key_leaves_links_alone(context: Flask) -> None:
    token = make_token("alice", "bob@example.com")
    with bare_app(SECRET_KEY="a-brand-new-secret-key"):
        assert read_token(token) == ("alice", "bob@example.com")


def test_url_and_headers(context: Flask) -> None:
    url, header_list = unsubscribe_links("alice", "bob@example.com")
    assert url.startswith("https://mail.example.com/unsubscribe/")
    assert read_token(url.rsplit("/", 1)[1]) == ("alice", "bob@example.com")
    headers = dict(header_list)
    assert headers["List-Unsubscribe"] == f"<{url}>"
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_mailto_when_configured() -> None:
    with bare_app(MAIL_UNSUBSCRIBE_MAILTO="unsubscribe@example.com"):
        value = dict(unsubscribe_links("alice", "bob@example.com")[1])["List-Unsubscribe"]
    https, mailto = value.split(", ")
    assert https.startswith("<https://mail.example.com/unsubscribe/")
    assert mailto.startswith("<mailto:unsubscribe@example.com?subject=unsubscribe%20")


def test_an_unknown_sender_gets_no_token(context: Flask) -> None:
    with pytest.raises(LookupError):
        make_token("nobody", "bob@example.com")
