"""``Idempotency-Key`` on the test client (the racing requests are in the integration
tier): the same key and body replay the first answer, another body is a 422, a refused
request gives its key back; and the per-token rate limits answer 429 problems."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.extensions import db
from app.models import IdempotencyKey
from app.models.types import utcnow
from tests.support.api import bearer, make_token
from tests.support.flows import tasks

ONE = {"template": "welcome", "recipients": [{"email": "a@example.com"}]}


@pytest.fixture
def api(signed_in: FlaskClient) -> tuple[FlaskClient, dict[str, str]]:
    return signed_in, bearer(make_token(signed_in))


def test_same_key_same_body_replays_the_first_answer(app: Flask, api: Any) -> None:
    client, auth = api
    key = {**auth, "Idempotency-Key": "order-1001"}
    first = client.post("/api/v1/sends", json=ONE, headers=key)
    assert first.status_code == 201 and first.headers["Idempotent-Replayed"] == "false"
    # the same body, keys in another order: the same request
    again = client.post("/api/v1/sends", json=dict(reversed(ONE.items())), headers=key)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json["id"] == first.json["id"]
    assert len(tasks(app)) == 1


def test_same_key_other_body_is_422(app: Flask, api: Any) -> None:
    client, auth = api
    key = {**auth, "Idempotency-Key": "k"}
    assert client.post("/api/v1/sends", json=ONE, headers=key).status_code == 201
    other = client.post("/api/v1/sends", headers=key, json={
        "template": "welcome", "recipients": [{"email": "b@example.com"}]})
    assert other.status_code == 422
    assert other.json["type"] == "urn:mailroom:problem:idempotency-key-reused"
    assert len(tasks(app)) == 1


def test_keys_are_per_token(app: Flask, api: Any) -> None:
    client, auth = api
    other = bearer(make_token(client, "second"))
    one = client.post("/api/v1/sends", json=ONE, headers={**auth, "Idempotency-Key": "k"})
    two = client.post("/api/v1/sends", json=ONE, headers={**other, "Idempotency-Key": "k"})
    assert one.json["id"] != two.json["id"] and len(tasks(app)) == 2


def test_a_refused_request_gives_its_key_back(app: Flask, api: Any) -> None:
    client, auth = api
    key = {**auth, "Idempotency-Key": "k"}
    app.config["QUOTA_RECIPIENTS_PER_DAY"] = 0
    assert client.post("/api/v1/sends", json=ONE, headers=key).status_code == 429
    app.config["QUOTA_RECIPIENTS_PER_DAY"] = 10
    assert client.post("/api/v1/sends", json=ONE, headers=key).status_code == 201
    assert len(tasks(app)) == 1


def test_a_key_is_new_again_after_24_hours(app: Flask, api: Any) -> None:
    client, auth = api
    key = {**auth, "Idempotency-Key": "weekly"}
    first = client.post("/api/v1/sends", json=ONE, headers=key).json["id"]
    with app.app_context():
        db.session.execute(db.update(IdempotencyKey).values(
            created_at=utcnow() - timedelta(hours=25)))
        db.session.commit()
    assert client.post("/api/v1/sends", json=ONE, headers=key).json["id"] != first


@pytest.mark.parametrize("key", ["", "x" * 256, "ключ"])
def test_bad_keys_are_422(api: Any, key: str) -> None:
    client, auth = api
    response = client.post("/api/v1/sends", json=ONE, headers={**auth, "Idempotency-Key": key})
    assert response.status_code == 422 and response.json["field"] == "Idempotency-Key"


def test_send_rate_limit_per_token_is_a_429_problem(app: Flask, api: Any) -> None:
    client, auth = api
    app.config["RATELIMIT_SEND"] = "2 per minute"
    for _ in range(2):
        assert client.post("/api/v1/sends", json=ONE, headers=auth).status_code == 201
    limited = client.post("/api/v1/sends", json=ONE, headers=auth)
    assert limited.status_code == 429 and limited.mimetype == "application/problem+json"
    assert limited.json["type"] == "urn:mailroom:problem:rate-limited"
    assert int(limited.headers["Retry-After"]) > 0
    other = bearer(make_token(client, "another"))  # its own count
    assert client.post("/api/v1/sends", json=ONE, headers=other).status_code == 201


def test_every_call_counts_toward_the_api_limit(app: Flask, api: Any) -> None:
    client, auth = api
    app.config["RATELIMIT_API"] = "3 per minute"
    codes = [client.get("/api/v1/sends", headers=auth).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]


def _dead_key(app: Flask, task_id: int | None) -> None:
    """A key left by a request that died (minutes ago, unanswered), maybe after its task."""
    from app.api.idempotency import body_hash
    from app.models import ApiToken

    with app.app_context():
        token_id = db.session.scalar(db.select(ApiToken.id).order_by(ApiToken.id))
        db.session.add(IdempotencyKey(token_id=token_id, key="k", request_hash=body_hash(ONE),
                                      task_id=task_id,
                                      created_at=utcnow() - timedelta(minutes=4)))
        db.session.commit()


def test_a_key_whose_request_died_before_its_task_is_taken_over(app: Flask, api: Any) -> None:
    client, auth = api
    _dead_key(app, None)
    response = client.post("/api/v1/sends", json=ONE, headers={**auth, "Idempotency-Key": "k"})
    assert response.status_code == 201 and response.headers["Idempotent-Replayed"] == "false"
    assert [t.id for t in tasks(app)] == [response.json["id"]]


def test_a_key_whose_request_died_after_its_task_answers_with_it(app: Flask, api: Any) -> None:
    client, auth = api
    made = client.post("/api/v1/sends", json=ONE, headers=auth).json["id"]
    _dead_key(app, made)
    response = client.post("/api/v1/sends", json=ONE, headers={**auth, "Idempotency-Key": "k"})
    assert response.status_code == 201 and response.headers["Idempotent-Replayed"] == "true"
    assert response.json["id"] == made and len(tasks(app)) == 1


def test_the_task_is_written_on_its_key_with_the_task(app: Flask, api: Any) -> None:
    """The link is in the task's own transaction: no window where a task exists that its
    key does not name."""
    from flask import g

    from app.api.idempotency import HOLDING
    from app.tasks.service import Mailing, TaskService

    _dead_key(app, None)
    with app.test_request_context():
        key_id = db.session.scalar(db.select(IdempotencyKey.id))
        setattr(g, HOLDING, key_id)
        task = TaskService("alice").send(Mailing.named("welcome", "alice", ["a@example.com"]))
        linked = db.session.scalar(db.select(IdempotencyKey.task_id))
    assert linked == task.id
