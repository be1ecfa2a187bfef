"""Audiences: a user's saved lists, their members, imports (a background job) and
exports."""

from flask import Blueprint

from app.auth import require_login

bp = Blueprint("lists", __name__)
bp.before_request(require_login)

from app.lists import routes  # noqa: E402,F401
