"""The lists and templates pages in the reader's language (issue 21): in English no Korean
outside user data — a list with members and its import's report, the templates, a built-in
read-only, a template's form with its errors, the preview's error —; in Korean none of the
code's English words (``delivered``, ``pending``, ``Task#``)."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.extensions import db
from app.models import MailTemplate
from tests.support.flows import csrf_token, post_file
from tests.unit.test_language import ENGLISH, HANGUL
from tests.unit.test_language_pages import KOREAN, LEAKS, words
from tests.unit.test_lists import run_jobs

# User data in ASCII (list name, file, fields), so any Hangul left is the page's own.
CSV = ("email,name,city\n"
       "a@example.com,Kim,Seoul\n"
       "not-an-address,Two,Busan\n"
       "b@example.com,Park,Daegu\n"
       "a@example.com,Again,Incheon\n")
BROKEN = {"name": "broken", "subject": "Hi {{ name }}", "body_text": "{% if name %}\nHello"}


def hangul(html: str) -> list[str]:
    return sorted(set(re.findall(r"\S*[\uac00-\ud7a3]+\S*", words(html))))


def leaks(html: str) -> list[str]:
    return LEAKS.findall(words(re.sub(r'\s(?:data-[\w-]+|class)="[^"]*"', "", html)))


@pytest.fixture
def pages(app: Flask, signed_in: FlaskClient) -> dict[str, str]:
    """The paths of a list with members and an import's report, and of the templates."""
    made = signed_in.post("/lists/new", data={
        "name": "Readers", "csrf_token": csrf_token(signed_in, "/lists/new")})
    list_id = int(made.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    answer = post_file(signed_in, f"/lists/{list_id}/import", "members_file", CSV.encode(),
                       filename="readers.csv", page="/lists/new")
    assert answer.status_code == 302
    run_jobs(app)
    signed_in.get(f"/lists/{list_id}")  # the fixture's own flashes, in Korean: shown here
    with app.app_context():
        own = MailTemplate(owner="alice", name="greeting", subject="Hi {{ name }}",
                           body_text="Hello {{ name }}")
        db.session.add(own)
        db.session.commit()
        welcome = MailTemplate.named("welcome", "alice")
        assert welcome is not None
        ids = {"own": own.id, "welcome": welcome.id}
    return {"index": "/lists", "new": "/lists/new", "show": f"/lists/{list_id}",
            "search": f"/lists/{list_id}?q=nobody", "templates": "/templates",
            "template_new": "/templates/new", "builtin": f"/templates/{ids['welcome']}/edit",
            "own": f"/templates/{ids['own']}/edit"}


def _get(client: FlaskClient, path: str, headers: dict[str, str]) -> str:
    response = client.get(path, headers=headers)
    assert response.status_code == 200, path
    return response.get_data(as_text=True)


def _broken_save(client: FlaskClient, headers: dict[str, str]) -> str:
    response = client.post("/templates/new", headers=headers, data={
        **BROKEN, "csrf_token": csrf_token(client, "/templates/new")})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_lists_and_templates_in_english_have_no_korean(signed_in: FlaskClient,
                                                       pages: dict[str, str]) -> None:
    for name, path in pages.items():
        html = _get(signed_in, path, ENGLISH)
        assert '<html lang="en">' in html, name
        assert not hangul(html), (name, hangul(html))
    show = _get(signed_in, pages["show"], ENGLISH)
    assert "Last import:" in show and "Refused lines" in show and "Recipients: 2" in show
    assert "Active 2" in show
    templates = _get(signed_in, pages["templates"], ENGLISH)
    assert "Welcome mail (welcome)" in templates and "Welcome to Mailroom" in templates
    assert "[Notice] About the Mailroom service" in templates
    builtin = _get(signed_in, pages["builtin"], ENGLISH)
    assert "To stop receiving these emails" in builtin and "Built-in template" in builtin


def test_a_broken_template_is_explained_in_english(signed_in: FlaskClient) -> None:
    html = _broken_save(signed_in, ENGLISH)
    error = re.search(r'id="body_text-error">([^<]*)<', html)
    assert error, html[-2000:]
    assert error.group(1) == (
        "Text body, line 1: Syntax error: The template ended before a block was closed. "
        "Expected tags: &#39;elif&#39;, &#39;else&#39;, &#39;endif&#39;. Innermost block "
        "to close: &#39;if&#39;.")
    assert not hangul(html), hangul(html)


def test_the_preview_says_its_error_in_english(app: Flask, signed_in: FlaskClient) -> None:
    with app.app_context():
        db.session.add(MailTemplate(owner="alice", name="odd", subject="Hi",
                                    body_text="Hello {{ name.first }}"))
        db.session.commit()
    answer = signed_in.post("/send_mail/preview", headers=ENGLISH, data={
        "recipient": "email,name\na@example.com,Kim\n", "template_name": "odd",
        "timezone": "Asia/Seoul", "csrf_token": csrf_token(signed_in, "/send_mail")})
    assert answer.status_code == 400
    assert answer.json["error"] == (
        "Text body, line 1: 'text (str)' has no attribute 'first'.")


def test_the_list_flashes_in_english(app: Flask, signed_in: FlaskClient) -> None:
    token = csrf_token(signed_in, "/lists/new")
    made = signed_in.post("/lists/new", data={"name": "Club", "csrf_token": token},
                          headers=ENGLISH, follow_redirects=True)
    html = made.get_data(as_text=True)
    assert "Created the list &#39;Club&#39;. Now import its recipients." in html
    assert not hangul(html), hangul(html)
    again = signed_in.post("/lists/new", data={"name": "Club", "csrf_token": token},
                           headers=ENGLISH)
    assert again.status_code == 400
    assert "A list with this name already exists: Club" in again.get_data(as_text=True)


def test_lists_and_templates_in_korean_say_no_english_code_words(
        signed_in: FlaskClient, pages: dict[str, str]) -> None:
    for name, path in pages.items():
        html = _get(signed_in, path, KOREAN)
        assert '<html lang="ko">' in html, name
        assert not leaks(html), (name, leaks(html))
    show = _get(signed_in, pages["show"], KOREAN)
    assert "마지막 가져오기:" in show and "2명" in show and "받는 중 2" in show
    templates = _get(signed_in, pages["templates"], KOREAN)
    assert "환영 메일 (welcome)" in templates and "Mailroom에 오신 것을 환영합니다" in templates
    html = _broken_save(signed_in, KOREAN)
    assert "텍스트 본문 1번째 줄: 문법 오류: 템플릿이 블록을 닫기 전에 끝났습니다." in html
    assert not leaks(html) and "Unexpected end of template" not in html


def test_the_members_csv_speaks_the_readers_language(signed_in: FlaskClient,
                                                     pages: dict[str, str]) -> None:
    english = signed_in.get(pages["show"] + "/members.csv", headers=ENGLISH).get_data(
        as_text=True)
    assert english.lstrip("\ufeff").splitlines()[0] == "email,Status,name,city,Added"
    assert english.splitlines()[1].startswith("a@example.com,Active,Kim,Seoul,")
    korean = signed_in.get(pages["show"] + "/members.csv", headers=KOREAN).get_data(
        as_text=True)
    assert korean.lstrip("\ufeff").splitlines()[0] == "email,상태,name,city,추가한 때"
    assert ",받는 중," in korean.splitlines()[1]
    assert not HANGUL.search(english)
