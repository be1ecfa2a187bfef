"""A job that never looks for a cancel request: only RQ's stop-job can end it."""

from __future__ import annotations

import time

from app.tasks.decorators import Run, background_task


@background_task
def stubborn(run: Run, seconds: float) -> str:
    """Busy for ``seconds``, deaf to cancel requests."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        time.sleep(0.05)
    return "done"
