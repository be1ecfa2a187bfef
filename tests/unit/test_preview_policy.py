"""The preview's HTML is shown from an answer of its own (``POST /send_mail/preview.html``),
under a policy made for untrusted mail: a sandbox (no scripts, an opaque origin), no network,
the mail's own styles; never cached, never sniffed. It renders what the JSON preview renders,
for the signed-in owner's templates only, under the same rate limit and CSRF rule; the send
page keeps its strict policy and frames the mail in a sandboxed iframe."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from app.extensions import db
from app.models import MailTemplate, User
from app.security import CONTENT_SECURITY_POLICY, MAIL_HTML_POLICY
from tests.support.flows import csrf_token

CSV = "email,name\nkim@example.com,김하나\nlee@example.com,Lee <Dul>\n"
HTML = "/send_mail/preview.html"


def add_template(app: Flask, owner: str, name: str, body_html: str | None) -> None:
    with app.app_context():
        db.session.add(MailTemplate(owner=owner, name=name, subject="{{ name }}님",
                                    body_text="{{ name }}님께", body_html=body_html))
        db.session.commit()


def form(client: FlaskClient, template: str, recipient: str = CSV, **extra: str) -> dict:
    return {"recipient": recipient, "template_name": template, "timezone": "Asia/Seoul",
            "csrf_token": csrf_token(client, "/send_mail"), **extra}


def directives(policy: str) -> dict[str, str]:
    return {name: value.strip() for name, _, value in
            (part.strip().partition(" ") for part in policy.split(";"))}


def assert_mail_policy(response: Any) -> None:
    assert response.mimetype == "text/html"
    assert response.headers["Content-Security-Policy"] == MAIL_HTML_POLICY
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"


def test_the_policy_is_made_for_untrusted_mail() -> None:
    policy = directives(MAIL_HTML_POLICY)
    assert policy["sandbox"] == ""  # no allow-scripts, no allow-same-origin, nothing
    assert policy["default-src"] == "'none'"  # no scripts, fonts, frames or fetches
    assert policy["style-src"] == "'unsafe-inline'" and policy["img-src"] == "data:"
    assert policy["frame-ancestors"] == "'self'" and policy["form-action"] == "'none'"
    assert "script-src" not in policy and "connect-src" not in policy


def test_the_frame_gets_the_owners_mail_under_its_own_policy(app: Flask,
                                                             signed_in: FlaskClient) -> None:
    add_template(app, "alice", "greeting", '<p style="color:#666">{{ name }}님께 (alice)</p>')
    add_template(app, "bob", "greeting", "<p>bob's secret for {{ name }}</p>")
    data = form(signed_in, "greeting")
    answer = signed_in.post(HTML + "?index=1", data=data)
    assert answer.status_code == 200
    assert_mail_policy(answer)
    html = answer.get_data(as_text=True)
    assert html == '<p style="color:#666">Lee &lt;Dul&gt;님께 (alice)</p>'
    # The same mail as the JSON answer's ``html`` (index in the form there).
    preview = signed_in.post("/send_mail/preview", data={**data, "index": "1"}).get_json()
    assert preview["html"] == html and "bob" not in html


def test_the_sender_is_the_signed_in_user(app: Flask, signed_in: FlaskClient) -> None:
    with app.app_context():
        User.by_username("alice").display_name = "앨리스 상점"
        db.session.commit()
    answer = signed_in.post(HTML, data=form(signed_in, "welcome", "a@example.com"))
    assert answer.status_code == 200
    assert_mail_policy(answer)
    html = answer.get_data(as_text=True)
    assert "이 메일은 앨리스 상점 님이 보냈습니다." in html
    assert re.search(r'<p style="[^"]+">더 이상 받지 않으려면', html)  # the footer's style


def test_another_users_template_is_refused(app: Flask, signed_in: FlaskClient) -> None:
    add_template(app, "bob", "bobs-only", "<p>bob's secret</p>")
    answer = signed_in.post(HTML, data=form(signed_in, "bobs-only"))
    assert answer.status_code == 400
    assert_mail_policy(answer)
    text = answer.get_data(as_text=True)
    assert "알 수 없는 템플릿입니다: bobs-only" in text and "secret" not in text


def test_bad_input_answers_a_message_in_the_frame(app: Flask, signed_in: FlaskClient) -> None:
    add_template(app, "alice", "greeting", "<p>{{ name }}</p>")
    missing = signed_in.post(HTML, data=form(signed_in, "greeting", "a@example.com"))
    assert missing.status_code == 400 and "필드(name)" in missing.get_data(as_text=True)
    assert_mail_policy(missing)
    index = signed_in.post(HTML + "?index=x", data=form(signed_in, "greeting"))
    assert index.status_code == 400
    assert "받는 사람의 번호(index)가 올바르지 않습니다" in index.get_data(as_text=True)
    # A message with markup in it is text in the frame, never markup.
    odd = signed_in.post(HTML, data=form(signed_in, "<b>nope</b>"))
    assert "&lt;b&gt;nope&lt;/b&gt;" in odd.get_data(as_text=True)


def test_a_text_only_template_says_so(app: Flask, signed_in: FlaskClient) -> None:
    add_template(app, "alice", "plain", None)
    answer = signed_in.post(HTML, data=form(signed_in, "plain"))
    assert answer.status_code == 200
    assert "HTML 본문이 없습니다" in answer.get_data(as_text=True)


def test_csrf_and_sign_in_are_required(app: Flask, signed_in: FlaskClient) -> None:
    data = form(signed_in, "welcome", "a@example.com")
    assert signed_in.post(HTML, data={**data, "csrf_token": "forged"}).status_code == 400
    assert signed_in.get(HTML).status_code == 405
    stranger = app.test_client()  # signed out, with a good token of its own
    answer = stranger.post(HTML, data={**data, "csrf_token": csrf_token(stranger)})
    assert answer.status_code == 302 and "/auth/login" in answer.headers["Location"]


def test_json_and_frame_share_the_preview_limit(app: Flask, signed_in: FlaskClient) -> None:
    app.config["RATELIMIT_PREVIEW"] = "2 per minute"
    data = form(signed_in, "welcome", "a@example.com")
    assert signed_in.post("/send_mail/preview", data=data).status_code == 200
    assert signed_in.post(HTML, data=data).status_code == 200
    assert signed_in.post(HTML, data=data).status_code == 429
    assert signed_in.post("/send_mail/preview", data=data).status_code == 429


def test_the_page_stays_strict_and_frames_the_mail_sandboxed(signed_in: FlaskClient) -> None:
    page = signed_in.get("/send_mail")
    assert page.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    html = page.get_data(as_text=True)
    [frame] = re.findall(r"<iframe[^>]*>", html)
    assert 'id="preview-html"' in frame and 'name="preview-html-frame"' in frame
    assert 'sandbox=""' in frame and "srcdoc" not in frame
    assert f'data-preview-html-url="{HTML}"' in html
