"""``Mailroom-Signature: t=<unix time>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>``: the
receiver recomputes it over the raw body and refuses an old ``t`` (replays)."""

from __future__ import annotations

import hashlib
import hmac
import secrets

HEADER = "Mailroom-Signature"
SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    """A signing secret for a new hook (shown to its owner once)."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The header's value for ``body`` sent at ``timestamp``."""
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify(secret: str, header: str, body: bytes, now: int, tolerance: int = 300) -> bool:
    """True when ``header`` signs ``body`` with ``secret`` within ``tolerance`` seconds."""
    parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
    if not parts.get("t", "").isdigit() or abs(now - int(parts["t"])) > tolerance:
        return False
    expected = signature(secret, int(parts["t"]), body).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))
