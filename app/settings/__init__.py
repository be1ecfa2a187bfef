"""``/settings``: the signed-in user's API tokens and outgoing webhooks; the language."""

from flask import Blueprint, request
from werkzeug.wrappers import Response

from app.auth import require_login

bp = Blueprint("settings", __name__, url_prefix="/settings")


@bp.before_request
def _signed_in() -> Response | None:
    """Everything here is the signed-in user's, but a visitor may choose a language."""
    return None if request.endpoint == "settings.language" else require_login()


from app.settings import language, tokens, webhooks  # noqa: E402,F401
