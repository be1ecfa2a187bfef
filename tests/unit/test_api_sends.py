"""``/api/v1/sends`` on the test client: the same door as the send form (TaskService, its
quotas, its checks), answers as JSON, refusals as problem details with a stable type."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from redis import Redis

from app.extensions import db
from app.models import Delivery, Task
from tests.support.api import bearer, make_token
from tests.support.flows import tasks

PROBLEM = "urn:mailroom:problem:"
ONE = {"template": "welcome", "recipients": [{"email": "a@example.com"}]}


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    app_config["MAIL_MAX_RECIPIENTS"] = 5
    return app_config


@pytest.fixture
def api(signed_in: FlaskClient) -> tuple[FlaskClient, dict[str, str]]:
    """A client without a session and alice's token."""
    return signed_in, bearer(make_token(signed_in))


def test_send_now_answers_201_with_the_task(app: Flask, api: Any, redis_conn: Redis) -> None:
    client, auth = api
    body = {"template": "welcome", "recipients": [
        {"email": "a@example.com", "fields": {"city": "서울", "n": 3}},
        {"email": "B@example.com"}]}
    response = client.post("/api/v1/sends", json=body, headers=auth)
    assert response.status_code == 201, response.json
    task = response.json
    assert task["status"] == "queued" and task["counts"]["recipients"] == 2
    assert task["links"]["self"].endswith(f"/api/v1/sends/{task['id']}")
    assert redis_conn.exists(f"rq:job:{task['id']}")
    with app.app_context():
        rows = dict(db.session.execute(db.select(Delivery.recipient, Delivery.fields)).all())
    assert rows == {"a@example.com": {"city": "서울", "n": "3"},
                    "B@example.com": {"city": "", "n": ""}}
    assert client.get(f"/api/v1/sends/{task['id']}", headers=auth).json["id"] == task["id"]


@pytest.mark.parametrize("body,field,words", [
    ({"recipients": [{"email": "a@example.com"}]}, "template", "template"),
    ({"template": "nope", "recipients": [{"email": "a@example.com"}]}, "template", "nope"),
    ({"template": "welcome", "recipients": []}, "recipients", "한 명 이상"),
    ({"template": "welcome", "recipients": [{"email": "not-an-address"}]}, "recipients",
     "recipients[0]"),
    ({"template": "welcome", "recipients": [{"email": "a@x.org"}, {"email": "A@x.org"}]},
     "recipients", "recipients[1]"),
    ({"template": "welcome", "recipients": [{"email": f"{i}@x.org"} for i in range(6)]},
     "recipients", "5명"),
    ({"template": "welcome", "recipients": [{"email": "a@x.org", "fields": {"n": "a\r\nb"}}]},
     "recipients", "제어 문자"),
    ({"template": "welcome", "recipients": [{"email": "a@x.org", "fields": {"n": [1]}}]},
     "recipients", "문자열이나 숫자"),
    ({**ONE, "send_at": "2030-01-01T09:00:00"}, "send_at", "오프셋"),
    ({**ONE, "send_at": "tomorrow"}, "send_at", "RFC 3339"),
    ({**ONE, "send_at": "2020-01-01T09:00:00Z"}, "send_at", ""),
    ({"template": "welcome", "list_id": 12345}, "list_id", "목록"),
    ({**ONE, "list_id": 12345}, "list_id", "함께"),
])
def test_refusals_are_422_problems_and_make_nothing(app: Flask, api: Any, redis_conn: Redis,
                                                    body: dict[str, Any], field: str,
                                                    words: str) -> None:
    client, auth = api
    response = client.post("/api/v1/sends", json=body, headers=auth)
    assert response.status_code == 422, response.json
    assert response.mimetype == "application/problem+json"
    problem = response.json
    assert problem["type"] == PROBLEM + "invalid-request" and problem["status"] == 422
    assert problem["field"] == field and words in problem["detail"]
    assert tasks(app) == [] and redis_conn.keys("rq:job:*") == []


def test_reservation_with_an_offset(api: Any) -> None:
    client, auth = api
    response = client.post("/api/v1/sends", headers=auth,
                           json={**ONE, "send_at": "2099-01-01T09:00:00.2+09:00"})
    assert response.status_code in (201, 422)  # past the window in the far future: 422
    near = client.post("/api/v1/sends", headers=auth, json={
        **ONE, "send_at": _in_minutes(10, "+09:00")})
    assert near.status_code == 201 and near.json["status"] == "reserved"
    assert near.json["send_at"].endswith("Z")


def _in_minutes(minutes: int, offset: str) -> str:
    from datetime import datetime, timedelta, timezone

    hours, mins = int(offset[1:3]), int(offset[4:6])
    tz = timezone(timedelta(hours=hours, minutes=mins) * (1 if offset[0] == "+" else -1))
    return (datetime.now(tz) + timedelta(minutes=minutes)).isoformat(timespec="seconds")


def test_not_json_is_415(api: Any) -> None:
    client, auth = api
    response = client.post("/api/v1/sends", data="template=welcome", headers=auth)
    assert response.status_code == 415
    assert response.json["type"] == PROBLEM + "unsupported-media-type"


def test_quota_is_a_429_problem(app: Flask, api: Any) -> None:
    client, auth = api
    app.config["QUOTA_RECIPIENTS_PER_DAY"] = 1
    assert client.post("/api/v1/sends", json=ONE, headers=auth).status_code == 201
    response = client.post("/api/v1/sends", json=ONE, headers=auth)
    assert response.status_code == 429 and response.json["type"] == PROBLEM + "quota-exceeded"
    assert "24시간 동안 1명" in response.json["detail"]
    assert len(tasks(app)) == 1


def test_another_users_send_is_404(app: Flask, api: Any, auth: Any) -> None:
    client, alice = api
    task_id = client.post("/api/v1/sends", json=ONE, headers=alice).json["id"]
    auth.create("bob")
    auth.logout()
    auth.login("bob")
    bob = bearer(make_token(client, "bob's"))
    for method, path in (("get", ""), ("get", "/recipients"), ("post", "/cancel"),
                         ("post", "/pause"), ("post", "/resume"), ("post", "/send_now")):
        response = getattr(client, method)(f"/api/v1/sends/{task_id}{path}", headers=bob)
        assert response.status_code == 404, path
        assert response.json["type"] == PROBLEM + "not-found"
    assert client.get("/api/v1/sends", headers=bob).json["items"] == []
    assert client.get(f"/api/v1/sends/{task_id}", headers=alice).status_code == 200


def test_list_filters_and_pages(api: Any) -> None:
    client, auth = api
    made = [client.post("/api/v1/sends", headers=auth, json={
        "template": "welcome", "recipients": [{"email": f"user{i}@example.com"}]}).json["id"]
        for i in range(3)]
    page = client.get("/api/v1/sends?per_page=2", headers=auth).json
    assert [t["id"] for t in page["items"]] == made[::-1][:2] and page["next"]
    rest = client.get(page["next"].split("localhost", 1)[1], headers=auth).json
    assert [t["id"] for t in rest["items"]] == [made[0]] and rest["next"] is None
    found = client.get("/api/v1/sends?q=user1@", headers=auth).json["items"]
    assert [t["id"] for t in found] == [made[1]]
    assert client.get("/api/v1/sends?status=queued", headers=auth).json["items"]
    assert client.get("/api/v1/sends?status=bogus", headers=auth).status_code == 422
    assert client.get("/api/v1/sends?per_page=0", headers=auth).status_code == 422


def test_recipients_page_with_outcomes(api: Any) -> None:
    client, auth = api
    task = client.post("/api/v1/sends", headers=auth, json={"template": "welcome", "recipients": [
        {"email": "a@example.com"}, {"email": "b@example.com"}]}).json
    page = client.get(task["links"]["recipients"].split("localhost", 1)[1], headers=auth).json
    assert [(r["email"], r["outcome"]) for r in page["items"]] == [
        ("a@example.com", "pending"), ("b@example.com", "pending")]
    assert client.get(f"/api/v1/sends/{task['id']}/recipients?outcome=delivered",
                      headers=auth).json["items"] == []


def test_controls_answer_with_the_task_or_409(app: Flask, api: Any) -> None:
    client, auth = api
    task_id = client.post("/api/v1/sends", json=ONE, headers=auth).json["id"]
    paused = client.post(f"/api/v1/sends/{task_id}/pause", headers=auth)
    assert paused.status_code == 200 and paused.json["status"] == "paused"
    again = client.post(f"/api/v1/sends/{task_id}/pause", headers=auth)
    assert again.status_code == 409 and again.json["type"] == PROBLEM + "conflict"
    resumed = client.post(f"/api/v1/sends/{task_id}/resume", headers=auth)
    assert resumed.status_code == 200 and resumed.json["status"] == "queued"
    assert client.post(f"/api/v1/sends/{task_id}/send_now", headers=auth).status_code == 409
    canceled = client.post(f"/api/v1/sends/{task_id}/cancel", headers=auth)
    assert canceled.status_code == 200 and canceled.json["status"] == "canceled"
    with app.app_context():
        assert db.session.get(Task, task_id).status == "canceled"


def test_send_now_of_a_reservation(api: Any) -> None:
    client, auth = api
    task = client.post("/api/v1/sends", headers=auth,
                       json={**ONE, "send_at": _in_minutes(30, "-05:00")}).json
    assert task["status"] == "reserved"
    now = client.post(f"/api/v1/sends/{task['id']}/send_now", headers=auth)
    assert now.status_code == 200 and now.json["status"] == "queued"


def test_english_titles_when_asked(api: Any) -> None:
    client, auth = api
    response = client.get("/api/v1/sends/999", headers={**auth, "Accept-Language": "en"})
    assert response.json["title"] == "Not found"
    assert client.get("/api/v1/sends/999", headers=auth).json["title"] == "찾을 수 없습니다"


def test_unknown_paths_and_methods_are_problems_too(api: Any) -> None:
    client, auth = api
    missing = client.get("/api/v1/nothing-here", headers=auth)
    assert missing.status_code == 404 and missing.json["type"] == PROBLEM + "not-found"
    wrong = client.delete("/api/v1/sends", headers=auth)
    assert wrong.status_code == 405 and wrong.json["type"] == PROBLEM + "method-not-allowed"
    assert set(wrong.headers["Allow"].split(", ")) >= {"GET", "POST"}
    posted = client.post("/api/v1/nothing-here", json={}, headers=auth)  # no CSRF asked
    assert posted.status_code == 404 and posted.mimetype == "application/problem+json"
    assert client.get("/no-such-page").mimetype == "text/html"  # the rest of the site as before
