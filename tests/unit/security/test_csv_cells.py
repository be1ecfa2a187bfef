"""Issue 17, point 6: CSV recipients parsed as the csv module means them to be (any line
ends, strict quoting). A cell over csv's own limit, a stray quote, and control characters in
a cell each answer a message naming the line: never a 500, never a Task, never a row lost
or swallowed. CR-only line ends (old spreadsheets) just work."""

from __future__ import annotations

import io
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from redis import Redis

from app.mail.recipients import MAX_FIELD, parse_csv, read_recipients
from tests.support.flows import csrf_token, delivery_fields, flashes, post_send, tasks

HEAD = "email,name\n"
OVER_CSV_LIMIT = "x" * 131_073  # csv's field limit is 131,072 characters
UNCLOSED = "따옴표(\")로 시작한 칸이 끝까지 닫히지 않았습니다"
CONTROL = "칸 안에 줄바꿈이나 제어 문자(탭 제외)를 넣을 수 없습니다"

# (the recipient field, the line and message of the refusal)
BAD = [
    pytest.param(HEAD + "kim@example.com," + OVER_CSV_LIMIT + "\n",
                 f"2번째 줄: 한 칸은 {MAX_FIELD}자를 넘을 수 없습니다", id="131073-cell"),
    pytest.param(HEAD + 'kim@example.com,"' + OVER_CSV_LIMIT + '"\n',
                 f"2번째 줄: 한 칸은 {MAX_FIELD}자를 넘을 수 없습니다", id="131073-quoted"),
    pytest.param(HEAD + 'kim@example.com,"Kim\nlee@example.com,Lee\npark@example.com,Park\n',
                 f"2번째 줄: {UNCLOSED}", id="stray-quote-swallows-the-rest"),
    pytest.param(HEAD + 'kim@example.com,Kim\nlee@example.com,"Lee\npark@example.com,Park"\n',
                 f"3번째 줄: {CONTROL}", id="stray-quote-closed-later"),
    pytest.param(HEAD + 'kim@example.com,"Kim"s\n',
                 "2번째 줄: 닫는 따옴표(\") 바로 뒤에는", id="text-after-a-closing-quote"),
    pytest.param(HEAD + "kim@example.com,Ki\x00m\n", f"2번째 줄: {CONTROL}", id="nul"),
    pytest.param(HEAD + "kim@example.com,\x1b[2J\x1b[31mKim\n", f"2번째 줄: {CONTROL}",
                 id="esc"),
    pytest.param(HEAD + "kim@example.com,Kim\nlee@example.com,Le\x7fe\n", f"3번째 줄: {CONTROL}",
                 id="del"),
    pytest.param(HEAD + "kim@example.com,\x9b31mKim\n", f"2번째 줄: {CONTROL}", id="c1-csi"),
    pytest.param("email,na\x00me\nkim@example.com,Kim\n", f"1번째 줄: {CONTROL}",
                 id="header"),
    pytest.param("email,name\rkim@example.com,Kim\rlee@,Lee\r",
                 "3번째 줄: 올바르지 않은 이메일 주소입니다", id="cr-only-lines-numbered"),
]


# -- the parser --------------------------------------------------------------------------------

@pytest.mark.parametrize("raw,message", BAD)
def test_each_payload_is_a_line_numbered_message(raw: str, message: str) -> None:
    with pytest.raises(ValueError) as refused:
        read_recipients(raw, 100)
    assert str(refused.value).startswith(message[:message.index(":")])
    assert message in str(refused.value)


@pytest.mark.parametrize("ends", ["\r", "\n", "\r\n"])
def test_any_line_ends_read_the_same(ends: str) -> None:
    raw = ends.join(["email,name", "kim@example.com,Kim", "", 'lee@example.com,"Lee, J"', ""])
    parsed = read_recipients(raw, 100)
    assert parsed.addresses == ["kim@example.com", "lee@example.com"]
    assert parsed.fields == [{"name": "Kim"}, {"name": "Lee, J"}]


def test_tabs_and_quotes_inside_a_cell_are_kept() -> None:
    parsed = parse_csv(HEAD + 'kim@example.com,"Kim\tJ ""Jay"""\nlee@example.com,O"Neil\n',
                       100)
    assert parsed.fields == [{"name": 'Kim\tJ "Jay"'}, {"name": 'O"Neil'}]
    tabbed = read_recipients("email\tname\rkim@example.com\tKim\r", 100)
    assert tabbed.fields == [{"name": "Kim"}]


# -- the send form (and its preview) ----------------------------------------------------------

def queued_nothing(app: Flask, redis_conn: Redis) -> bool:
    return tasks(app) == [] and redis_conn.keys("rq:job:*") == []


@pytest.mark.parametrize("raw,message", BAD)
def test_the_form_answers_each_payload_and_queues_nothing(
        app: Flask, signed_in: FlaskClient, redis_conn: Redis, raw: str, message: str) -> None:
    response = post_send(signed_in, raw)
    assert response.status_code == 302
    [(category, text)] = flashes(signed_in)
    assert category == "danger" and message in text, text
    token = csrf_token(signed_in, "/send_mail")
    preview = signed_in.post("/send_mail/preview", data={
        "recipient": raw, "template_name": "welcome", "csrf_token": token})
    assert preview.status_code == 400 and message in preview.get_json()["error"]
    assert queued_nothing(app, redis_conn)


@pytest.mark.parametrize("raw,message", [BAD[0], BAD[2], BAD[5]])
def test_an_uploaded_file_is_read_the_same(app: Flask, signed_in: FlaskClient,
                                           redis_conn: Redis, raw: str, message: str) -> None:
    response = upload(signed_in, raw)
    assert response.status_code == 302
    [(category, text)] = flashes(signed_in)
    assert category == "danger" and message in text, text
    assert queued_nothing(app, redis_conn)


def upload(client: FlaskClient, raw: str) -> Any:
    """Send the form with ``raw`` as an uploaded ``.csv`` file."""
    return client.post("/send_mail", data={
        "recipient": "", "recipient_file": (io.BytesIO(raw.encode()), "list.csv"),
        "template_name": "welcome", "timezone": "Asia/Seoul",
        "csrf_token": csrf_token(client, "/send_mail")}, content_type="multipart/form-data")


def test_a_cr_only_file_sends_to_every_row(app: Flask, signed_in: FlaskClient) -> None:
    response = upload(signed_in, "email,name\rkim@example.com,Kim\rlee@example.com,Lee\r")
    assert response.status_code == 302
    assert flashes(signed_in)[0][0] == "success"
    [row] = tasks(app)
    assert delivery_fields(app, row.id) == {"kim@example.com": {"name": "Kim"},
                                            "lee@example.com": {"name": "Lee"}}
