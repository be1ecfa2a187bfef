"""DKIM: a message as the sender builds it, signed, verifies against the DNS record we tell
the operator to publish (looked up by a function, never on the network)."""

from __future__ import annotations

from email.message import Message
from pathlib import Path
from typing import Any

import dkim
import pytest
from dkim import dknewkey
from flask import Flask

from app.mail.dkim import DkimConfigError, DkimSigner, dns_record, txt_value
from app.mail.sender import WIRE_POLICY, RenderedMail, build_message
from tests.support.dkim_keys import DOMAIN, SELECTOR, published


def message(**headers: str) -> Message:
    mail = RenderedMail(subject="[공지] 안내", text="안녕하세요.\n.\n줄이 점 하나.",
                               html="<p>안녕하세요.</p>")
    built = build_message(mail, "Mailroom <mailroom@example.com>", "kim@example.org",
                          "<mailroom.1.abc@example.com>")
    for name, value in headers.items():
        built[name.replace("_", "-")] = value
    return built


def wire(built: Message) -> bytes:
    return built.as_bytes(policy=WIRE_POLICY)


def test_signed_message_verifies_with_the_published_key(key_path: Path) -> None:
    key = key_path.read_bytes()
    signer = DkimSigner(SELECTOR, DOMAIN, key)
    built = message(List_Unsubscribe="<https://mail.example.com/unsubscribe/t>",
                    List_Unsubscribe_Post="List-Unsubscribe=One-Click")
    signed = signer.sign(wire(built))
    assert signed.startswith(b"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed;")
    assert signed.endswith(wire(built))
    signature = signed.split(b"\r\n\r\n", 1)[0].replace(b"\r\n ", b" ")
    for name in (b"from", b"to", b"subject", b"date", b"message-id", b"list-unsubscribe",
                 b"list-unsubscribe-post", b"mime-version", b"content-type"):
        assert name in signature.split(b"h=", 1)[1].split(b";", 1)[0]
    assert dkim.verify(signed, dnsfunc=published(key))


def test_a_changed_message_or_an_added_unsubscribe_header_fails(key_path: Path) -> None:
    key = key_path.read_bytes()
    signed = DkimSigner(SELECTOR, DOMAIN, key).sign(wire(message()))
    lookup = published(key)
    assert dkim.verify(signed, dnsfunc=lookup)
    assert not dkim.verify(signed + b"one more line\r\n", dnsfunc=lookup)
    assert not dkim.verify(signed.replace(b"mailroom.1.abc", b"mailroom.2.abc"), dnsfunc=lookup)
    added = signed.replace(b"\r\n\r\n", b"\r\nList-Unsubscribe: <https://evil.example>\r\n\r\n", 1)
    assert not dkim.verify(added, dnsfunc=lookup)  # signed as absent: nobody may add it


def h_tag(signed: bytes) -> list[bytes]:
    """The header names of the signature's ``h=`` tag, in order."""
    signature = signed.split(b"\r\n\r\n", 1)[0].replace(b"\r\n ", b" ").replace(b"\r\n\t", b" ")
    value = signature.split(b"h=", 1)[1].split(b";", 1)[0]
    return [name.strip() for name in value.split(b":")]


@pytest.mark.parametrize("added", [
    b"Subject: =?utf-8?b?7KeA6riIIO2ZleyduCDtlZjshLjsmpQ=?=",
    b"List-Unsubscribe: <https://evil.example/unsubscribe>",
    b"From: Support <help@evil.example>",
])
def test_a_header_added_above_a_signed_one_fails(key_path: Path, added: bytes) -> None:
    key = key_path.read_bytes()
    lookup = published(key)
    built = message(List_Unsubscribe="<https://mail.example.com/unsubscribe/t>",
                    List_Unsubscribe_Post="List-Unsubscribe=One-Click")
    signed = DkimSigner(SELECTOR, DOMAIN, key).sign(wire(built))
    names = h_tag(signed)
    for name in (b"from", b"subject", b"list-unsubscribe", b"list-unsubscribe-post"):
        assert names.count(name) == 2  # over-signed: the second covers the empty place above
    assert dkim.verify(signed, dnsfunc=lookup)  # untouched, it verifies
    # Where a forwarder (or a reader's client) would show it: above the DKIM-Signature, or
    # just above the signed field itself.
    assert not dkim.verify(added + b"\r\n" + signed, dnsfunc=lookup)
    name = added.split(b":", 1)[0]
    head, _, body = signed.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    at = next(i for i, line in enumerate(lines) if line.lower().startswith(name.lower() + b":"))
    above = b"\r\n".join([*lines[:at], added, *lines[at:]]) + b"\r\n\r\n" + body
    assert not dkim.verify(above, dnsfunc=lookup)


def test_dns_record_matches_openssl_and_splits_long_strings(key_path: Path,
                                                            tmp_path: Path) -> None:
    key = key_path.read_bytes()
    dknewkey.ExtractRSADnsPublicKey(str(key_path), str(tmp_path / "dns"), verbose=False)
    theirs = (tmp_path / "dns").read_text().split("p=", 1)[1]
    assert txt_value(key) == f"v=DKIM1; k=rsa; p={theirs}"
    record = dns_record(key.decode(), SELECTOR, DOMAIN)
    assert record.startswith(f'{SELECTOR}._domainkey.{DOMAIN}. IN TXT "v=DKIM1; k=rsa; p=')
    strings = record.split(" IN TXT ", 1)[1].split('" "')
    assert len(strings) == 2 and all(len(s.strip('"')) <= 255 for s in strings)


def test_from_config(key_path: Path, tmp_path: Path) -> None:
    assert DkimSigner.from_config({"MAIL_DKIM_SELECTOR": "", "MAIL_DKIM_DOMAIN": ""}) is None
    settings = {"MAIL_DKIM_SELECTOR": SELECTOR, "MAIL_DKIM_DOMAIN": DOMAIN,
                "MAIL_DKIM_PRIVATE_KEY_PATH": str(key_path)}
    signer = DkimSigner.from_config(settings)
    assert signer is not None and (signer.selector, signer.domain) == (SELECTOR, DOMAIN)
    with pytest.raises(DkimConfigError, match="MAIL_DKIM_DOMAIN"):
        DkimSigner.from_config({**settings, "MAIL_DKIM_DOMAIN": ""})
    with pytest.raises(DkimConfigError, match="cannot read"):
        DkimSigner.from_config({**settings, "MAIL_DKIM_PRIVATE_KEY_PATH": str(tmp_path / "no")})
    (tmp_path / "bad.key").write_text("-----BEGIN PRIVATE KEY-----\nbm9wZQ==\n-----END")
    with pytest.raises(DkimConfigError, match="not a PEM RSA private key"):
        DkimSigner.from_config({**settings, "MAIL_DKIM_PRIVATE_KEY_PATH":
                                str(tmp_path / "bad.key")})


def test_cli_prints_the_record(key_path: Path) -> None:
    app = Flask(__name__)
    app.config.update(MAIL_DKIM_SELECTOR=SELECTOR, MAIL_DKIM_DOMAIN=DOMAIN,
                      MAIL_DKIM_PRIVATE_KEY_PATH=str(key_path))
    from app import i18n
    from app.cli import register

    i18n.init_app(app)  # the commands speak the operator's language (app/cli_language.py)
    register(app)
    result: Any = app.test_cli_runner().invoke(args=["dkim", "dns"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == dns_record(key_path.read_bytes(), SELECTOR, DOMAIN)
    app.config["MAIL_DKIM_SELECTOR"] = app.config["MAIL_DKIM_DOMAIN"] = ""
    app.config["MAIL_DKIM_PRIVATE_KEY_PATH"] = ""
    off = app.test_cli_runner().invoke(args=["dkim", "dns"], env={"MAILROOM_LANGUAGE": "en"})
    assert off.exit_code != 0 and "DKIM is off" in off.output
