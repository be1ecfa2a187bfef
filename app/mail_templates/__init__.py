"""The templates page: the built-ins (read-only) and the user's own mail templates."""

from flask import Blueprint

from app.auth import require_login

bp = Blueprint("mail_templates", __name__)
bp.before_request(require_login)

from app.mail_templates import routes  # noqa: E402,F401
