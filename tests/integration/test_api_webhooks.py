"""Webhooks out with a real worker and a receiver on loopback (WEBHOOK_ALLOW_PRIVATE on):
a send made by a token finishes, and the receiver gets ``send.finished`` signed with the
hook's secret — after failing twice, on the third try, by RQ's retry."""

from __future__ import annotations

import json
import re
import time
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.webhooks_out.signing import verify
from tests.support import wait_until
from tests.support.api import bearer, delivery_in, make_token
from tests.support.flows import csrf_token, wait_for_task
from tests.support.receiver import receiver


@pytest.fixture
def app_config(app_config: dict[str, Any], smtp_sink: Any) -> dict[str, Any]:
    app_config.update(WEBHOOK_ALLOW_PRIVATE=True, WEBHOOK_RETRY_INTERVALS="1,1,1")
    return app_config


def _hook(client: FlaskClient, url: str) -> str:
    page = client.post("/settings/webhooks", data={
        "url": url, "events": ["send.finished", "send.failed"],
        "csrf_token": csrf_token(client, "/settings/webhooks")}).get_data(as_text=True)
    return re.search(r'id="new-secret">([^<]+)<', page).group(1)


def test_signed_send_finished_on_the_third_try(app: Flask, signed_in: FlaskClient,
                                               start_worker: Any) -> None:
    start_worker()
    with receiver(fail_first=2) as hooked:
        secret = _hook(signed_in, hooked.url)
        sent = signed_in.post("/api/v1/sends", headers=bearer(make_token(signed_in)), json={
            "template": "welcome", "recipients": [{"email": "reader@example.com"}]})
        assert sent.status_code == 201
        wait_for_task(app, sent.json["id"], lambda t: t.status == "finished", 30, "the send")
        wait_until(lambda: len(hooked.hits) >= 3 or None, 30, "the third try")
    assert [hit.status for hit in hooked.hits] == [500, 500, 200]
    for hit in hooked.hits:  # every try signed; the receiver checks as the README shows
        assert verify(secret, hit.headers["Mailroom-Signature"], hit.body, int(time.time()))
        assert not verify("whsec_wrong", hit.headers["Mailroom-Signature"], hit.body,
                          int(time.time()))
    event = json.loads(hooked.hits[-1].body)
    assert event["type"] == "send.finished" and event["data"]["task"]["id"] == sent.json["id"]
    assert event["data"]["task"]["counts"]["delivered"] == 1
    assert len({hit.body for hit in hooked.hits}) == 1  # the same event each time
    row = wait_until(lambda: delivery_in(app, "delivered"), 10, "the log's last answer")
    assert (row.attempts, row.last_status_code) == (3, 200)
    page = signed_in.get("/settings/webhooks").get_data(as_text=True)
    assert 'data-status="delivered"' in page
