"""The signed-in user's suppression list at ``/suppressions``: who asked to be left alone,
and the addresses added by hand."""

from flask import Blueprint

from app.auth import require_login

bp = Blueprint("suppressions", __name__)
bp.before_request(require_login)

from app.suppressions import routes  # noqa: E402,F401
