"""Issue 9, point 10: ids and page numbers a database cannot hold answer 404, not 500
(SQLite raised OverflowError), on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.routing import IntegerConverter

from app.converters import MAX_ID, MAX_PAGE, IdConverter, bounded_int
from app.extensions import db
from app.models import Task
from app.tasks_ui.routes import PER_PAGE
from tests.support.flows import csrf_token

HUGE_IDS = [
    str(MAX_ID + 1),  # past PostgreSQL's int4
    "9223372036854775813",  # the probe of the issue: just past 2**63 - 1
    str(2**63),
    "99999999999999999999999",
    "9" * 5000,  # past Python's int-from-string limit too
    "0",
    "00",
]
ACTIONS = ["cancel", "cancel_reserve", "reschedule", "send_now"]


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("task_id", HUGE_IDS)
def test_out_of_range_task_ids_are_404(app: Flask, signed_in: FlaskClient, action: str,
                                       task_id: str) -> None:
    token = csrf_token(signed_in, "/send_mail")
    response = signed_in.post(f"/tasks/{task_id}/{action}", data={"csrf_token": token})
    assert response.status_code == 404


@pytest.mark.parametrize("action", ACTIONS)
def test_the_largest_id_is_an_ordinary_missing_task(app: Flask, signed_in: FlaskClient,
                                                    action: str) -> None:
    token = csrf_token(signed_in, "/send_mail")
    response = signed_in.post(f"/tasks/{MAX_ID}/{action}", data={"csrf_token": token})
    assert response.status_code == 404  # reached the view, which found no such task


def test_an_own_task_id_still_reaches_the_view(app: Flask, signed_in: FlaskClient) -> None:
    with app.app_context():
        task = Task(name="send_mail", description="done", username="alice", status="finished")
        db.session.add(task)
        db.session.commit()
        task_id = task.id
    token = csrf_token(signed_in, "/send_mail")
    response = signed_in.post(f"/tasks/{task_id}/cancel", data={"csrf_token": token},
                              headers={"Accept": "application/json"})
    # Refused: it had ended (issue 24: told as information, 200 with ok false, not 409).
    assert response.status_code == 200 and response.get_json()["ended"] is True
    assert "이미 완료된 상태" in response.get_json()["message"]


@pytest.mark.parametrize("page", ["99999999999999999999999", str(2**63), str(MAX_PAGE + 1),
                                  "0", "-1", "abc", "", "1.5", "١", "9" * 5000])
def test_out_of_range_pages_are_404(signed_in: FlaskClient, page: str) -> None:
    assert signed_in.get("/tasks", query_string={"page": page}).status_code == 404


def test_pages_past_the_last_are_404_but_page_one_never(app: Flask,
                                                        signed_in: FlaskClient) -> None:
    assert signed_in.get("/tasks").status_code == 200  # no tasks yet: an empty first page
    assert signed_in.get("/tasks?page=1").status_code == 200
    assert signed_in.get("/tasks?page=2").status_code == 404
    assert signed_in.get(f"/tasks?page={MAX_PAGE}").status_code == 404
    with app.app_context():
        db.session.add_all(Task(name="send_mail", description=f"task {n}", username="alice",
                                status="finished") for n in range(PER_PAGE + 1))
        db.session.commit()
    second = signed_in.get("/tasks?page=2")
    assert second.status_code == 200 and "task 0" in second.get_data(as_text=True)
    assert signed_in.get("/tasks?page=3").status_code == 404


@pytest.mark.parametrize("raw,expected", [
    ("1", 1), ("42", 42), (str(MAX_ID), MAX_ID), (str(MAX_ID + 1), None), ("0", None),
    ("0042", 42),
    ("-3", None), ("+3", None), (" 3", None), ("3 ", None), ("٣", None), ("", None),
    (None, None), ("1" * 20, None),
])
def test_bounded_int(raw: str | None, expected: int | None) -> None:
    assert bounded_int(raw, MAX_ID) == expected


def test_every_integer_route_argument_is_bounded(app: Flask) -> None:
    """A route added later with a plain ``<int:...>`` would bring the 500 back."""
    unbounded = [rule.rule for rule in app.url_map.iter_rules()
                 for converter in (rule._converters or {}).values()
                 if isinstance(converter, IntegerConverter) and converter.max is None]
    assert unbounded == []
    bounded = [rule.rule for rule in app.url_map.iter_rules()
               if any(isinstance(c, IdConverter) for c in (rule._converters or {}).values())]
    assert {f"/tasks/<id:task_id>/{action}" for action in ACTIONS} <= set(bounded)
