"""Issue 9, point 12: the form refuses what the SMTP path cannot send (a non-ASCII local
part) with a clear Korean message and queues nothing; internationalized domains go in
their IDNA ASCII form."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from redis import Redis

from app.mail.recipients import parse_recipients
from tests.support.flows import flashes, post_send, tasks

REFUSAL = "@ 앞부분에 영문·숫자·기호(ASCII) 이외의 문자가 있는 주소로는 보낼 수 없습니다: "


@pytest.mark.parametrize("address", [
    "üser2@example.com", "홍길동@example.com", "josé@example.com", '"ü"@example.com',
    "ｕser@example.com",  # a full-width letter
])
def test_non_ascii_local_parts_are_refused(address: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_recipients(f"a@example.com, {address}, b@example.com", 10)
    assert str(info.value) == REFUSAL + address


@pytest.mark.parametrize("raw,expected", [
    ("user@例え.jp", ["user@xn--r8jz45g.jp"]),
    ("user@bücher.de, USER@xn--bcher-kva.de", ["user@xn--bcher-kva.de"]),  # one mailbox
    ("kim@한국.kr", ["kim@xn--3e0b707e.kr"]),
    ("plain@example.com", ["plain@example.com"]),
])
def test_internationalized_domains_become_ascii(raw: str, expected: list[str]) -> None:
    assert parse_recipients(raw, 10) == expected


def test_every_accepted_address_is_ascii() -> None:
    raw = "a@例え.jp, b@bücher.de, c@EXAMPLE.com, d.e+f@sub.example.org"
    assert all(address.isascii() for address in parse_recipients(raw, 10))


def test_the_form_refuses_and_queues_nothing(app: Flask, signed_in: FlaskClient,
                                             redis_conn: Redis) -> None:
    response = post_send(signed_in, "first@example.com, üser2@example.com, last@example.com")
    assert response.status_code == 302
    assert flashes(signed_in) == [("danger", REFUSAL + "üser2@example.com")]
    assert tasks(app) == []
    assert redis_conn.keys("rq:*") == []
    assert signed_in.get("/send_mail").status_code == 200


def test_the_form_sends_an_idn_domain_in_ascii(app: Flask, signed_in: FlaskClient,
                                               redis_conn: Redis) -> None:
    post_send(signed_in, "user@例え.jp")
    [(category, message)] = flashes(signed_in)
    assert category == "success" and message.startswith("[user@xn--r8jz45g.jp]에게")
    [row] = tasks(app)
    assert row.recipient_count == 1 and redis_conn.exists(f"rq:job:{row.id}")


def test_accepted_addresses_go_through_smtp_without_smtputf8(smtp_sink: Any) -> None:
    """What the form accepts, a plain (non-SMTPUTF8) SMTP session can deliver."""
    recipients = parse_recipients("user@例え.jp, kim@한국.kr, plain@example.com", 10)
    with smtplib.SMTP("127.0.0.1", smtp_sink.port, timeout=10) as smtp:
        for recipient in recipients:
            message = EmailMessage()
            message["From"] = "mailroom@localhost"
            message["To"] = recipient
            message["Subject"] = "안녕하세요"
            message.set_content("본문")
            smtp.send_message(message, to_addrs=[recipient])  # would raise if it needed UTF8
    assert smtp_sink.handler.recipients() == recipients
