"""Helpers the test tiers share: the project's folder, a free port, waiting with a deadline,
stopping a process we started (the same as the dev stack's, from ``app.utils``)."""

import os
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from flask import Flask

from app.extensions import db
from app.utils.processes import free_port, stop_process, wait_until

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

__all__ = ["ROOT", "free_port", "fresh_schema", "skip_or_fail", "stop_process", "wait_until"]


def skip_or_fail(reason: str) -> None:
    """Skip with a visible reason; in CI (MAILROOM_REQUIRE_ALL) a missing part is a failure."""
    if os.environ.get("MAILROOM_REQUIRE_ALL"):
        pytest.fail(f"required in CI: {reason}")
    pytest.skip(reason)


@contextmanager
def fresh_schema(app: Flask) -> Iterator[Flask]:
    """``app`` on a fresh, empty schema, dropped again (and its connections closed) after."""
    with app.app_context():
        db.drop_all()
        db.create_all()
    yield app
    with app.app_context():
        db.session.remove()
        db.drop_all()
        db.engine.dispose()
