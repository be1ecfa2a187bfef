"""``/admin/``: the operator view, for admin accounts only (everyone else: 404)."""

from flask import Blueprint, abort
from flask_login import current_user

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
def admins_only() -> None:
    """A page that does not exist for anyone but an admin."""
    if not (current_user.is_authenticated and current_user.is_admin):
        abort(404)


from app.admin import routes  # noqa: E402,F401
