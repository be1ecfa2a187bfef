"""The built-in templates and the template engine's messages in the sender's language
(issue 21): ``welcome`` and ``notice`` go out in the language of whoever sends them (the
reader's, in a request; Korean elsewhere) while the Korean built-ins stay byte for byte;
a user's own template is sent as written; Jinja's English messages are our sentences in
both languages, the part and line kept, an unknown one after a generic sentence."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_babel import force_locale, refresh

from app.extensions import db
from app.mail.sandbox import TemplateProblem, check, compile_mail, sample_context
from app.mail.sandbox.messages import GENERIC, JINJA, known_or_generic, localize
from app.models import MailTemplate, Task
from app.models.template import BUILTINS, HTML_FOOTER, TEXT_FOOTER
from app.tasks.service import Mailing
from tests.support.flows import csrf_token
from tests.unit.test_language import ENGLISH, HANGUL
from tests.unit.test_language_pages import KOREAN

SHIPPED_WELCOME = {
    "name": "welcome", "label": "환영 메일 (welcome)", "subject": "Mailroom에 오신 것을 환영합니다",
    "body_text": "환영합니다!\n\n{{ recipient }} 님, Mailroom에 오신 것을 환영합니다.\n"
                 "이 메일은 {{ sender_name }} 님이 보냈습니다.\n\n--\n더 이상 받지 않으려면: "
                 "{{ unsubscribe_url }}",
}


def test_the_korean_builtins_are_as_shipped() -> None:
    welcome, notice = BUILTINS
    assert {k: welcome[k] for k in SHIPPED_WELCOME} == SHIPPED_WELCOME
    assert notice["subject"] == "[공지] Mailroom 서비스 안내"
    assert TEXT_FOOTER == "\n\n--\n더 이상 받지 않으려면: {{ unsubscribe_url }}"
    assert HTML_FOOTER.endswith("<a href=\"{{ unsubscribe_url }}\">수신 거부</a>를 누르세요."
                                "</p>\n</body></html>")
    assert welcome["body_html"].startswith("<!doctype html>\n<html lang=\"ko\"><body>\n")


@pytest.mark.parametrize("name", ["welcome", "notice"])
def test_a_builtin_in_each_language(app: Flask, name: str) -> None:
    with app.app_context():
        shipped = next(row for row in BUILTINS if row["name"] == name)
        template = MailTemplate.named(name, "alice")
        assert template is not None
        outside = template.snapshot()  # no request: the worker, the CLI → Korean
        with app.test_request_context(headers=KOREAN):
            refresh()  # as each request does (app/i18n.py): the app context is shared here
            korean = template.snapshot()
        with app.test_request_context(headers=ENGLISH):
            refresh()
            english = template.snapshot()
            title = template.title
    for snapshot in (outside, korean):
        assert {k: snapshot[k] for k in ("subject", "body_text", "body_html")} == {
            k: shipped[k] for k in ("subject", "body_text", "body_html")}
    assert title == {"welcome": "Welcome mail (welcome)", "notice": "Notice mail (notice)"}[name]
    for part in ("subject", "body_text", "body_html"):
        assert english[part] and not HANGUL.search(english[part]), (part, english[part])
    assert english["body_html"].startswith('<!doctype html>\n<html lang="en">')
    assert "{{ unsubscribe_url }}" in english["body_text"]
    assert english["body_text"].endswith("\n\n--\nTo stop receiving these emails: "
                                         "{{ unsubscribe_url }}")
    mail = compile_mail(english).render(sample_context([]))  # the English one renders
    assert "someone@example.com" in mail.text and "https://example.com/unsubscribe" in mail.html


def test_a_users_own_template_is_sent_as_written(app: Flask) -> None:
    with app.app_context():
        own = MailTemplate(owner="alice", name="mine", subject="안녕하세요 {{ name }}",
                           body_text="본문")
        db.session.add(own)
        db.session.commit()
        with app.test_request_context(headers=ENGLISH):
            assert own.snapshot()["subject"] == "안녕하세요 {{ name }}"
            assert own.title == "mine"


def test_a_send_keeps_the_builtin_in_the_senders_language(app: Flask,
                                                          signed_in: FlaskClient) -> None:
    with app.app_context(), app.test_request_context(headers=ENGLISH):
        assert Mailing.named("welcome", "alice", ["a@example.com"]).template["subject"] == (
            "Welcome to Mailroom")
    for headers, subject in ((ENGLISH, "Welcome to Mailroom"),
                             (KOREAN, "Mailroom에 오신 것을 환영합니다")):
        answer = signed_in.post("/send_mail", headers=headers, data={
            "recipient": "a@example.com", "template_name": "welcome", "timezone": "Asia/Seoul",
            "csrf_token": csrf_token(signed_in, "/send_mail")})
        assert answer.status_code == 302
        with app.app_context():
            task = db.session.scalars(db.select(Task).order_by(Task.id.desc())).first()
            assert task.template["subject"] == subject


def test_the_preview_shows_the_builtin_in_the_readers_language(signed_in: FlaskClient) -> None:
    for headers, subject in ((ENGLISH, "Welcome to Mailroom"),
                             (KOREAN, "Mailroom에 오신 것을 환영합니다")):
        answer = signed_in.post("/send_mail/preview", headers=headers, data={
            "recipient": "a@example.com", "template_name": "welcome",
            "timezone": "Asia/Seoul", "csrf_token": csrf_token(signed_in, "/send_mail")})
        assert answer.status_code == 200, answer.text
        assert answer.json["subject"] == subject


# Jinja's message, ours in Korean, ours in English.
MAPPED = [
    ("unexpected end of template, expected 'end of print statement'.",
     "템플릿이 끝나기 전에 '출력 끝(}})'이(가) 와야 합니다.",
     "The template ended where 'end of print statement (}})' was expected."),
    ("expected token 'end of print statement', got 'a'",
     "'출력 끝(}})'이(가) 와야 할 자리에 'a'이(가) 있습니다.",
     "Expected 'end of print statement (}})' but found 'a'."),
    ("Unexpected end of template. Jinja was looking for the following tags: 'endfor' or "
     "'else'. The innermost block that needs to be closed is 'for'.",
     "템플릿이 블록을 닫기 전에 끝났습니다. 와야 하는 태그: 'endfor', 'else'. "
     "닫아야 할 가장 안쪽 블록: 'for'.",
     "The template ended before a block was closed. Expected tags: 'endfor', 'else'. "
     "Innermost block to close: 'for'."),
    ("Encountered unknown tag 'endif'.", "알 수 없는 태그 'endif'이(가) 있습니다.",
     "Unknown tag 'endif'."),
    ("unexpected '}'", "여기에는 '}'이(가) 올 수 없습니다.", "'}' is not expected here."),
    ("unexpected char '@' at 3", "쓸 수 없는 글자 '@'이(가) 있습니다(3번째 글자).",
     "The character '@' is not allowed (character 3)."),
    ("No filter named 'nope'.", "'nope'라는 필터는 없습니다.", "There is no filter named 'nope'."),
    ("'이름' is undefined",
     "'이름'이(가) 정의되지 않았습니다. 받는 사람 필드나 변수의 이름을 확인하세요.",
     "'이름' is not defined. Check the names of the recipient fields and variables."),
    ("'dict object' has no attribute 'b'", "'사전(dict)'에는 'b' 속성이 없습니다.",
     "'dict' has no attribute 'b'."),
    ("access to attribute '__class__' of 'str' object is unsafe.",
     "'str' 값의 '__class__' 속성에는 접근할 수 없습니다.",
     "The attribute '__class__' of a 'str' value cannot be accessed."),
    ("문법 오류: No test named 'odd'.", "문법 오류: 'odd'라는 검사(test)는 없습니다.",
     "Syntax error: There is no test named 'odd'."),
]


@pytest.mark.parametrize("jinja,korean,english", MAPPED)
def test_jinjas_messages_are_ours_in_both_languages(app: Flask, jinja: str, korean: str,
                                                    english: str) -> None:
    assert localize(jinja) == korean  # no app: Korean
    with app.test_request_context(headers=KOREAN):
        assert localize(jinja) == korean
    with app.test_request_context(headers=ENGLISH):
        assert localize(jinja) == english


def test_every_jinja_pattern_has_both_languages(app: Flask) -> None:
    with app.test_request_context(headers=ENGLISH):
        from flask_babel import gettext
        for _, msgid in JINJA:
            assert HANGUL.search(msgid) and not HANGUL.search(gettext(msgid)), msgid


def test_an_unknown_message_comes_after_a_generic_sentence(app: Flask) -> None:
    odd = "unsupported operand type(s) for +: 'int' and 'str'"
    assert known_or_generic(odd) == GENERIC % {"detail": odd}
    assert known_or_generic("'x' is undefined") == "'x' is undefined"
    with app.test_request_context(headers=ENGLISH):
        assert localize(known_or_generic(odd)) == f"The template could not be processed: {odd}"
    assert localize(known_or_generic(odd)) == f"템플릿을 처리하지 못했습니다: {odd}"


@pytest.mark.parametrize("body,korean,english", [
    ("{{ email",
     "텍스트 본문 1번째 줄: 문법 오류: 템플릿이 끝나기 전에 '출력 끝(}})'이(가) 와야 합니다.",
     "Text body, line 1: Syntax error: The template ended where 'end of print statement (}})' "
     "was expected."),
    ("ok\n\n{{ 1 + 'a' }}", "텍스트 본문 3번째 줄: 템플릿을 처리하지 못했습니다: unsupported "
     "operand type(s) for +: 'int' and 'str'", "Text body, line 3: The template could not be "
     "processed: unsupported operand type(s) for +: 'int' and 'str'"),
    ("{% for a in email %}{% for b in email %}{% for c in email %}{% endfor %}{% endfor %}"
     "{% endfor %}", "텍스트 본문 1번째 줄: 반복(for)은 2겹까지만 쓸 수 있습니다.",
     "Text body, line 1: Loops (for) can be nested at most 2 deep."),
    ("{{ 'x' * 1000000000 }}", "텍스트 본문 1번째 줄: 결과가 너무 깁니다(200,000자 초과).",
     "Text body, line 1: The result is too long (over 200,000 characters)."),
])
def test_a_problem_names_part_and_line_in_each_language(app: Flask, body: str, korean: str,
                                                        english: str) -> None:
    with pytest.raises(TemplateProblem) as caught:
        check({"subject": "s", "body_text": body})
    assert str(caught.value) == korean
    with app.test_request_context(headers=ENGLISH):
        assert str(caught.value) == english
    with app.app_context(), force_locale("en"):  # the worker writing in a task's language
        assert str(caught.value) == english
