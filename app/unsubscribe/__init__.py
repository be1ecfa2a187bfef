"""Leaving a sender's mailings: ``/unsubscribe/<token>`` (no login: the signed token is the
proof) and the signed-in user's suppression list at ``/suppressions``."""

from flask import Blueprint

from app.auth import require_login

bp = Blueprint("unsubscribe", __name__)
suppressions_bp = Blueprint("suppressions", __name__)
suppressions_bp.before_request(require_login)

from app.unsubscribe import routes  # noqa: E402,F401
