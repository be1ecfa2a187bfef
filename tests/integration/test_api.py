"""The API over real HTTP (gunicorn, a worker, the SMTP sink): a token made on the settings
page sends mail that arrives; no token or a revoked one is 401; another user's send is 404;
the quota and the rate limit answer 429 problems, a bad body 422; a webhook target on
loopback is refused on the page without WEBHOOK_ALLOW_PRIVATE, and a delivery that reaches
loopback anyway (a name that resolves there) is stopped at the socket."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask

from app.extensions import db
from app.models import Webhook
from tests.support import wait_until
from tests.support.api import delivery_in, http_json
from tests.support.flows import account, wait_for_task
from tests.support.live import Browser, live_app  # noqa: F401 (the fixture)
from tests.support.receiver import receiver

NEW_TOKEN = re.compile(r'id="new-token">([^<]+)<')
PROBLEM = "urn:mailroom:problem:"


@pytest.fixture
def app_config(app_config: dict[str, Any], smtp_sink: Any) -> dict[str, Any]:
    app_config.update(QUOTA_RECIPIENTS_PER_DAY=3, RATELIMIT_SEND="4 per hour",
                      WEBHOOK_RETRY_INTERVALS="")
    return app_config


def _token(browser: Browser, name: str = "script") -> tuple[str, int]:
    answer = browser.post("/settings/tokens", {"name": name}, form_page="/settings/tokens")
    assert answer.status == 200, answer.text[:300]
    secret = NEW_TOKEN.search(answer.text).group(1)
    token_id = re.findall(r'id="token-(\d+)"', answer.text)[0]  # newest first
    return secret, int(token_id)


def _delivered(app: Flask, task_id: int) -> Any:
    return wait_for_task(app, task_id, lambda t: t.status == "finished", 30, "the send")


def test_token_send_over_http(app: Flask, live_app: Any, start_worker: Any,  # noqa: F811
                              smtp_sink: Any) -> None:
    """One live app and worker for every must-show of the tier (each start costs seconds)."""
    account(app, "alice")
    account(app, "bob")
    live = live_app(workers=1)
    start_worker()
    alice = live.browser()
    alice.login("alice")
    secret, token_id = _token(alice)
    sends = f"{live.url}/api/v1/sends"
    with receiver() as hooked:
        _webhook_on_loopback(app, alice, hooked.url)
        task = _send_and_deliver(app, sends, secret, smtp_sink)
        # the hook that got in anyway is stopped at the socket: loopback is not public
        row = wait_until(lambda: delivery_in(app, "failed"), 30, "the refused delivery")
        assert "127.0.0.1" in (row.last_response or "") and hooked.hits == []

    # over the daily quota (3): 429; a time without an offset: 422; then the rate limit
    status, problem, _ = http_json("POST", sends, secret, {"template": "welcome", "recipients": [
        {"email": f"r{i}@example.com"} for i in range(3)]})
    assert (status, problem["type"]) == (429, PROBLEM + "quota-exceeded"), problem
    status, problem, _ = http_json("POST", sends, secret, {
        "template": "welcome", "recipients": [{"email": "x@example.com"}],
        "send_at": "2030-01-01T09:00:00"})
    assert (status, problem["type"], problem["field"]) == (422, PROBLEM + "invalid-request",
                                                           "send_at")
    http_json("POST", sends, secret, {})  # the 4th send of the hour (a 422)
    status, problem, headers = http_json("POST", sends, secret, {})
    assert (status, problem["type"]) == (429, PROBLEM + "rate-limited"), problem
    assert headers["Content-Type"] == "application/problem+json" and headers["Retry-After"]

    # bob's token does not see alice's send
    bob = live.browser()
    bob.login("bob")
    bob_secret, _ = _token(bob, "bob")
    status, problem, _ = http_json("GET", task["links"]["self"], bob_secret)
    assert (status, problem["type"]) == (404, PROBLEM + "not-found")
    status, _, _ = http_json("POST", f"{sends}/{task['id']}/cancel", bob_secret)
    assert status == 404

    # no token, then a revoked one: 401
    status, problem, headers = http_json("GET", sends)
    assert (status, problem["type"]) == (401, PROBLEM + "unauthorized")
    assert headers["WWW-Authenticate"].startswith("Bearer")
    assert alice.post(f"/settings/tokens/{token_id}/revoke", {},
                      form_page="/settings/tokens").status == 200
    status, problem, _ = http_json("GET", sends, secret)
    assert (status, problem["type"]) == (401, PROBLEM + "unauthorized")


def _webhook_on_loopback(app: Flask, browser: Browser, url: str) -> None:
    """The page refuses a loopback URL without WEBHOOK_ALLOW_PRIVATE; one is put in the
    database anyway, as a public name that later resolves to loopback would be."""
    answer = browser.post("/settings/webhooks", {"url": url, "events": "send.finished"},
                          form_page="/settings/webhooks")
    assert answer.status == 422 and "내부망" in answer.text
    with app.app_context():
        db.session.add(Webhook(username="alice", url=url, events=["send.finished"],
                               secret="whsec_test"))
        db.session.commit()


def _send_and_deliver(app: Flask, sends: str, secret: str, smtp_sink: Any) -> dict[str, Any]:
    """A send by the token, delivered to the sink and read back finished."""
    status, task, _ = http_json("POST", sends, secret, {
        "template": "welcome", "recipients": [{"email": "reader@example.com"}]})
    assert status == 201 and task["status"] in ("queued", "running", "finished"), task
    wait_until(lambda: smtp_sink.handler.messages or None, 30, "the mail at the sink")
    assert smtp_sink.handler.messages[0].rcpt_tos == ["reader@example.com"]
    assert _delivered(app, task["id"]).delivered_count == 1
    status, shown, _ = http_json("GET", task["links"]["self"], secret)
    assert status == 200 and shown["counts"]["delivered"] == 1
    return task
