"""The address checks, the CSV reader and the mail path's errors in the reader's language
(issue 21): email-validator's English reasons are mapped to ours, so an English reader
sees no Korean and a Korean reader none of email-validator's English."""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from email_validator import EmailNotValidError, EmailUndeliverableError, validate_email
from flask import Flask
from flask.testing import FlaskClient
from flask_babel import Babel, force_locale, gettext

from app.mail import recipients
from app.mail.recipients import display, parse_recipients, read_recipients
from app.mail.relay import PlainLoginRefused, RelayCertificateError, tls_context
from app.mail.render import RenderedMail, _limit_message
from app.mail.renderpool import BUSY, MEMORY, TIME, RenderLimits
from app.mail.sender import SmtpConnection, build_message
from tests.support import ROOT
from tests.support.flows import flashes, post_send
from tests.unit.test_language import ENGLISH, HANGUL

# An address → email-validator refuses it → our reason in Korean (the msgid) and English.
CASES = [
    pytest.param("not-an-address", "@ 기호가 없습니다", "there is no @", id="no-at"),
    pytest.param("kim@", "@ 뒤에 도메인이 없습니다", "nothing after the @", id="nothing-after"),
    pytest.param("@example.com", "@ 앞에 아무것도 없습니다", "nothing before the @",
                 id="nothing-before"),
    pytest.param("kim@lee@example.com", "@ 기호가 두 번 이상 있습니다", "more than one @",
                 id="two-at"),
    pytest.param("kim(a)@example.com", "@ 앞에 쓸 수 없는 문자가 있습니다: (, )",
                 "characters not allowed before the @: (, )", id="invalid-before"),
    pytest.param("kim@exa_mple.com", "@ 뒤에 쓸 수 없는 문자가 있습니다: _",
                 "characters not allowed after the @: _", id="invalid-after"),
    pytest.param("kim@example", "@ 뒤의 도메인에 점(.)이 없습니다",
                 "the domain after the @ has no dot", id="domain-without-dot"),
    pytest.param("k" * 250 + "@example.com", "주소가 너무 깁니다", "the address is too long",
                 id="too-long"),
    pytest.param("kim@" + "b" * 64 + ".com", "주소가 너무 깁니다", "the address is too long",
                 id="label-too-long"),
    pytest.param(".kim@example.com", "주소가 점(.)으로 시작합니다", "it starts with a dot",
                 id="leading-dot"),
    pytest.param("kim@example.com.", "주소가 점(.)으로 끝납니다", "it ends with a dot",
                 id="trailing-dot"),
    pytest.param("kim.@example.com", "@ 바로 앞이나 뒤에 점(.)이 있습니다",
                 "a dot right before or after the @", id="dot-before-at"),
    pytest.param("kim@.example.com", "@ 바로 앞이나 뒤에 점(.)이 있습니다",
                 "a dot right before or after the @", id="dot-after-at"),
    pytest.param("kim..lee@example.com", "점(.)이 두 개 연달아 있습니다", "two dots in a row",
                 id="consecutive-dots"),
    pytest.param("kim@example..com", "점(.)이 두 개 연달아 있습니다", "two dots in a row",
                 id="consecutive-dots-domain"),
    pytest.param("kim lee@example.com", "주소 안에 공백이 있습니다",
                 "there is a space in the address", id="space"),
    pytest.param("kim@exa mple.com", "주소 안에 공백이 있습니다",
                 "there is a space in the address", id="space-in-domain"),
    pytest.param("kim@exa\u00a0mple.com", "주소 안에 공백이 있습니다",
                 "there is a space in the address", id="no-break-space"),
    pytest.param("kim@-bad.example", "도메인에서 하이픈(-)의 자리가 올바르지 않습니다",
                 "a hyphen (-) in the wrong place in the domain", id="hyphen"),
    pytest.param("kim\uff20example.com", "@ 대신 비슷하게 생긴 다른 문자를 썼습니다",
                 "a look-alike character is used instead of @", id="full-width-at"),
    pytest.param('"kim"@example.com', "@ 앞부분에 따옴표를 쓸 수 없습니다",
                 "quotation marks are not allowed before the @", id="quoted"),
    pytest.param("kim@[127.0.0.1]", "도메인 자리에 IP 주소를 쓸 수 없습니다",
                 "an IP address cannot take the place of the domain", id="ip-literal"),
    pytest.param("Kim <kim@example.com>", "이름이나 꺾쇠(<>) 없이 주소만 입력하세요",
                 "enter the address alone, without a name or angle brackets (<>)",
                 id="display-name"),
    pytest.param("kim@example.invalid", "메일을 받을 수 없는 예약된 도메인입니다",
                 "a reserved domain that cannot receive mail", id="reserved-domain"),
    pytest.param("kim@123.123.123.123",
                 "도메인이 올바른 최상위 도메인(.com 등)으로 끝나지 않습니다",
                 "the domain does not end in a valid top-level domain such as .com", id="tld"),
    pytest.param("kim@exa\u200bmple.com", "주소 안에 공백이 있습니다",
                 "there is a space in the address", id="zero-width-space"),
    pytest.param("kim@xn--zz.com", "주소 형식이 올바르지 않습니다",
                 "the address is not well-formed", id="generic"),
]
# Latin words a Korean reason may hold (not email-validator's: ours).
OURS_IN_KOREAN = {"IP", "com"}


@pytest.fixture(scope="module")
def catalogs() -> Flask:
    """A bare app reading the project's catalogs: these messages need no database."""
    bare = Flask(__name__)
    Babel(bare, default_locale="ko",
          default_translation_directories=os.path.join(ROOT, "app", "translations"))
    return bare


@pytest.fixture
def within(catalogs: Flask) -> Iterator[Any]:
    """``within(lang)``: a context in which messages are made in ``lang``."""
    with catalogs.app_context():
        yield force_locale


def _refusal(address: str) -> str:
    with pytest.raises(ValueError) as refused:
        parse_recipients(address, 10)
    return str(refused.value)


def _theirs(address: str) -> str:
    try:
        validate_email(address, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as exc:
        return str(exc)
    raise AssertionError(f"email-validator takes {address!r}")


@pytest.mark.parametrize("address,korean,english", CASES)
def test_each_refusal_in_korean_has_none_of_their_english(within: Any, address: str,
                                                          korean: str, english: str) -> None:
    with within("ko"):
        message = _refusal(address)
    assert message == f"올바르지 않은 이메일 주소입니다: {address[:100]} ({korean})"
    latin = set(re.findall(r"[A-Za-z]+", message.replace(address[:100], "")))
    assert latin <= OURS_IN_KOREAN, message
    assert _theirs(address) not in message


@pytest.mark.parametrize("address,korean,english", CASES)
def test_each_refusal_in_english_has_no_hangul(within: Any, address: str, korean: str,
                                               english: str) -> None:
    with within("en"):
        message = _refusal(address)
    assert message == f"Not a valid email address: {address[:100]} ({english})"
    assert not HANGUL.search(message)
    assert _theirs(address) not in message


def test_an_unknown_reason_is_ours_not_theirs(within: Any) -> None:
    news = EmailNotValidError("Something email-validator 3 may say one day.")
    gone = EmailUndeliverableError("The domain name example.com does not exist.")
    with within("en"):
        assert recipients._reason(news) == "the address is not well-formed"
        assert recipients._reason(gone) == "the domain does not accept mail"
    with within("ko"):
        assert recipients._reason(news) == "주소 형식이 올바르지 않습니다"


@pytest.mark.parametrize("raw,korean,english", [
    ("kim@example.com\rBcc: x@example.com",
     "받는 사람 주소에 줄바꿈이나 제어 문자를 넣을 수 없습니다.",
     "A recipient address cannot contain line breaks or control characters."),
    ("", "받는 사람을 한 명 이상 입력하세요.", "Enter at least one recipient."),
    ("a@example.com, b@example.com, c@example.com", "받는 사람은 한 번에 2명까지 보낼 수 있습니다.",
     "You can send to at most 2 recipients at a time."),
    ("김@example.com",
     "@ 앞부분에 영문·숫자·기호(ASCII) 이외의 문자가 있는 주소로는 보낼 수 없습니다: "
     "김@example.com",
     "Cannot send to an address with characters other than ASCII letters, "
     "digits and symbols before the @: 김@example.com"),
    ("email,name\nkim@example.com,Kim\nlee@,Lee\n",
     "3번째 줄: 올바르지 않은 이메일 주소입니다: lee@ (@ 뒤에 도메인이 없습니다)",
     "Line 3: Not a valid email address: lee@ (nothing after the @)"),
    ("email,name\nkim@example.com,Kim\nKIM@example.com,Kim\n",
     "3번째 줄: KIM@example.com은(는) 2번째 줄에 이미 있습니다.",
     "Line 3: KIM@example.com is already on line 2."),
    ("email,name\nkim@example.com\n", "2번째 줄: 열이 1개입니다(머리줄은 2개).",
     "Line 2: Wrong number of columns: 1 (the header has 2)."),
    ("email,name\nkim@example.com,\"Kim\n",
     "2번째 줄: 따옴표(\")로 시작한 칸이 끝까지 닫히지 않았습니다.",
     "Line 2: A cell that starts with a quotation mark (\") is never closed."),
    ("email,name,name\n", "1번째 줄: 머리줄에 같은 이름의 열이 두 번 있습니다.",
     "Line 1: the header has two columns with the same name."),
    ("email,,x\n", "1번째 줄: 머리줄에 이름이 없는 열이 있습니다.",
     "Line 1: the header has a column without a name."),
    ("email,name\n", "받는 사람을 한 명 이상 입력하세요(CSV 머리줄 다음 줄부터).",
     "Enter at least one recipient (on the lines after the CSV header)."),
])
def test_the_field_and_csv_messages_in_both_languages(within: Any, raw: str, korean: str,
                                                      english: str) -> None:
    for lang, expected in (("ko", korean), ("en", english)):
        with within(lang), pytest.raises(ValueError) as refused:
            read_recipients(raw, 2)
        assert str(refused.value) == expected


def test_a_reserved_column_in_english(within: Any) -> None:
    with within("en"), pytest.raises(ValueError) as refused:
        read_recipients("email,recipient\nkim@example.com,x\n", 5)
    assert str(refused.value).startswith("Line 1: the column name 'recipient' cannot be used "
                                         "(email, recipient, sender_name, unsubscribe_url")
    assert not HANGUL.search(str(refused.value))


def test_the_short_form_in_both_languages(within: Any) -> None:
    addresses = [f"u{i}@example.com" for i in range(10)]
    with within("ko"):
        assert display(addresses) == "u0@example.com, u1@example.com, u2@example.com 외 7명"
    with within("en"):
        assert display(addresses, shown=2, total=30) == (
            "u0@example.com, u1@example.com and 28 more")
        assert display(addresses[:2]) == "u0@example.com, u1@example.com"


def test_without_an_app_the_messages_are_korean() -> None:
    assert _refusal("kim@") == "올바르지 않은 이메일 주소입니다: kim@ (@ 뒤에 도메인이 없습니다)"
    assert display(["a@x", "b@x"], shown=1) == "a@x 외 1명"


def test_the_send_form_flashes_an_english_reason(app: Flask, signed_in: FlaskClient) -> None:
    signed_in.environ_base["HTTP_ACCEPT_LANGUAGE"] = ENGLISH["Accept-Language"]
    post_send(signed_in, "kim@example.com, lee@example")
    [(category, text)] = flashes(signed_in)
    assert category == "danger"
    assert "Not a valid email address: lee@example (the domain after the @ has no dot)" in text
    assert not HANGUL.search(text)


# -- the mail path: relay, connection, message --------------------------------------------

def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_relays_refusals_in_english(within: Any) -> None:
    with within("en"):
        words = [str(PlainLoginRefused("smtp.example.com")),
                 str(RelayCertificateError("smtp.example.com:587", "self-signed certificate.")),
                 str(pytest.raises(RuntimeError, tls_context, {
                     "MAIL_USE_TLS": True, "MAIL_TLS_CA_FILE": "/nonexistent/ca.pem"}).value)]
    assert words[0].startswith("Not logging in to the SMTP server smtp.example.com over an")
    assert "(self-signed certificate). No password or mail was sent." in words[1]
    assert words[2].startswith("Cannot read MAIL_TLS_CA_FILE /nonexistent/ca.pem: ")
    assert not any(HANGUL.search(w) for w in words), words


def test_the_relays_refusals_in_korean(within: Any) -> None:
    with within("ko"):
        refused = str(RelayCertificateError("smtp.example.com:587", "self-signed certificate."))
    assert refused.startswith("SMTP 서버 smtp.example.com:587의 인증서를 확인할 수 없어 연결을 "
                              "끊었습니다(self-signed certificate). 비밀번호와 메일은")


def test_the_connections_errors_in_english(within: Any) -> None:
    config = {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": _closed_port(), "MAIL_USERNAME": None,
              "MAIL_USE_TLS": False, "MAIL_USE_SSL": False, "MAIL_TIMEOUT_SECONDS": 5,
              "MAIL_CONNECT_TIMEOUT_SECONDS": 5}
    mail = RenderedMail(subject="s", text="t", html=None)
    with within("en"):
        smtp = SmtpConnection(config)
        with pytest.raises(Exception) as unreachable:
            smtp.connect()
        with pytest.raises(Exception) as lost:
            smtp.send(build_message(mail, "a@example.com", "b@example.com", "<m@x>"),
                      "a@example.com", "b@example.com")
        with pytest.raises(ValueError) as not_ascii:
            build_message(mail, "a@example.com", "김@example.com", "<m@x>")
    assert str(unreachable.value).startswith("Cannot connect to the SMTP server: ")
    assert str(lost.value) == "There is no SMTP connection."
    assert str(not_ascii.value) == "The address is not ASCII: 김@example.com"


def test_the_render_limits_are_kept_in_korean_and_translated(within: Any) -> None:
    limits = RenderLimits(seconds=2.5, memory_mb=256, max_output=1, work_budget=1, processes=1)
    with within("en"):
        made = [_limit_message(kind, limits) for kind in (TIME, MEMORY, BUSY)]
        shown = [gettext("템플릿을 만드는 데 %(seconds)s초가 넘게 걸려 중단했습니다"
                         "(TEMPLATE_RENDER_SECONDS).", seconds=f"{limits.seconds:g}"),
                 gettext("템플릿이 메모리를 %(mb)sMiB 넘게 써서 중단했습니다"
                         "(TEMPLATE_RENDER_MEMORY_MB).", mb=limits.memory_mb),
                 gettext("템플릿을 처리할 프로세스가 모두 바쁩니다. 잠시 후 다시 시도해 주세요.")]
    # Kept in Korean, the msgids formatted (translated where shown: sandbox.messages).
    assert made[0] == "템플릿을 만드는 데 2.5초가 넘게 걸려 중단했습니다(TEMPLATE_RENDER_SECONDS)."
    assert made[1] == "템플릿이 메모리를 256MiB 넘게 써서 중단했습니다(TEMPLATE_RENDER_MEMORY_MB)."
    assert shown[0] == ("Stopped the template: it took more than 2.5 seconds to render "
                        "(TEMPLATE_RENDER_SECONDS).")
    assert not any(HANGUL.search(s) for s in shown), shown
