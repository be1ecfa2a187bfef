"""The bounce side's processes under ``python worker.py`` (app/worker/supervisor.py):
``bounces``, the SMTP receiver (BOUNCE_SMTP_PORT), and ``imap``, the mailbox poller
(BOUNCE_IMAP_URL)."""

from __future__ import annotations

from flask import Flask


def serve(role: str, app: Flask) -> int:
    """Run one role until SIGTERM; its exit code."""
    if role == "bounces":
        from app.bounces.receiver import serve as receive

        return receive(app)
    from app.bounces.mailbox import serve as poll

    return poll(app)
