"""Unsubscribe links: a signed token naming the sending account and the address, the URL
that carries it, and the RFC 8058 headers every message gets.

Only the app's config is needed (no request context), so a worker can call these once per
message; the token is the proof, so the link needs no login.
"""

from __future__ import annotations

from urllib.parse import quote

from flask import current_app
from itsdangerous import BadData, URLSafeSerializer

SALT = "mailroom-unsubscribe"
ONE_CLICK = ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")


def _serializer() -> URLSafeSerializer:
    """Signs with SECRET_KEY; also reads tokens signed with a key in SECRET_KEY_FALLBACKS,
    so links in mail already sent keep working after a key rotation."""
    config = current_app.config
    keys = [*(config.get("SECRET_KEY_FALLBACKS") or []), current_app.secret_key]
    return URLSafeSerializer(keys, salt=SALT)  # the last key signs; all of them verify


def make_token(owner: str, address: str) -> str:
    """A token that ``address`` may take itself off ``owner``'s mailings."""
    return _serializer().dumps([owner, address.strip().lower()])


def read_token(token: str) -> tuple[str, str] | None:
    """``(owner, address)`` from a token we signed; None for a tampered, foreign or
    malformed one."""
    try:
        value = _serializer().loads(token)
    except (BadData, UnicodeError, ValueError):
        return None
    if (isinstance(value, list) and len(value) == 2
            and all(isinstance(part, str) and part for part in value)):
        return value[0], value[1]
    return None


def unsubscribe_url(owner: str, address: str) -> str:
    """The page where ``address`` leaves ``owner``'s mailings, under PUBLIC_BASE_URL."""
    return _url(make_token(owner, address))


def _url(token: str) -> str:
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + "/unsubscribe/" + token


def list_headers(owner: str, address: str) -> list[tuple[str, str]]:
    """``List-Unsubscribe`` (the link, plus a mailto: when MAIL_UNSUBSCRIBE_MAILTO is set)
    and ``List-Unsubscribe-Post`` for one-click unsubscribe (RFC 8058)."""
    return unsubscribe_links(owner, address)[1]


def unsubscribe_links(owner: str, address: str) -> tuple[str, list[tuple[str, str]]]:
    """The link and the headers of one message, from one token (what a sender needs)."""
    token = make_token(owner, address)
    link = _url(token)
    targets = [f"<{link}>"]
    mailto = current_app.config.get("MAIL_UNSUBSCRIBE_MAILTO")
    if mailto:  # the subject carries the token: whoever reads that mailbox can read_token it
        targets.append(f"<mailto:{mailto}?subject={quote('unsubscribe ' + token)}>")
    return link, [("List-Unsubscribe", ", ".join(targets)), ONE_CLICK]
