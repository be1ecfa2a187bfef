"""A claim whose commit reached the database while its answer was lost (the database went
away mid-commit): its rows are ``sending`` with no connection holding them. The run settles
them from its ledger once its connections end and sends them — nobody left out, nobody
twice. (PostgreSQL cut mid-send in test_faults_ordinary.py once lost a recipient so.)"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from redis import Redis
from rq import SimpleWorker
from sqlalchemy.exc import OperationalError

from app.mail import pool
from app.queue import SERIALIZER, queues
from tests.support.flows import post_send, task, tasks


@pytest.fixture
def app_config(app_config: dict[str, Any], smtp_sink: Any) -> dict[str, Any]:
    app_config.update(MAIL_CONCURRENCY=1, MAIL_BATCH_SIZE=2)
    return app_config


def test_a_claim_whose_commit_answer_was_lost_is_sent_in_the_same_run(
        app: Flask, signed_in: FlaskClient, smtp_sink: Any, redis_conn: Redis,
        monkeypatch: pytest.MonkeyPatch) -> None:
    real, lost = pool.claim_batch, []

    def answer_lost(*args: Any, **kwargs: Any) -> list[pool.Outgoing]:
        batch = real(*args, **kwargs)  # committed: these rows are ``sending`` now
        if batch and not lost:
            lost.extend(item.recipient for item in batch)
            raise OperationalError("COMMIT", {}, Exception("server closed the connection"),
                                   connection_invalidated=True)
        return batch

    monkeypatch.setattr(pool, "claim_batch", answer_lost)
    everyone = [f"c{i}@example.com" for i in range(6)]
    post_send(signed_in, ",".join(everyone))
    [row] = tasks(app)
    with app.app_context():
        queue_set = queues()
        SimpleWorker(queue_set.ordered(), connection=queue_set.connection,
                     serializer=SERIALIZER).work(burst=True)
    assert lost, "no claim was lost"
    assert sorted(m.rcpt_tos[0] for m in smtp_sink.handler.messages) == everyone
    done = task(app, row.id)
    assert (done.status, done.delivered_count, done.unknown_count) == ("finished", 6, 0)
