"""The SMTP bounce receiver on loopback with a real Redis: it is never a relay (a
recipient that is not a VERP address of ours, or whose token is forged, is refused at
RCPT), takes a DSN for a valid token and hands it to a job, refuses a message over its
size cap and connections over its cap."""

from __future__ import annotations

import smtplib
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from redis import Redis

from app.bounces import receiver
from app.bounces.verp import envelope_sender
from app.queue import HANDLE_BOUNCE, fetch_job
from tests.support import free_port
from tests.support.bounces import postfix_dsn


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    app_config.update(MAIL_BOUNCE_ADDRESS="bounces@bounce.example.com",
                      BOUNCE_SMTP_MAX_BYTES=64 * 1024, BOUNCE_SMTP_MAX_CONNECTIONS=2)
    return app_config


@pytest.fixture(params=["sqlite"])  # the receiver touches Redis only: one database will do
def database_url(request: pytest.FixtureRequest, tmp_path: Any) -> str:
    return f"sqlite:///{tmp_path / 'test.db'}"


@pytest.fixture
def listening(app: Flask) -> Iterator[int]:
    port = free_port()
    controller = receiver.start(app, port, "127.0.0.1")
    yield port
    controller.stop()


def rcpt(port: int, address: str) -> int:
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
        smtp.ehlo()
        smtp.mail("")
        return smtp.rcpt(address)[0]


def queued(redis_conn: Redis) -> list[str]:
    return [job_id.decode() for job_id in redis_conn.lrange("rq:queue:default", 0, -1)]


def test_it_is_never_a_relay(app: Flask, listening: int, redis_conn: Redis) -> None:
    verp = envelope_sender(app.config, 5, 9)
    token = verp.split("+", 1)[1].split("@")[0]
    forged = verp.replace(token, token[:-4] + "aaaa")
    assert rcpt(listening, "someone@example.org") == 550  # not ours at all
    assert rcpt(listening, "bounces@bounce.example.com") == 550  # no token
    assert rcpt(listening, f"bounces+{token}@elsewhere.example.net") == 550  # other domain
    assert rcpt(listening, forged) == 550
    assert rcpt(listening, verp) == 250
    assert queued(redis_conn) == []


def test_a_dsn_to_a_valid_token_becomes_a_job(app: Flask, listening: int,
                                              redis_conn: Redis) -> None:
    verp = envelope_sender(app.config, 5, 9)
    with smtplib.SMTP("127.0.0.1", listening, timeout=10) as smtp:
        refused = smtp.sendmail("", [verp], postfix_dsn(verp, "gone@example.org"))
    assert refused == {}
    [job_id] = queued(redis_conn)
    job = fetch_job(job_id, redis_conn)
    assert job.func_name == HANDLE_BOUNCE and list(job.args[1:]) == ["smtp", [verp]]


def test_sizes_and_connections_are_capped(app: Flask, listening: int,
                                          redis_conn: Redis) -> None:
    verp = envelope_sender(app.config, 5, 9)
    big = postfix_dsn(verp, "gone@example.org") + (b"x" * 998 + b"\r\n") * 72
    with smtplib.SMTP("127.0.0.1", listening, timeout=10) as smtp:
        with pytest.raises(smtplib.SMTPSenderRefused) as declared:  # SIZE= said up front
            smtp.sendmail("", [verp], big)
        assert declared.value.smtp_code == 552
        smtp.rset()
        smtp.mail("")  # no SIZE: the data itself is cut off at the cap
        assert smtp.rcpt(verp)[0] == 250
        assert smtp.data(big)[0] == 552
    assert queued(redis_conn) == []
    held = [smtplib.SMTP("127.0.0.1", listening, timeout=10) for _ in range(2)]
    try:
        with socket.create_connection(("127.0.0.1", listening), timeout=10) as third:
            assert third.recv(100).startswith(b"421")
    finally:
        for smtp in held:
            smtp.close()
