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


def parse_sentinels(text: str) -> list[tuple[str, int]]:
    """``REDIS_SENTINELS`` (``host:port,host:port``; IPv6 as ``[::1]:26379``) as (host,
    port) pairs; ValueError saying what is wrong."""
    found = []
    for item in (part.strip() for part in str(text or "").split(",")):
        if not item:
            continue
        host, sep, port = item.rpartition(":")
        host = host.strip("[]")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"REDIS_SENTINELS: {item!r} is not host:port "
                             "(e.g. 10.0.0.5:26379,10.0.0.6:26379,10.0.0.7:26379)")
        found.append((host, int(port)))
    if not found:
        raise ValueError("REDIS_SENTINELS names no sentinel: expected host:port,host:port,…")
    return found


def check_sentinels(sentinels: list[tuple[str, int]], *, sentinel_password: str | None,
                    password: str | None, tls: bool) -> None:
    """The REDIS_URL policy for Sentinel (ValueError saying why and what to do): a sentinel
    off this machine needs ``REDIS_SENTINEL_PASSWORD`` or TLS (whoever answers as a sentinel
    names the primary every worker obeys), and then the primary it names, wherever it is,
    needs ``REDIS_PASSWORD`` or TLS."""
    if tls:
        return
    remote = [host for host, _ in sentinels if not is_loopback(host)]
    if not remote:
        return
    if not sentinel_password:
        raise ValueError(
            f"REDIS_SENTINELS refused: the sentinel(s) {remote!r} are not on this machine and "
            "REDIS_SENTINEL_PASSWORD is unset. Whoever answers as a sentinel chooses the Redis "
            "every worker takes jobs from; set REDIS_SENTINEL_PASSWORD (Sentinel's "
            "requirepass) or REDIS_SENTINEL_TLS=true.")
    if not password:
        raise ValueError(
            "REDIS_SENTINELS refused: the primary the sentinels name is not known to be on "
            "this machine and REDIS_PASSWORD is unset. Anyone who can write to that Redis can "
            "run code on every worker; set REDIS_PASSWORD (the servers' requirepass) or "
            "REDIS_SENTINEL_TLS=true.")
