"""Webhooks out, without a network: the signature a receiver checks, the targets refused
(loopback, private ranges, cloud metadata) unless WEBHOOK_ALLOW_PRIVATE, the settings page,
and one delivery per event however often a finished task is published."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from redis import Redis

from app.extensions import db
from app.models import Task, Webhook, WebhookDelivery
from app.tasks.progress import publish_task
from app.webhooks_out.signing import signature, verify
from app.webhooks_out.targets import TargetRefused, check_url, public
from tests.support.flows import csrf_token


def test_signature_verifies_and_catches_changes() -> None:
    body = b'{"type":"send.finished"}'
    now = int(time.time())
    header = signature("whsec_x", now, body)
    assert re.fullmatch(r"t=\d+,v1=[0-9a-f]{64}", header)
    assert verify("whsec_x", header, body, now)
    assert not verify("whsec_y", header, body, now)
    assert not verify("whsec_x", header, body + b" ", now)
    assert not verify("whsec_x", header, body, now + 3600)  # replayed later


@pytest.mark.parametrize("address", ["127.0.0.1", "10.1.2.3", "192.168.0.1", "172.16.5.5",
                                     "169.254.169.254", "::1", "fc00::1", "0.0.0.0",
                                     "::ffff:127.0.0.1", "224.0.0.1"])
def test_private_addresses_are_not_public(address: str) -> None:
    assert not public(address)


def test_public_address() -> None:
    assert public("93.184.216.34") and public("2606:2800:220:1:248:1893:25c8:1946")


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/hook", "http://localhost/hook",
                                 "http://169.254.169.254/latest/meta-data",
                                 "http://[::1]/x", "http://10.0.0.8/x"])
def test_private_targets_refused_unless_allowed(url: str) -> None:
    with pytest.raises(TargetRefused):
        check_url(url, allow_private=False)
    assert check_url(url, allow_private=True) == url


@pytest.mark.parametrize("url", ["ftp://example.com/x", "javascript:alert(1)", "example.com",
                                 "http://user:pw@example.com/"])
def test_only_plain_http_urls(url: str) -> None:
    with pytest.raises(TargetRefused):
        check_url(url, allow_private=True)


def _add_hook(client: FlaskClient, url: str, events: tuple[str, ...] = ("send.finished",)
              ) -> Any:
    return client.post("/settings/webhooks", data={
        "url": url, "events": list(events),
        "csrf_token": csrf_token(client, "/settings/webhooks")})


def test_settings_refuse_loopback_without_the_setting(app: Flask, signed_in: FlaskClient
                                                      ) -> None:
    response = _add_hook(signed_in, "http://127.0.0.1:9/hook")
    assert response.status_code == 422 and "내부망" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Webhook)) == 0


def test_settings_show_the_secret_once(app: Flask, signed_in: FlaskClient) -> None:
    app.config["WEBHOOK_ALLOW_PRIVATE"] = True
    page = _add_hook(signed_in, "http://127.0.0.1:9/hook").get_data(as_text=True)
    secret = re.search(r'id="new-secret">([^<]+)<', page).group(1)
    assert secret.startswith("whsec_")
    again = signed_in.get("/settings/webhooks").get_data(as_text=True)
    assert secret not in again and "http://127.0.0.1:9/hook" in again


def _finished(app: Flask, failed: bool = False) -> int:
    with app.app_context():
        task = Task(name="send_mail", description="d", username="alice", status="finished",
                    failed=failed, recipient_count=1, delivered_count=1,
                    template={"name": "welcome"})
        db.session.add(task)
        db.session.commit()
        return task.id


def test_a_finished_send_is_delivered_once(app: Flask, signed_in: FlaskClient,
                                           redis_conn: Redis) -> None:
    app.config["WEBHOOK_ALLOW_PRIVATE"] = True
    _add_hook(signed_in, "http://127.0.0.1:9/hook", ("send.finished", "send.failed"))
    task_id = _finished(app)
    with app.app_context():
        for _ in range(3):  # the reconciler and the run may both publish an ended task
            publish_task(db.session.get(Task, task_id))
        rows = list(db.session.scalars(db.select(WebhookDelivery)))
    assert [(r.event, r.payload["data"]["task"]["id"]) for r in rows] == [
        ("send.finished", task_id)]
    assert redis_conn.exists(f"rq:job:webhook-{rows[0].id}")


def test_events_a_hook_did_not_ask_for_are_not_sent(app: Flask, signed_in: FlaskClient) -> None:
    app.config["WEBHOOK_ALLOW_PRIVATE"] = True
    _add_hook(signed_in, "http://127.0.0.1:9/hook", ("send.failed",))
    task_id = _finished(app)
    with app.app_context():
        publish_task(db.session.get(Task, task_id))
        assert db.session.scalar(db.select(db.func.count()).select_from(WebhookDelivery)) == 0


def test_the_readme_check_verifies_our_signature() -> None:
    """The ten lines of Python the README gives receivers agree with the signer."""
    from pathlib import Path

    from tests.support import ROOT

    readme = (Path(ROOT) / "README.md").read_text(encoding="utf-8")
    code = re.search(r"```python\n(import hashlib, hmac, time\n.*?)```", readme, re.S).group(1)
    assert len(code.strip().splitlines()) <= 10
    scope: dict[str, Any] = {}
    exec(compile(code, "README.md", "exec"), scope)  # noqa: S102 (our own README)
    body = b'{"type":"send.finished"}'
    header = signature("whsec_readme", int(time.time()), body)
    assert scope["verified"]("whsec_readme", header, body)
    assert not scope["verified"]("whsec_other", header, body)
    assert not scope["verified"]("whsec_readme", header, body + b"x")


def test_an_unsubscribe_is_an_event(app: Flask, signed_in: FlaskClient) -> None:
    from app.mail.unsubscribe import make_token

    app.config["WEBHOOK_ALLOW_PRIVATE"] = True
    _add_hook(signed_in, "http://127.0.0.1:9/hook", ("recipient.unsubscribed",))
    with app.app_context():
        token = make_token("alice", "reader@example.com")
    for _ in range(2):  # the second click finds it done: no second event
        assert app.test_client().post(f"/unsubscribe/{token}").status_code == 200
    with app.app_context():
        rows = list(db.session.scalars(db.select(WebhookDelivery)))
    assert [(r.event, r.payload["data"]) for r in rows] == [
        ("recipient.unsubscribed", {"email": "reader@example.com"})]


def test_a_failed_delivery_can_be_sent_again(app: Flask, signed_in: FlaskClient,
                                             redis_conn: Redis) -> None:
    app.config["WEBHOOK_ALLOW_PRIVATE"] = True
    _add_hook(signed_in, "http://127.0.0.1:9/hook")
    with app.app_context():
        hook = db.session.scalar(db.select(Webhook))
        row = WebhookDelivery(webhook_id=hook.id, event="send.finished", event_key="x",
                              payload={}, status="failed", attempts=6, last_status_code=500)
        db.session.add(row)
        db.session.commit()
        hook_id, row_id = hook.id, row.id
    page = signed_in.get("/settings/webhooks").get_data(as_text=True)
    path = f"/settings/webhooks/{hook_id}/deliveries/{row_id}/retry"
    assert path in page
    token = csrf_token(signed_in, "/settings/webhooks")
    assert signed_in.post(path, data={"csrf_token": token}).status_code == 302
    with app.app_context():
        assert db.session.get(WebhookDelivery, row_id).status == "pending"
    assert redis_conn.exists(f"rq:job:webhook-{row_id}")
    # not queued twice while it waits
    signed_in.post(path, data={"csrf_token": token})
    assert len(redis_conn.lrange("rq:queue:high", 0, -1)) == 1


def test_only_failed_or_stuck_deliveries_are_sent_again() -> None:
    from datetime import timedelta

    from app.models.types import utcnow
    from app.settings.webhooks import retryable

    def row(status: str, attempts: int, minutes: int) -> WebhookDelivery:
        return WebhookDelivery(status=status, attempts=attempts,
                               created_at=utcnow() - timedelta(minutes=minutes))

    assert retryable(row("failed", 6, 0))
    assert retryable(row("pending", 0, 11))  # never queued (Redis was away)
    assert not retryable(row("pending", 0, 1))  # its job may still be waiting
    assert not retryable(row("retrying", 2, 30)) and not retryable(row("delivered", 1, 30))


def test_the_log_keeps_thirty_days(app: Flask, signed_in: FlaskClient) -> None:
    from datetime import timedelta

    from app.models.types import utcnow

    app.config["WEBHOOK_ALLOW_PRIVATE"] = True
    _add_hook(signed_in, "http://127.0.0.1:9/hook")
    with app.app_context():
        hook = db.session.scalar(db.select(Webhook))
        db.session.add(WebhookDelivery(webhook_id=hook.id, event="send.finished",
                                       event_key="old", payload={}, status="delivered",
                                       created_at=utcnow() - timedelta(days=31)))
        db.session.commit()
    task_id = _finished(app)
    with app.app_context():
        publish_task(db.session.get(Task, task_id))
        keys = set(db.session.scalars(db.select(WebhookDelivery.event_key)))
    assert keys == {f"send.finished:{task_id}"}
