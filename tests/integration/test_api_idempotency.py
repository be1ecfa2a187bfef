"""``Idempotency-Key`` over real HTTP (gunicorn with two processes of threads): twenty
identical requests racing make one task and every answer names it; a retry after the
first request's connection was cut, while the server still works on it, gets the same
task — never a second send."""

from __future__ import annotations

import json
import re
import socket
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from flask import Flask
from sqlalchemy import create_engine, text

from app.config import database_url as normalize
from app.extensions import db
from app.models import IdempotencyKey
from tests.support import wait_until
from tests.support.api import http_json
from tests.support.flows import account, tasks
from tests.support.live import live_app  # noqa: F401 (the fixture)

NEW_TOKEN = re.compile(r'id="new-token">([^<]+)<')
BODY = {"template": "welcome", "recipients": [{"email": f"r{i}@example.com"}
                                              for i in range(5)]}


def _token(live: Any) -> str:
    browser = live.browser()
    browser.login("alice")
    answer = browser.post("/settings/tokens", {"name": "retries"}, form_page="/settings/tokens")
    return NEW_TOKEN.search(answer.text).group(1)


def _post_and_cut(port: int, secret: str, key: str) -> None:
    """Send the whole request, then close the connection without reading the answer."""
    body = json.dumps(BODY).encode()
    head = (f"POST /api/v1/sends HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Authorization: Bearer {secret}\r\nIdempotency-Key: {key}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            "Connection: close\r\n\r\n").encode()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head + body)


def _key_taken(app: Flask, key: str) -> bool:
    with app.app_context():
        return db.session.scalar(db.select(IdempotencyKey.id).filter_by(key=key)) is not None


def _now(app: Flask) -> Any:
    with app.app_context():
        return db.session.scalar(text("SELECT clock_timestamp()"))


def _retry_reads_the_key(app: Flask, since: Any) -> bool:
    """A server connection has read the key table since ``since`` (PostgreSQL)."""
    with app.app_context():
        return bool(db.session.scalar(text(
            "SELECT count(*) FROM pg_stat_activity WHERE query_start > :since "
            "AND query ILIKE '%FROM idempotency_keys%' AND pid <> pg_backend_pid()"),
            {"since": since}))


def test_racing_and_retried_requests_make_one_task(app: Flask, live_app: Any  # noqa: F811
                                                   ) -> None:
    account(app, "alice")
    live = live_app(workers=2)
    secret = _token(live)
    url = f"{live.url}/api/v1/sends"

    def post(_: int) -> tuple[int, dict[str, Any], Any]:
        return http_json("POST", url, secret, BODY, {"Idempotency-Key": "race-1"})

    with ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(post, range(20)))
    assert {status for status, _, _ in answers} == {201}, answers
    assert len({body["id"] for _, body, _ in answers}) == 1
    assert sorted(h["Idempotent-Replayed"] for _, _, h in answers).count("false") == 1
    assert len(tasks(app)) == 1

    # The user's quota lock held by this test: the first request is under way and stays so
    # while its connection is cut and the retry comes. PostgreSQL: its key row is in, it
    # waits for the lock, and the retry is seen reading that key before the lock goes.
    # SQLite: both wait for the one write lock, and whichever gets the key first makes the
    # send; the other answers with it.
    engine = create_engine(normalize(app.config["SQLALCHEMY_DATABASE_URI"]))
    holder = engine.connect()
    holder.execute(text("UPDATE users SET username = username WHERE username = 'alice'"))
    _post_and_cut(live.port, secret, "cut-1")
    postgres = engine.dialect.name == "postgresql"
    if postgres:
        wait_until(lambda: _key_taken(app, "cut-1"), 20, "the first request's key")
        since = _now(app)
    retried: list[Any] = []
    retry = threading.Thread(target=lambda: retried.append(
        http_json("POST", url, secret, BODY, {"Idempotency-Key": "cut-1"})))
    retry.start()
    if postgres:  # the retry is in, reading the first request's unfinished key
        wait_until(lambda: _retry_reads_the_key(app, since), 20, "the retry waiting")
    holder.commit()  # the first request goes on and finishes; the retry gets its answer
    holder.close()
    engine.dispose()
    retry.join(40)
    [(status, body, _)] = retried
    assert status == 201, body
    made = tasks(app)
    assert len(made) == 2 and body["id"] == made[-1].id
