"""``/api/v1``: the HTTP API for programs. A second door into the same TaskService as the
send form (same quotas, same ownership); ``Authorization: Bearer <token>`` (a personal
token from /settings/tokens) instead of a session, so CSRF does not apply here and only
here; rate limits per token; errors as problem details (``problems.py``) in the caller's
language (``language.py``)."""

from flask import Blueprint

from app.extensions import csrf

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # no cookie signs a request in here: a forged cross-site post has no token

from app.api import auth, language, openapi, problems, sends  # noqa: E402,F401

__all__ = ["bp"]
