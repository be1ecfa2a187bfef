"""The REDIS_URL policy: whoever can write to RQ's Redis can make a worker run code, so an
unauthenticated Redis is accepted only on this machine. Pure: imports nothing of the app."""

from __future__ import annotations

import ipaddress
from urllib.parse import SplitResult, parse_qs, urlsplit

SCHEMES = ("redis", "rediss", "unix")
_HINT = ("set a password (redis://:PASSWORD@host:6379/0, Redis's requirepass or an ACL user) "
         "or use TLS (rediss://)")


def is_loopback(host: str | None) -> bool:
    """True for 127.0.0.0/8, ::1 (also IPv4-mapped), ``localhost`` and no host at all
    (redis-py then connects to localhost)."""
    if not host:
        return True
    if host.lower() == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return False  # any other name may resolve anywhere
    mapped = getattr(address, "ipv4_mapped", None)
    return address.is_loopback or bool(mapped and mapped.is_loopback)


def _has_password(parts: SplitResult) -> bool:
    # redis-py also reads ``?password=…``.
    return bool(parts.password) or any(parse_qs(parts.query).get("password", []))


def check_redis_url(url: str) -> None:
    """ValueError (saying why and what to do) unless ``url`` is a Redis URL that is local
    (loopback or a unix socket), carries a password, or uses TLS."""
    try:
        parts = urlsplit(url) if isinstance(url, str) and "://" in url else None
    except ValueError:
        parts = None
    if parts is None:
        raise ValueError("REDIS_URL is not a Redis URL: expected redis://, rediss:// or unix://")
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise ValueError(f"REDIS_URL has the scheme {scheme!r}: expected redis://, rediss:// "
                         "or unix://")
    if scheme in ("rediss", "unix") or _has_password(parts):
        return
    host = parts.hostname
    if not is_loopback(host):
        raise ValueError(
            f"REDIS_URL refused: Redis on {host!r} is not on this machine and the URL carries "
            "no password. Anyone who can write to that Redis can run code on every worker; "
            f"{_HINT}.")


def limits_storage_url(redis_url: str) -> str:
    """The same server as the ``limits`` library names it (``redis+unix://`` for a socket)."""
    if redis_url.startswith("unix://"):
        return "redis+unix://" + redis_url[len("unix://"):]
    return redis_url
