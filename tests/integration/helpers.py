"""Shared steps of the integration tests: post the form, read tasks, wait for states."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from app.devstack import wait_until
from app.extensions import db
from app.models import Task
from tests.conftest import csrf_token


def post_send(client: FlaskClient, recipients: str, template: str = "welcome",
              **extra: str) -> Any:
    """Submit the send form as a browser would."""
    data = {"recipient": recipients, "template_name": template, "timezone": "Asia/Seoul",
            "csrf_token": csrf_token(client, "/send_mail"), **extra}
    return client.post("/send_mail", data=data)


def flashes(client: FlaskClient) -> list[tuple[str, str]]:
    """The flash messages waiting in the session (without rendering a page)."""
    with client.session_transaction() as session:
        return list(session.get("_flashes", []))


def account(app: Flask, username: str = "alice") -> str:
    """Make sure the account ``username`` exists (a send is signed with its id); its name."""
    from app.cli import create_user
    from app.models import User
    from tests.conftest import PASSWORD

    with app.app_context():
        if User.by_username(username) is None:
            create_user(username, PASSWORD)
    return username


def delivery_fields(app: Flask, task_id: int) -> dict[str, Any]:
    """Each recipient of the task with the fields it was stored with."""
    from app.models import Delivery

    with app.app_context():
        return dict(db.session.execute(db.select(Delivery.recipient, Delivery.fields)
                                       .where(Delivery.task_id == task_id)).all())


def tasks(app: Flask) -> list[Task]:
    with app.app_context():
        rows = list(db.session.scalars(db.select(Task).order_by(Task.id)))
        db.session.expunge_all()
        return rows


def task(app: Flask, task_id: int) -> Task:
    with app.app_context():
        row = db.session.get(Task, task_id)
        assert row is not None
        db.session.expunge(row)
        return row


def wait_for_task(app: Flask, task_id: int, predicate: Any, timeout: float = 30,
                  what: str = "the task") -> Task:
    """Poll the Task row until ``predicate(task)`` holds."""
    return wait_until(lambda: (lambda t: t if predicate(t) else None)(task(app, task_id)),
                      timeout, what)


def ended(row: Task) -> bool:
    return row.status in ("finished", "canceled")
