"""Task pages and controls: the history (``GET /tasks``), one task in detail with its
recipients and resend, and the controls a task's alert posts (cancel, pause, resume,
reschedule, send now)."""

from flask import Blueprint

from app.auth import require_login

bp = Blueprint("tasks", __name__)
bp.before_request(require_login)

from app.tasks_ui import controls, detail, routes  # noqa: E402,F401
