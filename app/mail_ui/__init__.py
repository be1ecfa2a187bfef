"""The send page: the form, the in-progress and reserved lists, and their controls."""

from flask import Blueprint

from app.auth import require_login

bp = Blueprint("mail_ui", __name__)
bp.before_request(require_login)

from app.mail_ui import routes  # noqa: E402,F401
