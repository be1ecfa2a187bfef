"""A DKIM test key (made at test time with dkimpy's key tool, which runs openssl) and a DNS
lookup that knows only its published record: no network."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from dkim import dknewkey

from app.mail.dkim import dns_record

SELECTOR, DOMAIN = "mailroom", "example.com"


def make_key(path: Path) -> Path:
    """A fresh 2048-bit RSA key at ``path``, made with dkimpy's own key tool."""
    dknewkey.GenRSAKeys(str(path), verbose=False)
    return path


def can_make_keys() -> bool:
    return os.path.exists(dknewkey.OPENSSL_BINARY)


def published(key: bytes) -> Callable[..., bytes]:
    """A DNS lookup that knows only our TXT record, as ``dns_record`` prints it."""
    record = dns_record(key, SELECTOR, DOMAIN)
    name, _, rest = record.partition(" IN TXT ")
    text = "".join(part for part in rest.split('"') if part.strip())  # the strings joined

    def lookup(qname: bytes, timeout: float = 5) -> bytes | None:
        return text.encode() if qname.decode().rstrip(".") == name.rstrip(".") else None

    return lookup


