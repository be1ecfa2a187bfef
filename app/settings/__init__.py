"""``/settings``: the signed-in user's API tokens and outgoing webhooks."""

from flask import Blueprint

from app.auth import require_login

bp = Blueprint("settings", __name__, url_prefix="/settings")
bp.before_request(require_login)

from app.settings import tokens, webhooks  # noqa: E402,F401
