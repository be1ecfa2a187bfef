"""The reader's language (issue 21): Korean by default, English when the browser asks for it,
the navbar's switch (POST /settings/language) above both, kept on the account."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.extensions import db
from app.models import User
from tests.support.flows import AuthActions, csrf_token

HANGUL = re.compile(r"[\u1100-\u11ff\u3130-\u318f\uac00-\ud7a3]")
ENGLISH = {"Accept-Language": "en-US,en;q=0.9"}


class _Chrome(HTMLParser):
    """The text a reader sees or hears (text, titles, labels), except what is marked as
    written in another language (``lang="ko"``: the switch's 한국어, named in itself)."""

    VOID = {"input", "meta", "link", "br", "img", "hr"}

    def __init__(self) -> None:
        super().__init__()
        self.words: list[str] = []
        self._foreign: list[bool] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        foreign = self.left_out(tag, found)
        if not foreign and not any(self._foreign):
            self.words += [found[a] or "" for a in ("aria-label", "title", "placeholder")
                           if a in found]
        if tag not in self.VOID:
            self._foreign.append(foreign)

    def left_out(self, tag: str, attrs: dict[str, str | None]) -> bool:
        """Whether the element ``tag`` with ``attrs`` is left out, and all it holds."""
        return attrs.get("lang") == "ko" and tag != "html"

    def handle_endtag(self, tag: str) -> None:
        if tag not in self.VOID and self._foreign:
            self._foreign.pop()

    def handle_data(self, data: str) -> None:
        if not any(self._foreign):
            self.words.append(data)

    @classmethod
    def read(cls, html: str) -> str:
        """The words of ``html`` this reader keeps, in one string."""
        parser = cls()
        parser.feed(html)
        return " ".join(parser.words)


def chrome_text(html: str) -> str:
    return _Chrome.read(html)


def switch(client: FlaskClient, lang: str, page: str = "/auth/login", **extra: str) -> object:
    return client.post("/settings/language", data={
        "lang": lang, "next": page, "csrf_token": csrf_token(client, page), **extra})


def test_korean_by_default(client: FlaskClient) -> None:
    html = client.get("/auth/login").get_data(as_text=True)
    assert '<html lang="ko">' in html
    assert "로그인" in html and "아이디" in html and "Sign in" not in html


def test_accept_language_en_gives_the_login_page_in_english(client: FlaskClient) -> None:
    html = client.get("/auth/login", headers=ENGLISH).get_data(as_text=True)
    assert '<html lang="en">' in html
    assert "Sign in" in html and "Username" in html and "Password" in html
    assert not HANGUL.search(chrome_text(html)), HANGUL.findall(chrome_text(html))


def test_english_form_errors_and_refusal(auth: AuthActions, client: FlaskClient) -> None:
    auth.create()
    guarded = client.get("/send_mail", headers=ENGLISH, follow_redirects=True)
    assert "Please sign in." in guarded.get_data(as_text=True)
    token = csrf_token(client)
    empty = client.post("/auth/login", data={"csrf_token": token}, headers=ENGLISH)
    assert "Enter your username." in empty.get_data(as_text=True)
    wrong = client.post("/auth/login", headers=ENGLISH, data={
        "username": "alice", "password": "wrong", "csrf_token": token})
    html = wrong.get_data(as_text=True)
    assert "The username or password is incorrect." in html
    assert not HANGUL.search(chrome_text(html))


def test_a_korean_browser_and_the_rest_stay_korean(client: FlaskClient) -> None:
    for header in ("ko-KR,ko;q=0.9,en;q=0.8", "fr-FR,fr;q=0.9", "ja"):
        html = client.get("/auth/login", headers={"Accept-Language": header}).get_data(
            as_text=True)
        assert '<html lang="ko">' in html, header


def test_the_404_page_in_english(client: FlaskClient) -> None:
    response = client.get("/no/such/page", headers=ENGLISH)
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "Page not found" in html and not HANGUL.search(chrome_text(html))


def test_a_visitors_choice_is_kept_in_the_session(client: FlaskClient) -> None:
    response = switch(client, "en")
    assert response.status_code == 303
    assert response.headers["Location"] == "/auth/login"
    html = client.get("/auth/login").get_data(as_text=True)  # no Accept-Language at all
    assert '<html lang="en">' in html and "Sign in" in html
    switch(client, "ko")
    assert "로그인" in client.get("/auth/login", headers=ENGLISH).get_data(as_text=True)


def _language(app: Flask, username: str = "alice") -> str | None:
    with app.app_context():
        return db.session.scalar(db.select(User.language).filter_by(username=username))


def test_the_saved_choice_wins_over_accept_language(signed_in: FlaskClient,
                                                    app: Flask) -> None:
    assert _language(app) is None
    assert "Send" in signed_in.get("/send_mail", headers=ENGLISH).get_data(as_text=True)
    response = switch(signed_in, "ko", page="/send_mail")
    assert response.status_code == 303 and response.headers["Location"] == "/send_mail"
    assert _language(app) == "ko"
    html = signed_in.get("/send_mail", headers=ENGLISH).get_data(as_text=True)
    assert '<html lang="ko">' in html and ">내역</a>" in html


def test_the_choice_follows_the_account(signed_in: FlaskClient, auth: AuthActions,
                                        app: Flask) -> None:
    switch(signed_in, "en", page="/send_mail")
    assert _language(app) == "en"
    auth.logout()
    assert "You have signed out." in signed_in.get("/auth/login").get_data(as_text=True)
    with app.test_client() as other:  # another browser, Korean by its header
        AuthActions(other, app).login()
        html = other.get("/send_mail", headers={"Accept-Language": "ko"}).get_data(
            as_text=True)
        assert '<html lang="en">' in html and ">History</a>" in html


@pytest.mark.parametrize("lang", ["fr", "", "EN", "ko-KR", "en; drop table users"])
def test_a_bad_lang_is_refused_with_a_message(signed_in: FlaskClient, app: Flask,
                                              lang: str) -> None:
    switch(signed_in, "en", page="/send_mail")
    response = switch(signed_in, lang, page="/send_mail")
    assert response.status_code == 303
    html = signed_in.get(response.headers["Location"]).get_data(as_text=True)
    assert "Choose a language: 한국어 (ko) or English (en)." in html
    assert _language(app) == "en"


def test_a_visitors_bad_lang_changes_nothing(client: FlaskClient) -> None:
    switch(client, "de")
    with client.session_transaction() as session:
        assert "lang" not in session
    html = client.get("/auth/login").get_data(as_text=True)
    assert "언어는 한국어(ko)나 English(en) 가운데 하나를 고르세요." in html


def test_the_switch_needs_csrf(client: FlaskClient) -> None:
    assert client.post("/settings/language", data={"lang": "en"}).status_code == 400


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x",
                                    "/\\evil.example", "javascript:alert(1)", ""])
def test_only_local_pages_to_go_back_to(client: FlaskClient, target: str) -> None:
    response = switch(client, "en", **{"next": target})
    assert response.status_code == 303
    assert response.headers["Location"] in ("/", "/auth/login")


def test_back_to_the_referrer_on_this_host(client: FlaskClient) -> None:
    token = csrf_token(client)
    response = client.post("/settings/language", data={"lang": "en", "csrf_token": token},
                           headers={"Referer": "http://localhost/auth/login?next=%2Ftasks"})
    assert response.headers["Location"] == "/auth/login?next=%2Ftasks"


def test_the_switch_in_the_navbar(client: FlaskClient) -> None:
    html = client.get("/auth/login", headers=ENGLISH).get_data(as_text=True)
    form = html[html.index('id="language-switch"'):]
    form = form[:form.index("</form>")]
    assert 'aria-label="Language"' in form and 'name="next" value="/auth/login"' in form
    assert 'value="ko" lang="ko"' in form and 'value="en" lang="en"' in form
    assert form.count("aria-current") == 1 and "<script>" not in html  # no inline script


def test_the_503_page_and_its_json_in_english(app: Flask, client: FlaskClient) -> None:
    from redis.exceptions import ConnectionError as RedisConnectionError

    @app.get("/_test/outage")
    def outage() -> str:
        raise RedisConnectionError("gone")

    page = client.get("/_test/outage", headers=ENGLISH)
    assert page.status_code == 503
    html = page.get_data(as_text=True)
    assert "Temporarily unavailable" in html and "The job queue (Redis)" in html
    assert '<html lang="en">' in html and not HANGUL.search(chrome_text(html))
    body = client.get("/_test/outage", headers={**ENGLISH, "Accept": "application/json"}).json
    assert body["error"].startswith("The job queue (Redis) cannot be reached")
    korean = client.get("/_test/outage", headers={"Accept": "application/json"}).json
    assert "작업 대기열(Redis)" in korean["error"]


@pytest.mark.parametrize(("code", "title"), [(413, "Request too large"),
                                             (429, "Too many requests")])
def test_the_413_and_429_pages_in_english(app: Flask, client: FlaskClient, code: int,
                                          title: str) -> None:
    from flask import abort

    app.add_url_rule(f"/_test/{code}", f"fail_{code}", lambda: abort(code))
    response = client.get(f"/_test/{code}", headers=ENGLISH)
    assert response.status_code == code
    html = response.get_data(as_text=True)
    assert title in html and not HANGUL.search(chrome_text(html))
