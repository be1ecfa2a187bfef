"""The bounce parser on samples written to the formats of Postfix, Exim, Microsoft 365 and
Gmail (RFC 3464 DSNs and Exim's own text) and an ARF complaint (RFC 5965): each with the
address, the kind and the diagnostic expected (tests/fixtures/bounces/expected.json)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.bounces.parse import parse

FIXTURES = Path(__file__).parent.parent / "fixtures" / "bounces"
EXPECTED = json.loads((FIXTURES / "expected.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_sample_gives_its_address_and_kind(name: str) -> None:
    want = EXPECTED[name]
    parsed = parse((FIXTURES / name).read_bytes())
    if want["address"] is None:  # a delay warning: no bounce, the address only noted
        assert parsed.failures == []
        assert parsed.delayed == [want["delayed"]]
    else:
        assert [(f.address, f.kind) for f in parsed.failures] == [(want["address"],
                                                                    want["kind"])]
        assert want["diagnostic"] in parsed.failures[0].diagnostic
    if want["message_id"]:
        assert want["message_id"] in parsed.message_ids
    # Every sample came back to (or names) its VERP envelope sender.
    assert any(a.startswith("bounces+1-") for a in parsed.verp)


def test_every_sample_is_listed() -> None:
    assert sorted(p.name for p in FIXTURES.glob("*.eml")) == sorted(EXPECTED)


def test_the_envelope_recipients_come_first_among_verp_candidates() -> None:
    raw = (FIXTURES / "postfix_hard.eml").read_bytes()
    parsed = parse(raw, ["bounces+9-9-zzzzzzzzzzzzzzzz@mail.example.com"])
    assert parsed.verp[0] == "bounces+9-9-zzzzzzzzzzzzzzzz@mail.example.com"


def test_a_message_that_is_no_bounce_finds_nothing() -> None:
    raw = (b"From: someone@example.org\r\nTo: bounces+1-2-abcdefghijklmnop@mail.example.com"
           b"\r\nSubject: Out of office\r\n\r\nI am away until Monday.\r\n")
    parsed = parse(raw)
    assert parsed.failures == [] and parsed.detector == "none"
    assert "no failed address" in parsed.note()


def test_a_malformed_report_names_no_address_that_is_not_one() -> None:
    raw = (b"To: bounces+1-2-abcdefghijklmnop@mail.example.com\r\nMIME-Version: 1.0\r\n"
           b"Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n"
           b"--b\r\nContent-Type: message/delivery-status\r\n\r\n"
           b"Final-Recipient: rfc822; =?bad?=\r\nAction: failed\r\nStatus: 5.1.1\r\n--b--\r\n")
    parsed = parse(raw)
    assert parsed.failures == [] and "no failed address" in parsed.note()
