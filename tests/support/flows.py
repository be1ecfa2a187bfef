"""Steps the tests take as a user would: sign in, post the forms and the task controls, read
the tasks back and wait for their states."""

from __future__ import annotations

import io
import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from app.cli import create_user
from app.extensions import db
from app.models import Task
from tests.support import wait_until

PASSWORD = "correct horse"


def csrf_token(client: FlaskClient, path: str = "/auth/login") -> str:
    """The CSRF token a page's form carries."""
    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html)
    assert match, f"no csrf token on {path}"
    return match.group(1)


class AuthActions:
    """Sign in and out with the real form."""

    def __init__(self, client: FlaskClient, app: Flask) -> None:
        self._client = client
        self._app = app

    def create(self, username: str = "alice", password: str = PASSWORD) -> None:
        with self._app.app_context():
            create_user(username, password)

    def login(self, username: str = "alice", password: str = PASSWORD) -> Any:
        token = csrf_token(self._client)
        return self._client.post("/auth/login", data={
            "username": username, "password": password, "csrf_token": token})

    def logout(self) -> Any:
        token = csrf_token(self._client, "/send_mail")
        return self._client.post("/auth/logout", data={"csrf_token": token})


def post_file(client: FlaskClient, path: str, field: str, data: bytes,
              filename: str = "members.csv", form: dict[str, str] | None = None,
              page: str = "/send_mail") -> Any:
    """POST ``data`` as the file ``field`` (and ``form``) with the CSRF token of ``page``
    (a signed-in one). The body is
    encoded here, in memory: werkzeug's test client would spool a big one to a temporary
    file it never closes (a ResourceWarning, an error under this suite's filters)."""
    boundary, body = encode_multipart({
        field: FileStorage(io.BytesIO(data), filename, field), **(form or {}),
        "csrf_token": csrf_token(client, page)})
    return client.post(path, data=body,
                       content_type=f"multipart/form-data; boundary={boundary}")


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
    from tests.support.flows import PASSWORD

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


def outcomes(html: str) -> dict[str, str]:
    """Each recipient on a task page and its ``data-outcome``."""
    return dict(re.findall(r'data-recipient="([^"]+)" data-outcome="([^"]+)"', html))


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


def control(client: FlaskClient, task_id: int, action: str = "cancel",
            headers: dict[str, str] | None = None, **data: str) -> Any:
    """POST a task control (cancel, pause, resume, send_now, reschedule) as the page does."""
    token = csrf_token(client, "/send_mail")
    return client.post(f"/tasks/{task_id}/{action}", data={"csrf_token": token, **data},
                       headers=headers)
