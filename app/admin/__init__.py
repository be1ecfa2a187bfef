"""``/admin/``: the operator view, for admin accounts only (everyone else: 404)."""

from flask import Blueprint, Flask, abort, request
from flask_login import current_user

bp = Blueprint("admin", __name__, url_prefix="/admin")


def admins_only() -> None:
    """A page that does not exist for anyone but an admin."""
    if not (current_user.is_authenticated and current_user.is_admin):
        abort(404)


def guard() -> None:
    """Every path under /admin answers 404 to others, whatever the method, the CSRF token
    or the trailing slash: nothing there tells an outsider it exists."""
    prefix = bp.url_prefix or "/admin"
    if request.path == prefix or request.path.startswith(prefix + "/"):
        admins_only()


def install_guard(app: Flask) -> None:
    """Make ``guard`` the app's first ``before_request`` hook: before CSRFProtect's (call
    this before ``csrf.init_app``) and so before routing answers 308 or 405."""
    app.before_request(guard)


bp.before_request(admins_only)

from app.admin import routes  # noqa: E402,F401
