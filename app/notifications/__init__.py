"""``GET /notifications?since=``: what changed for the signed-in user."""

from flask import Blueprint

from app.auth import require_login

bp = Blueprint("notifications", __name__)
bp.before_request(require_login)

from app.notifications import routes  # noqa: E402,F401
