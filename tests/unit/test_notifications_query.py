"""A poll with nothing new costs one indexed query on notifications."""

from __future__ import annotations

import time
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, text

from app.extensions import db


def test_poll_with_nothing_new_is_one_indexed_query(app: Flask, signed_in: FlaskClient) -> None:
    signed_in.get("/notifications?since=0")  # warm up: session, user
    statements: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        response = signed_in.get(f"/notifications?since={time.time()}")
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert response.get_json() == []
    on_notifications = [s for s in statements if "FROM notifications" in s]
    assert len(on_notifications) == 1
    assert len(statements) <= 2  # plus Flask-Login's load of the signed-in user

    with app.app_context():
        if engine.dialect.name == "sqlite":
            plan = db.session.execute(text(
                "EXPLAIN QUERY PLAN " + on_notifications[0].replace("?", "'alice'", 1)
                .replace("?", "0"))).all()
            assert "ix_notifications_username_timestamp" in " ".join(str(r) for r in plan)
