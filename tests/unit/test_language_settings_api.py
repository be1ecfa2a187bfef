"""The API tokens and webhooks pages, the API's problem details and the operator's CLI in
both languages (issue 21): in English no Korean outside what the user wrote or a server
said; in Korean none of the code's English words; the API answers in the language the
request asks for, else the token owner's, else Korean; the CLI in ``MAILROOM_LANGUAGE``,
else the POSIX locale's, else Korean."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.cli_language import operator_language
from app.extensions import db
from app.models import ApiToken, User, Webhook, WebhookDelivery
from app.models.types import utcnow
from tests.support.api import bearer, make_token
from tests.support.flows import csrf_token
from tests.unit.test_language import ENGLISH, HANGUL, _Chrome

KOREAN = {"Accept-Language": "ko"}
LEAKS = re.compile(r"delivered|pending|Task#")
# User data on these pages: a token's name (its cell, and inside its button's label), a
# receiver's answer in the delivery log.
USER_DATA_CLASSES = {"token-name", "reply"}
TOKEN_NAMES = ("주문 알림 서버", "주간 소식")
PROBLEM = "urn:mailroom:problem:"
GOOD = "plum tree in June"


class _Words(_Chrome):
    """What a reader sees or hears, without the user data nor the scripts."""

    def left_out(self, tag: str, attrs: dict[str, str | None]) -> bool:
        classes = set((attrs.get("class") or "").split())
        return (super().left_out(tag, attrs) or bool(classes & USER_DATA_CLASSES)
                or tag in ("script", "style"))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)  # the phone tables' captions are read too
        if "data-label" in found and not self.left_out(tag, found) and not any(self._foreign):
            self.words.append(found["data-label"] or "")
        super().handle_starttag(tag, attrs)


def words(html: str) -> str:
    return _Words.read(html)


@pytest.fixture
def settings_data(app: Flask, signed_in: FlaskClient) -> FlaskClient:
    """alice with a live token and a revoked one (Korean names: user data), a webhook
    whose log has a delivered, a pending, a retrying and a failed delivery (a Korean
    answer from the receiver: user data too)."""
    for name in TOKEN_NAMES:
        make_token(signed_in, name)
    now = utcnow()
    with app.app_context():
        db.session.scalars(db.select(ApiToken)).first().revoked_at = now
        hook = Webhook(username="alice", url="https://hooks.example.com/mailroom",
                       events=["send.finished", "recipient.bounced"], secret="whsec_x")
        db.session.add(hook)
        db.session.flush()
        for i, (status, code, answer) in enumerate((
                ("delivered", 200, "ok"), ("pending", None, None),
                ("retrying", 503, "잠시 후 다시 시도하세요"), ("failed", 500, "서버 오류"))):
            db.session.add(WebhookDelivery(
                webhook_id=hook.id, event="send.finished", event_key=f"k{i}",
                payload={"type": "send.finished", "data": {}}, status=status,
                attempts=0 if status == "pending" else 3, last_status_code=code,
                last_response=answer, created_at=now - timedelta(hours=1),
                last_attempt_at=None if status == "pending" else now))
        db.session.commit()
    return signed_in


@pytest.mark.parametrize("path", ["/settings/tokens", "/settings/webhooks"])
def test_the_settings_pages_in_english_have_no_korean(settings_data: FlaskClient,
                                                      path: str) -> None:
    html = settings_data.get(path, headers=ENGLISH).get_data(as_text=True)
    assert '<html lang="en">' in html
    text = words(html)
    for name in TOKEN_NAMES:
        text = text.replace(name, "")
    assert not HANGUL.findall(text), (path, [w for w in text.split() if HANGUL.search(w)])
    assert "주문 알림 서버" in html or path.endswith("webhooks")  # the user's data, as written


def test_the_settings_pages_in_english_say_it_in_english(settings_data: FlaskClient) -> None:
    tokens = words(settings_data.get("/settings/tokens", headers=ENGLISH).get_data(as_text=True))
    assert "Create token" in tokens and "Revoked (" in tokens and "Active" in tokens
    hooks = words(settings_data.get("/settings/webhooks", headers=ENGLISH).get_data(
        as_text=True))
    for word in ("Delivered", "Pending", "Retrying", "Failed", "Resend", "Last answer"):
        assert word in hooks, word


@pytest.mark.parametrize("path", ["/settings/tokens", "/settings/webhooks"])
def test_the_settings_pages_in_korean_leak_no_code_words(settings_data: FlaskClient,
                                                         path: str) -> None:
    for headers in (KOREAN, {}):
        html = settings_data.get(path, headers=headers).get_data(as_text=True)
        assert '<html lang="ko">' in html
        assert not LEAKS.findall(words(html)), path
    assert "전달됨" in words(settings_data.get("/settings/webhooks").get_data(as_text=True))


def test_refusals_and_flashes_in_english(app: Flask, settings_data: FlaskClient) -> None:
    client = settings_data
    long_name = client.post("/settings/tokens", headers=ENGLISH, data={
        "name": "x" * 65, "csrf_token": csrf_token(client, "/settings/tokens")})
    assert long_name.status_code == 422
    assert "Enter a name of 1 to 64 characters." in long_name.get_data(as_text=True)
    private = client.post("/settings/webhooks", headers=ENGLISH, data={
        "url": "http://127.0.0.1:9/hook", "events": ["send.finished"],
        "csrf_token": csrf_token(client, "/settings/webhooks")})
    assert private.status_code == 422
    assert "private or loopback" in words(private.get_data(as_text=True))
    with app.app_context():
        live = db.session.scalar(db.select(ApiToken).where(ApiToken.revoked_at.is_(None)))
        token_id = live.id
    revoked = client.post(f"/settings/tokens/{token_id}/revoke", headers=ENGLISH,
                          data={"csrf_token": csrf_token(client, "/settings/tokens")},
                          follow_redirects=True)
    assert "Revoked token '주간 소식'" in words(revoked.get_data(as_text=True))


# -- the API -------------------------------------------------------------------------------

@pytest.fixture
def api(signed_in: FlaskClient, app: Flask) -> tuple[FlaskClient, dict[str, str]]:
    """A client and alice's token (a bearer token signs in; the session is ignored)."""
    return app.test_client(), bearer(make_token(signed_in))


def _problem(response: Any, status: int, slug: str) -> dict[str, Any]:
    assert response.status_code == status and response.mimetype == "application/problem+json"
    body = response.json
    assert body["type"] == PROBLEM + slug and body["status"] == status
    return body


def test_api_404_in_english_and_korean(api: Any) -> None:
    client, auth = api
    english = _problem(client.get("/api/v1/sends/999", headers={**auth, **ENGLISH}), 404,
                       "not-found")
    assert english["title"] == "Not found" and english["detail"] == "Send 999 was not found."
    korean = _problem(client.get("/api/v1/sends/999", headers={**auth, **KOREAN}), 404,
                      "not-found")
    assert korean["title"] == "찾을 수 없습니다" and "999" in korean["detail"]
    assert HANGUL.search(korean["detail"])
    unrouted = _problem(client.get("/api/v1/nothing", headers={**auth, **ENGLISH}), 404,
                        "not-found")
    assert unrouted["detail"].startswith("The API has no address /api/v1/nothing")


def test_api_401_in_english_and_korean(api: Any) -> None:
    client, _auth = api
    english = _problem(client.get("/api/v1/sends", headers=ENGLISH), 401, "unauthorized")
    assert english["title"] == "Authentication required"
    assert not HANGUL.search(english["title"] + english["detail"])
    revoked = _problem(client.get("/api/v1/sends", headers=bearer("mr_nothing", **ENGLISH)),
                       401, "unauthorized")
    assert revoked["detail"] == "The token is not valid or has been revoked."
    korean = _problem(client.get("/api/v1/sends"), 401, "unauthorized")
    assert korean["title"] == "인증이 필요합니다" and "머리글" in korean["detail"]


def test_api_422_in_english_and_korean(api: Any) -> None:
    client, auth = api
    body = {"template": "welcome", "recipients": [{"email": "a@example.com"}],
            "send_at": "2030-01-01T09:00:00"}
    english = _problem(client.post("/api/v1/sends", json=body, headers={**auth, **ENGLISH}),
                       422, "invalid-request")
    assert english["title"] == "The request is not valid" and english["field"] == "send_at"
    assert "offset" in english["detail"] and not HANGUL.search(english["detail"])
    korean = _problem(client.post("/api/v1/sends", json=body, headers=auth), 422,
                      "invalid-request")
    assert korean["title"] == "요청 내용이 올바르지 않습니다" and "오프셋" in korean["detail"]
    paged = _problem(client.get("/api/v1/sends?per_page=0", headers={**auth, **ENGLISH}),
                     422, "invalid-request")
    assert paged["detail"] == "per_page must be between 1 and 100."


def test_api_owner_language_when_no_header_asks(app: Flask, api: Any) -> None:
    client, auth = api
    with app.app_context():
        User.by_username("alice").language = "en"
        db.session.commit()
    assert client.get("/api/v1/sends/999", headers=auth).json["title"] == "Not found"
    asked = client.get("/api/v1/sends/999", headers={**auth, **KOREAN}).json
    assert asked["title"] == "찾을 수 없습니다"  # the request's own header first
    french = client.get("/api/v1/sends/999", headers={**auth, "Accept-Language": "fr"}).json
    assert french["title"] == "Not found"  # a header naming neither: the owner's


def test_the_openapi_document_says_how_the_language_is_chosen(client: FlaskClient) -> None:
    description = client.get("/api/v1/openapi.json").json["info"]["description"]
    assert "Accept-Language" in description and "Korean" in description


# -- the operator's CLI --------------------------------------------------------------------

NO_LOCALE = {"MAILROOM_LANGUAGE": None, "LC_ALL": None, "LC_MESSAGES": None, "LANG": None}


def test_cli_output_and_errors_in_english(app: Flask) -> None:
    runner = app.test_cli_runner()
    english = {**NO_LOCALE, "MAILROOM_LANGUAGE": "en"}
    made = runner.invoke(args=["users", "create", "bob", "--password", GOOD], env=english)
    assert made.exit_code == 0, made.output
    assert made.output.strip() == "created user bob"
    again = runner.invoke(args=["users", "create", "bob", "--password", GOOD], env=english)
    assert again.exit_code != 0 and "That name is taken: bob" in again.output
    assert not HANGUL.search(again.output)
    ended = runner.invoke(args=["users", "end-sessions", "--all"], env=english)
    assert ended.output.strip() == "ended the sessions of 1 account(s)"
    dkim = runner.invoke(args=["dkim", "dns"], env=english)
    assert dkim.exit_code != 0 and "DKIM is off" in dkim.output


def test_cli_prompts_in_the_operators_language(app: Flask) -> None:
    runner = app.test_cli_runner()
    answer = f"{GOOD}\n{GOOD}\n"
    english = runner.invoke(args=["users", "create", "carol"], input=answer,
                            env={**NO_LOCALE, "LANG": "en_US.UTF-8"})
    assert english.exit_code == 0, english.output
    assert "Password:" in english.output and "Repeat the password:" in english.output
    korean = runner.invoke(args=["users", "create", "dave"], input=answer,
                           env={**NO_LOCALE, "LANG": "C.UTF-8"})
    assert korean.exit_code == 0, korean.output
    assert "비밀번호:" in korean.output and "계정 dave을(를) 만들었습니다." in korean.output
    assert "Password" not in korean.output


def test_cli_in_korean_without_a_choice(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["users", "set-quota", "nobody", "--default"],
                                          env=NO_LOCALE)
    assert result.exit_code != 0 and "없는 이름입니다: nobody" in result.output


@pytest.mark.parametrize(("environ", "language"), [
    ({}, "ko"),  # no locale set
    ({"MAILROOM_LANGUAGE": "en"}, "en"),
    ({"MAILROOM_LANGUAGE": "ko", "LANG": "en_US.UTF-8"}, "ko"),
    ({"MAILROOM_LANGUAGE": "EN_us"}, "en"),
    ({"MAILROOM_LANGUAGE": "fr", "LANG": "en_GB.UTF-8"}, "en"),
    ({"LANG": "en_US.UTF-8"}, "en"),
    ({"LANG": "ko_KR.UTF-8"}, "ko"),
    ({"LANG": "C.UTF-8"}, "ko"),
    ({"LC_ALL": "ko_KR.UTF-8", "LANG": "en_US.UTF-8"}, "ko"),  # LC_ALL first
    ({"LC_ALL": "", "LC_MESSAGES": "en_US", "LANG": "ko_KR"}, "en"),
])
def test_operator_language(environ: dict[str, str], language: str) -> None:
    assert operator_language(environ) == language


def test_a_refused_job_says_why_in_the_operators_language(app: Flask,
                                                          monkeypatch: Any) -> None:
    import fakeredis
    from rq import Queue

    from app.queue import SERIALIZER
    from app.worker.allowlist import JobNotAllowed, allowlisted_job_class

    redis = fakeredis.FakeRedis(server=fakeredis.FakeServer())
    job = Queue("default", connection=redis, serializer=SERIALIZER).enqueue("os.system", "true")
    read = allowlisted_job_class().fetch(job.id, connection=redis, serializer=SERIALIZER)
    monkeypatch.setenv("MAILROOM_LANGUAGE", "en")
    with app.app_context(), pytest.raises(JobNotAllowed, match="not on this worker's allowlist"):
        read.func  # noqa: B018 - the property is what refuses
    monkeypatch.setenv("MAILROOM_LANGUAGE", "ko")
    with app.app_context(), pytest.raises(JobNotAllowed, match="허용 목록"):
        read.func  # noqa: B018
