"""The task detail page's search after a real send (worker, sink): the outcome filter and
the address search narrow the table and its live JSON alike, and the streamed CSV still
lists every recipient."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.support.flows import ended, outcomes, post_send, tasks, wait_for_task

pytestmark = pytest.mark.usefixtures("smtp_sink")  # each test mails the sink


def test_search_after_a_real_send(app: Flask, signed_in: FlaskClient, smtp_sink: Any,
                                  start_worker: Any) -> None:
    everyone = [f"r{i}@example.com" for i in range(12)]
    smtp_sink.handler.refuse = {"r1@example.com", "r10@example.com"}
    start_worker()
    post_send(signed_in, ",".join(everyone))
    [row] = tasks(app)
    wait_for_task(app, row.id, ended, what="the send")

    refused = outcomes(signed_in.get(f"/tasks/{row.id}?outcome=refused").get_data(as_text=True))
    assert refused == {"r1@example.com": "refused", "r10@example.com": "refused"}
    found = signed_in.get(f"/tasks/{row.id}?q=R1&outcome=delivered").get_data(as_text=True)
    assert outcomes(found) == {"r11@example.com": "delivered"}
    answer = signed_in.get(f"/tasks/{row.id}/recipients.json?q=r1").get_json()
    assert [r["recipient"] for r in answer["recipients"]] == [
        "r1@example.com", "r10@example.com", "r11@example.com"]
    pending = signed_in.get(f"/tasks/{row.id}?outcome=pending").get_data(as_text=True)
    assert outcomes(pending) == {} and 'id="recipients-none"' in pending

    response = signed_in.get(f"/tasks/{row.id}/recipients.csv")
    assert response.is_streamed and response.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert [r["email"] for r in rows] == everyone
    assert {r["email"] for r in rows if r["outcome"] == "refused"} == set(refused)
