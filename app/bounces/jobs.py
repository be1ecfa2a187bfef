"""The job the bounce receiver hands each returned message to, and the hand-over: the
message travels in the job (base64 in JSON), so the receiver needs Redis only, and a
delivery still in flight when its bounce comes is looked at again by RQ's retry."""

from __future__ import annotations

import base64
import uuid
from typing import Any

from flask import Flask

from app.bounces.handle import handle_message
from app.queue import HANDLE_BOUNCE, INLINE, queues, retry_after

# A bounce can overtake the write of its own delivery's outcome: look again after these.
RETRY_SECONDS = [2, 10, 60]


def hand_over(app: Flask, raw: bytes, via: str, rcpts: list[str]) -> str:
    """Queue ``raw`` for ``handle_bounce`` (RedisError when Redis is away: the sending
    server keeps it and tries again); the job's id."""
    job = queues(app)["default"].enqueue(
        HANDLE_BOUNCE, base64.b64encode(raw).decode("ascii"), via, rcpts,
        job_id=f"bounce-{uuid.uuid4().hex}", meta={INLINE: True},  # small: no fork
        # Its result is in the database (the bounces table): RQ keeps none, fewer writes.
        retry=retry_after(RETRY_SECONDS), result_ttl=0, failure_ttl=7 * 86400,
        job_timeout=60)
    return job.id


def handle_bounce(raw: str, via: str, rcpts: list[str]) -> dict[str, Any]:
    """Act on one returned message (the worker gives the app context); what it came to."""
    outcome = handle_message(base64.b64decode(raw), via, rcpts)
    return {"matched": outcome.matched, "bounces": outcome.bounces}
