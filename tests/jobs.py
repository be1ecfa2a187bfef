"""Job functions the tests enqueue on real workers (importable by ``python worker.py``)."""

from __future__ import annotations

import os

from flask import current_app

from app.extensions import db
from app.models import Task


def smoke_write(label: str) -> dict[str, object]:
    """Write a Task row from inside the worker's app context; return what it saw."""
    task = Task(name="smoke", description=label, username="smoke", status="finished")
    db.session.add(task)
    db.session.commit()
    return {"task_id": task.id, "app": current_app.name, "pid": os.getpid()}
