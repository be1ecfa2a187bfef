"""Unsubscribe links: a signed token naming the sending account (by its numeric id, never
its login name) and the address, the URL that carries it, and the RFC 8058 headers every
message gets.

Tokens are signed with ``UNSUBSCRIBE_SECRET`` (and read with its fallbacks), never with
the session key: a leaked ``SECRET_KEY`` forges no link. Tokens of the first format
(``[username, address]`` signed with ``SECRET_KEY``) are still read for links in mail
already sent, but only under the current ``SECRET_KEY``, never a fallback.

Only the app's config and database are needed (no request context), so a worker can call
these once per message; the token is the proof, so the link needs no login.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flask import current_app, g
from itsdangerous import BadData, URLSafeSerializer

from app.extensions import db
from app.models import User

SALT = "mailroom-unsubscribe-v2"
LEGACY_SALT = "mailroom-unsubscribe"
ONE_CLICK = ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")


def _serializer() -> URLSafeSerializer:
    """Signs with UNSUBSCRIBE_SECRET; also reads tokens signed with a key in
    UNSUBSCRIBE_SECRET_FALLBACKS, so links in mail already sent survive a rotation."""
    config = current_app.config
    secret = config.get("UNSUBSCRIBE_SECRET")
    if not secret:
        raise RuntimeError("UNSUBSCRIBE_SECRET is not set: unsubscribe links cannot be signed")
    keys = [*(config.get("UNSUBSCRIBE_SECRET_FALLBACKS") or []), secret]
    return URLSafeSerializer(keys, salt=SALT)  # the last key signs; all of them verify


def _legacy_serializer() -> URLSafeSerializer:
    """The first format's signer: the current SECRET_KEY alone (a fallback may be public)."""
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=LEGACY_SALT)


def _owner_id(owner: str) -> int:
    """The account id of ``owner``, remembered for the app context (a send makes one token
    per message: one query per connection, not per message)."""
    known: dict[str, int] = g.setdefault("unsubscribe_owner_ids", {})
    if owner not in known:
        user_id = db.session.scalar(db.select(User.id).filter_by(username=owner))
        if user_id is None:
            raise LookupError(f"no account named {owner!r}")
        known[owner] = user_id
    return known[owner]


def make_token(owner: str, address: str) -> str:
    """A token that ``address`` may take itself off ``owner``'s mailings."""
    return _serializer().dumps([_owner_id(owner), address.strip().lower()])


def _loads(serializer: URLSafeSerializer, token: str) -> Any:
    try:
        return serializer.loads(token)
    except (BadData, UnicodeError, ValueError):
        return None


def _pair(value: Any, first: type) -> tuple[Any, str] | None:
    """``value`` as ``(first, address)`` when it has that shape (no bool for an int)."""
    if (isinstance(value, list) and len(value) == 2 and type(value[0]) is first
            and value[0] and isinstance(value[1], str) and value[1]):
        return value[0], value[1]
    return None


def read_token(token: str) -> tuple[str, str] | None:
    """``(owner, address)`` from a token we signed, ``owner`` being the account's username;
    None for a tampered, foreign or malformed one, or one whose account is gone."""
    signed = _loads(_serializer(), token)
    if signed is not None:
        pair = _pair(signed, int)
        user = db.session.get(User, pair[0]) if pair and pair[0] > 0 else None
        return (user.username, pair[1]) if pair and user else None
    return _pair(_loads(_legacy_serializer(), token), str)


def _url(token: str) -> str:
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + "/unsubscribe/" + token


def unsubscribe_links(owner: str, address: str) -> tuple[str, list[tuple[str, str]]]:
    """The link and the headers of one message, from one token: the page where ``address``
    leaves ``owner``'s mailings (under PUBLIC_BASE_URL), ``List-Unsubscribe`` (the link,
    plus a mailto: when MAIL_UNSUBSCRIBE_MAILTO is set) and ``List-Unsubscribe-Post`` for
    one-click unsubscribe (RFC 8058)."""
    token = make_token(owner, address)
    link = _url(token)
    targets = [f"<{link}>"]
    mailto = current_app.config.get("MAIL_UNSUBSCRIBE_MAILTO")
    if mailto:  # the subject carries the token: whoever reads that mailbox can read_token it
        targets.append(f"<mailto:{mailto}?subject={quote('unsubscribe ' + token)}>")
    return link, [("List-Unsubscribe", ", ".join(targets)), ONE_CLICK]
