"""VERP: every message's envelope sender names its task and recipient, so what comes back to
it says which delivery failed without reading the bounce's prose.

``MAIL_BOUNCE_ADDRESS=bounces@mail.example.com`` makes ``bounces+<token>@mail.example.com``;
the token is ``<task>-<delivery>-<mac>``: the two ids in base 36 and 16 base-32 characters
of an HMAC-SHA256 under SECRET_KEY (read with SECRET_KEY_FALLBACKS too, so a key rotation
does not orphan the bounces of mail already sent). Lower case only: some servers fold the
local part. Nothing here needs a request: the worker and the receiver call it."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Mapping
from typing import Any

SALT = b"mailroom-verp-v1:"
MAC_CHARS = 16  # 80 bits: not guessable, and the whole address stays under 64 characters
_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


def _base36(number: int) -> str:
    if number < 0:
        raise ValueError("ids are positive")
    digits = ""
    while True:
        number, rest = divmod(number, 36)
        digits = _DIGITS[rest] + digits
        if not number:
            return digits


def _mac(key: str | bytes, task_id: int, delivery_id: int) -> str:
    secret = key.encode() if isinstance(key, str) else key
    digest = hmac.new(secret, SALT + f"{task_id}.{delivery_id}".encode(), hashlib.sha256)
    return base64.b32encode(digest.digest()).decode().lower()[:MAC_CHARS]


def _keys(config: Mapping[str, Any]) -> list[str | bytes]:
    return [config["SECRET_KEY"], *(config.get("SECRET_KEY_FALLBACKS") or [])]


def make_token(config: Mapping[str, Any], task_id: int, delivery_id: int) -> str:
    """The token of one delivery, signed with the current SECRET_KEY."""
    mac = _mac(config["SECRET_KEY"], task_id, delivery_id)
    return f"{_base36(task_id)}-{_base36(delivery_id)}-{mac}"


def read_token(config: Mapping[str, Any], token: str) -> tuple[int, int] | None:
    """``(task_id, delivery_id)`` of a token we signed; None for a forged or malformed one."""
    parts = token.strip().lower().split("-")
    if len(parts) != 3 or not all(parts) or len(parts[2]) != MAC_CHARS:
        return None
    try:
        task_id, delivery_id = int(parts[0], 36), int(parts[1], 36)
    except ValueError:
        return None
    for key in _keys(config):
        if hmac.compare_digest(_mac(key, task_id, delivery_id), parts[2]):
            return task_id, delivery_id
    return None


def _split(address: str) -> tuple[str, str]:
    local, _, domain = address.strip().strip("<>").rpartition("@")
    return local, domain.lower()


def envelope_sender(config: Mapping[str, Any], task_id: int, delivery_id: int) -> str | None:
    """``bounces+<token>@domain`` for one delivery; None when MAIL_BOUNCE_ADDRESS is unset."""
    base = config.get("MAIL_BOUNCE_ADDRESS")
    if not base:
        return None
    local, domain = _split(base)
    return f"{local}+{make_token(config, task_id, delivery_id)}@{domain}"


def token_of(config: Mapping[str, Any], address: str) -> str | None:
    """The token part of ``address`` when it has the VERP form of MAIL_BOUNCE_ADDRESS (the
    same local part and domain, any case), else None. The token is not checked here."""
    base = config.get("MAIL_BOUNCE_ADDRESS")
    if not base or "@" not in address:
        return None
    want_local, want_domain = _split(base)
    local, domain = _split(address)
    prefix = want_local.lower() + "+"
    if domain != want_domain or not local.lower().startswith(prefix):
        return None
    return local[len(prefix):] or None


def verp_match(config: Mapping[str, Any], addresses: Iterable[str]) -> tuple[int, int] | None:
    """The first ``(task_id, delivery_id)`` a valid VERP address among ``addresses`` names."""
    for address in addresses:
        token = token_of(config, address)
        found = read_token(config, token) if token else None
        if found is not None:
            return found
    return None
