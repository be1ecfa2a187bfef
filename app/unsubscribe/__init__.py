"""Leaving a sender's mailings: ``/unsubscribe/<token>`` (no login: the signed token is the
proof)."""

from flask import Blueprint

bp = Blueprint("unsubscribe", __name__)

from app.unsubscribe import routes  # noqa: E402,F401
