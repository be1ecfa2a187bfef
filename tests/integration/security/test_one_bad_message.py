"""Point 12, the worker's half: a message that cannot be built or sent is that recipient's
failure (with the reason), and the recipients after it are still mailed."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from app.extensions import db
from app.models import Delivery
from app.tasks.service import Mailing, TaskService
from tests.support.flows import account, ended, wait_for_task

pytestmark = pytest.mark.usefixtures("smtp_sink")  # each test mails the sink


def test_the_batch_goes_on_past_an_unsendable_recipient(app: Flask, smtp_sink: Any,
                                                        start_worker: Any) -> None:
    # As a row made before the form refused such addresses (or by another client) would be.
    recipients = ["a@example.com", "üser2@example.com", "c@example.com"]
    account(app)
    with app.app_context():
        task_id = TaskService("alice").send(Mailing.named("welcome", "alice", recipients)).id
    start_worker()
    done = wait_for_task(app, task_id, ended, what="the send")
    assert sorted(smtp_sink.handler.recipients()) == ["a@example.com", "c@example.com"]
    with app.app_context():
        row = db.session.scalar(db.select(Delivery).filter_by(task_id=task_id,
                                                              recipient="üser2@example.com"))
        assert row is not None and row.status == "refused"
        assert row.reason_kind == "not_built" and row.error  # not the server's doing
    assert (done.status, done.failed, done.delivered_count, done.failed_count) == (
        "finished", True, 2, 1)
