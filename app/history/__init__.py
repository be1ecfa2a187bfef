"""``GET /tasks``: every task of the user, newest first."""

from flask import Blueprint

from app.auth import require_login

bp = Blueprint("history", __name__)
bp.before_request(require_login)

from app.history import detail, routes  # noqa: E402,F401
