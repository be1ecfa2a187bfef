"""Sign-in and sign-out."""

from flask import Blueprint

bp = Blueprint("auth", __name__, url_prefix="/auth")

from app.auth import routes  # noqa: E402,F401
from app.auth.routes import require_login  # noqa: E402

__all__ = ["bp", "require_login"]
