"""What the fault tests share: a send or a reservation of ``welcome`` by alice made through
TaskService, and a figure printed for docs/RELIABILITY.md (``-s | grep FIGURE``)."""

from __future__ import annotations

import math
from datetime import UTC, datetime

from flask import Flask

from app.tasks.service import Mailing, TaskService
from tests.support.flows import account


def figure(text: str) -> None:
    print(f"FIGURE {text}")


def send(app: Flask, recipients: list[str]) -> int:
    """A send of ``welcome`` by alice to ``recipients`` through TaskService; its task id."""
    account(app)
    with app.app_context():
        return TaskService("alice").send(Mailing.named("welcome", "alice", recipients)).id


def reserve(app: Flask, recipient: str, at: float) -> datetime:
    """Reserve one mail for ``at`` (epoch seconds, rounded up to a whole second)."""
    when = datetime.fromtimestamp(math.ceil(at), UTC)
    account(app)
    with app.app_context():
        TaskService("alice").send(Mailing.named("welcome", "alice", [recipient]), when)
    return when
