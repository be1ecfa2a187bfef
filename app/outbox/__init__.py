"""``/outbox``: the mails the dev stack's local SMTP sink caught (only when it runs)."""

from flask import Blueprint

from app.auth import require_login

bp = Blueprint("outbox", __name__, url_prefix="/outbox")
bp.before_request(require_login)

from app.outbox import routes  # noqa: E402,F401
